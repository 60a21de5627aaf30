import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { buildZip, fillPlaceholders, findPlaceholders, resolveSettings } from '../../scripts/manifest-lib.mjs';
import { commandRegistry } from '../support/commands.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifestDir = path.join(repoRoot, 'manifest');
const script = path.join(repoRoot, 'scripts', 'package-manifest.mjs');
// The vendors' schemas live beside the repository (DESIGN.md, "Vendor contracts at hand").
const contractsDir = path.resolve(repoRoot, '..', 'shared', 'contracts');
const schemaPath = path.join(contractsDir, 'teams-manifest.schema.json');
const examplesDir = path.join(contractsDir, 'teams-manifest-examples');
const haveSchema = existsSync(schemaPath);
if (!haveSchema) {
  console.warn(`[manifest.test] ${schemaPath} not found: skipping the official Teams manifest schema checks.`);
}

const APP_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const HOST = 'bouncer.example.com';
const COMMANDS = ['kick', 'mute', 'warn', 'ban', 'unban', 'status', 'participants', 'modlog', 'moderators', 'help'];
/** Teams shows at most 10 commands per command list (the schema's maxItems); /help lists every command. */
const MENU_LIMIT = 10;
/**
 * In the registry, left out of the full menu: the least used in a meeting. /unmute does nothing in
 * a Teams meeting (only the person can unmute themselves there); /bind is rarely needed (the first
 * kick joins, and so does a meeting's start); /bans and /unbind are typed when needed.
 */
const NOT_IN_MENU = ['unmute', 'bans', 'lockdown', 'bind', 'unbind', 'case', 'cases', 'reason'];

interface CommandList {
  scopes: string[];
  commands: Array<{ title: string; description?: string }>;
}
interface Manifest {
  manifestVersion: string;
  id: string;
  icons: { color: string; outline: string };
  bots: Array<{
    botId: string;
    scopes: string[];
    supportsCalling?: boolean;
    supportsVideo?: boolean;
    isNotificationOnly?: boolean;
    commandLists: CommandList[];
  }>;
  validDomains: string[];
  webApplicationInfo: { id: string; resource: string };
  authorization: { permissions: { resourceSpecific: Array<{ name: string; type: string }> } };
}

const template = readFileSync(path.join(manifestDir, 'manifest.json'), 'utf8');
const filledText = fillPlaceholders(template, { MicrosoftAppId: APP_ID, PUBLIC_HOST: HOST });
const filled = JSON.parse(filledText) as Manifest;

/** ajv for draft-04, as ../shared/contracts/README.md prescribes. The CJS modules export themselves as `.default` too. */
function draft04Validator(schemaFile: string) {
  const ajv = new Ajv04Module.default({ strict: false, allErrors: true });
  addFormatsModule.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
}

/** Entries of a zip archive, read from its central directory (APPNOTE.TXT), independently of manifest-lib. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThanOrEqual(0);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    expect(zip.readUInt32LE(local)).toBe(0x04034b50);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    expect([0, 8]).toContain(method);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + skip;
  }
  return entries;
}

/** Width, height and colour type from a PNG's IHDR chunk (https://www.w3.org/TR/png/#11IHDR). */
function ihdr(png: Buffer) {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.toString('latin1', 12, 16)).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), colourType: png[25] };
}

/** Runs the real package script in a clean directory (no .env), with only the given Bouncer variables. */
function runScript(cwd: string, vars: Record<string, string>, args: string[]) {
  const env = { ...process.env };
  delete env.MicrosoftAppId;
  delete env.PUBLIC_BASE_URL;
  return spawnSync(process.execPath, [script, ...args], { cwd, env: { ...env, ...vars }, encoding: 'utf8' });
}

describe('Teams manifest template', () => {
  it('has only the {{MicrosoftAppId}} and {{PUBLIC_HOST}} placeholders, and filling them leaves none', () => {
    expect(findPlaceholders(template).sort()).toEqual(['MicrosoftAppId', 'PUBLIC_HOST']);
    expect(filledText).not.toContain('{{');
    expect(filled.id).toBe(APP_ID);
    expect(filled.bots[0]!.botId).toBe(APP_ID);
    expect(filled.webApplicationInfo).toEqual({ id: APP_ID, resource: `api://${HOST}/${APP_ID}` });
    expect(filled.validDomains).toEqual([HOST]);
  });

  it('declares a conversational calling bot in personal, team and group chats', () => {
    const bot = filled.bots[0]!;
    expect(filled.bots).toHaveLength(1);
    expect(bot.scopes.sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(bot).toMatchObject({ supportsCalling: true, supportsVideo: false, isNotificationOnly: false });
    expect(filled.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
  });

  it('lists every command, described, in one command list per scope group covering every bot scope', () => {
    const lists = filled.bots[0]!.commandLists;
    expect(lists.flatMap((l) => l.scopes).sort()).toEqual(['groupChat', 'personal', 'team']);
    for (const list of lists) {
      const titles = list.commands.map((c) => c.title);
      expect(titles).toEqual(COMMANDS);
      expect(titles.length).toBeLessThanOrEqual(MENU_LIMIT);
      // Holds now and after new commands land in the registry: each one must be in the manifest,
      // unless the menu is full and the command is named here as left out.
      const names = commandRegistry.map((c) => c.name);
      for (const name of names) if (!NOT_IN_MENU.includes(name)) expect(titles).toContain(name);
      for (const title of titles) expect(names).toContain(title);
      if (NOT_IN_MENU.length > 0) expect(titles).toHaveLength(MENU_LIMIT);
      for (const { title, description } of list.commands) {
        expect(title.length).toBeLessThanOrEqual(32);
        expect(description?.trim()).toBeTruthy();
      }
    }
  });

  it('asks for the chat/meeting resource-specific permissions the features use, and no media access', () => {
    expect(filled.authorization.permissions.resourceSpecific).toEqual([
      { name: 'OnlineMeetingParticipant.Read.Chat', type: 'Application' },
      { name: 'OnlineMeeting.ReadBasic.Chat', type: 'Application' },
      { name: 'ChatMessage.Read.Chat', type: 'Application' },
      { name: 'Calls.JoinGroupCalls.Chat', type: 'Application' },
      { name: 'OnlineMeetingNotification.Send.Chat', type: 'Application' },
    ]);
  });
});

describe('package helpers', () => {
  it('fillPlaceholders refuses a template placeholder that has no value', () => {
    expect(() => fillPlaceholders('{"id":"{{MicrosoftAppId}}","x":"{{Other}}"}', { MicrosoftAppId: APP_ID })).toThrow(
      /\{\{Other\}\}/,
    );
  });

  it('resolveSettings prefers the environment, treats blanks as unset and reports every problem', () => {
    expect(
      resolveSettings(
        { MicrosoftAppId: APP_ID, PUBLIC_BASE_URL: '' },
        { MicrosoftAppId: '00000000-0000-0000-0000-000000000000', PUBLIC_BASE_URL: `https://${HOST}:443/bot` },
      ),
    ).toEqual({ ok: true, values: { MicrosoftAppId: APP_ID, PUBLIC_HOST: HOST } });
    const bad = resolveSettings({ MicrosoftAppId: 'not-a-guid', PUBLIC_BASE_URL: `http://${HOST}` });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.problems).toEqual([
      expect.stringMatching(/MicrosoftAppId must be a GUID/),
      expect.stringMatching(/PUBLIC_BASE_URL must be an https URL/),
    ]);
  });

  it('buildZip is deterministic and readable as a standard zip', () => {
    const entries = [
      { name: 'a.txt', data: Buffer.from('hello '.repeat(50)) },
      { name: 'b.bin', data: new Uint8Array([0, 1, 2, 255]) },
    ];
    const zip = buildZip(entries);
    expect(buildZip(entries)).toEqual(zip);
    const read = unzip(Buffer.from(zip));
    expect([...read.keys()]).toEqual(['a.txt', 'b.bin']);
    expect(read.get('a.txt')!.toString()).toBe('hello '.repeat(50));
    expect([...read.get('b.bin')!]).toEqual([0, 1, 2, 255]);
  });
});

describe.skipIf(!haveSchema)('official Teams manifest schema v1.19 (../shared/contracts)', () => {
  it('accepts the filled manifest', () => {
    const validate = draft04Validator(schemaPath);
    expect(validate(filled), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('is a real validator: accepts our valid example and rejects every broken one', () => {
    const validate = draft04Validator(schemaPath);
    expect(validate(JSON.parse(readFileSync(path.join(examplesDir, 'manifest.valid.json'), 'utf8')))).toBe(true);
    const broken = readdirSync(examplesDir).filter((f) => f.startsWith('manifest.broken.'));
    expect(broken).toContain('manifest.broken.title-too-long.json');
    for (const file of broken) {
      expect(validate(JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8'))), file).toBe(false);
    }
  });
});

describe('npm run package (scripts/package-manifest.mjs)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bouncer-package-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes a zip with manifest.json (ids filled in) and both icons at their Teams sizes', () => {
    const out = path.join(tmp, 'app.zip');
    const run = runScript(tmp, { MicrosoftAppId: APP_ID, PUBLIC_BASE_URL: `https://${HOST}` }, ['--out', out]);
    expect(run.status, run.stderr).toBe(0);

    const entries = unzip(readFileSync(out));
    expect([...entries.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const text = entries.get('manifest.json')!.toString('utf8');
    expect(text).not.toContain('{{');
    const manifest = JSON.parse(text) as Manifest;
    expect(manifest.id).toBe(APP_ID);
    expect(manifest.bots[0]!.botId).toBe(APP_ID);
    expect(manifest.validDomains).toEqual([HOST]);
    if (haveSchema) expect(draft04Validator(schemaPath)(manifest)).toBe(true);

    expect(ihdr(entries.get('color.png')!)).toMatchObject({ width: 192, height: 192 });
    // Outline: white on transparent, so it needs an alpha channel (colour type 6 = RGBA).
    expect(ihdr(entries.get('outline.png')!)).toEqual({ width: 32, height: 32, colourType: 6 });
  });

  it('exits 1 with a clear message, writing nothing, when MicrosoftAppId is missing', () => {
    const out = path.join(tmp, 'missing-id.zip');
    const run = runScript(tmp, { PUBLIC_BASE_URL: `https://${HOST}` }, ['--out', out]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('MicrosoftAppId is not set');
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 when PUBLIC_BASE_URL is not https', () => {
    const run = runScript(tmp, { MicrosoftAppId: APP_ID, PUBLIC_BASE_URL: `http://${HOST}` }, ['--out', path.join(tmp, 'x.zip')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('PUBLIC_BASE_URL must be an https URL');
  });
});
