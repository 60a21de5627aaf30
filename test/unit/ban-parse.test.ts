import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/app/commands/parse-command.js';
import { commandRegistry } from '../support/commands.js';

const mallory = { chatId: '29:mallory', displayName: 'Mallory' };
const parse = (text: string, mentions = [mallory]) => parseCommand({ text, mentions }, commandRegistry);
const H = 3600_000;

describe('/ban', () => {
  it.each([
    ['/ban', { durationMs: undefined, reason: undefined, everywhere: false }],
    ['/ban for 30m', { durationMs: 30 * 60_000, reason: undefined }],
    ['/ban for 2h spamming the chat', { durationMs: 2 * H, reason: 'spamming the chat' }],
    ['/ban for 2 hours spam', { durationMs: 2 * H, reason: 'spam' }],
    ['/ban 7d raid', { durationMs: 7 * 24 * H, reason: 'raid' }],
    ['/ban FOR 1W', { durationMs: 7 * 24 * H }],
    ['/ban for 365d', { durationMs: 365 * 24 * H }],
    ['/ban for spamming', { durationMs: undefined, reason: 'for spamming' }],
    ['/ban 3 times in a row', { durationMs: undefined, reason: '3 times in a row' }],
    ['/ban --everywhere for 1d raid', { durationMs: 24 * H, reason: 'raid', everywhere: true }],
    ['/ban for 1d raid --EVERYWHERE', { durationMs: 24 * H, reason: 'raid', everywhere: true }],
  ])('%s (a mention)', (text, args) => {
    expect(parse(text)).toMatchObject({ ok: true, args: { target: { kind: 'mention', chatId: '29:mallory' }, ...args } });
  });

  it.each([
    ['/ban +15551234567 for 2h shouting', { target: { kind: 'phone', number: '+15551234567' }, durationMs: 2 * H, reason: 'shouting' }],
    ['/ban label:"Guest #3" 30m', { target: { kind: 'label', label: 'Guest #3' }, durationMs: 30 * 60_000 }],
    [`/ban CA${'ab'.repeat(16)}`, { target: { kind: 'participant', participantId: `CA${'ab'.repeat(16)}` } }],
  ])('%s', (text, args) => {
    expect(parse(text, [])).toMatchObject({ ok: true, args });
  });

  it.each([
    ['/ban for 0m', '0m'],
    ['/ban for 366d', '366d'],
    ['/ban for 10y', '10y'],
    ['/ban for 2 fortnights', '2 fortnights'],
  ])('%s is a length it refuses, not a reason', (text, given) => {
    expect(parse(text)).toEqual({ ok: false, problem: { kind: 'invalid_duration', text: given, maxDays: 365 } });
  });

  it('needs a target', () => {
    expect(parse('/ban for 2h', [])).toEqual({ ok: false, problem: { kind: 'no_target', command: 'ban' } });
    expect(parse('/ban', [mallory, { chatId: '29:trudy', displayName: 'Trudy' }])).toMatchObject({ ok: false, problem: { kind: 'several_targets', command: 'ban' } });
  });
});

describe('/unban and /bans', () => {
  it('/unban takes a case number, a mention, a number or a label', () => {
    expect(parse('/unban 42', [])).toMatchObject({ ok: true, args: { ban: { kind: 'case', caseId: 42 } } });
    expect(parse('/unban #42 forgiven', [])).toMatchObject({ ok: true, args: { ban: { kind: 'case', caseId: 42 }, reason: 'forgiven' } });
    expect(parse('/unban')).toMatchObject({ ok: true, args: { ban: { kind: 'target', target: { kind: 'mention', chatId: '29:mallory' } } } });
    expect(parse('/unban +15551234567', [])).toMatchObject({ ok: true, args: { ban: { kind: 'target', target: { kind: 'phone', number: '+15551234567' } } } });
    expect(parse('/unban label:Guest 3', [])).toMatchObject({ ok: true, args: { ban: { kind: 'target', target: { kind: 'label', label: 'Guest 3' } } } });
    expect(parse('/unban', [])).toEqual({ ok: false, problem: { kind: 'no_target', command: 'unban' } });
    expect(parse(`/unban CA${'ab'.repeat(16)}`, [])).toMatchObject({ ok: false, problem: { kind: 'bad_arguments', command: 'unban' } });
  });

  it('/bans takes nothing', () => {
    expect(parse('/bans', [])).toMatchObject({ ok: true, args: {} });
    expect(parse('/bans all', [])).toMatchObject({ ok: false, problem: { kind: 'bad_arguments', command: 'bans' } });
  });
});
