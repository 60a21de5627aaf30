import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/app/commands/parse-command.js';
import { commandRegistry } from '../support/commands.js';

const parse = (text: string) => parseCommand({ text, mentions: [] }, commandRegistry);

describe('/kick targets other than mentions', () => {
  it.each([
    ['/kick +15551234567', { target: { kind: 'phone', number: '+15551234567' }, reason: undefined }],
    ['/kick +15551234567 shouting at everyone', { target: { kind: 'phone', number: '+15551234567' }, reason: 'shouting at everyone' }],
    ['/kick label:Guest 3', { target: { kind: 'label', label: 'Guest 3' }, reason: undefined }],
    ['/kick label:"Guest #3" spam', { target: { kind: 'label', label: 'Guest #3' }, reason: 'spam' }],
    ["/kick label:'Zoë ☎'", { target: { kind: 'label', label: 'Zoë ☎' }, reason: undefined }],
    [`/kick CA${'AB'.repeat(16)} loud`, { target: { kind: 'participant', participantId: `CA${'ab'.repeat(16)}` }, reason: 'loud' }],
  ])('%s', (text, args) => {
    expect(parse(text)).toMatchObject({ ok: true, args });
  });

  it.each(['/kick 5551234567', '/kick +0123', '/kick label:', '/kick someone'])('%s has no target', (text) => {
    expect(parse(text)).toEqual({ ok: false, problem: { kind: 'no_target', command: 'kick' } });
  });

  it('refuses a label with a slash', () => {
    expect(parse('/kick label:a/b')).toEqual({ ok: false, problem: { kind: 'invalid_label', label: 'a/b', why: 'slash' } });
  });

  it('/bind takes an optional twilio conference; anything else shows the usage', () => {
    expect(parse('/bind')).toMatchObject({ ok: true, args: {} });
    expect(parse('/bind twilio Support bridge')).toMatchObject({ ok: true, args: { target: { kind: 'named', provider: 'twilio', idOrName: 'Support bridge' } } });
    expect(parse('/bind zoom')).toMatchObject({ ok: false, problem: { kind: 'bad_arguments', command: 'bind' } });
  });
});
