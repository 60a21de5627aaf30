// Pure helpers behind `npm run package` (scripts/package-manifest.mjs): settings, placeholders,
// checks and the zip writer. Types for the tests are in manifest-lib.d.mts.
import { Buffer } from 'node:buffer';
import { crc32, deflateRawSync } from 'node:zlib';

const GUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g;

/** The icon files the manifest names, and the sizes Teams requires of them. */
export const ICON_SIZES = Object.freeze({ color: 192, outline: 32 });

/** Schema file in ../shared/contracts for each manifestVersion we can check against. */
export const SCHEMA_FILES = Object.freeze({
  '1.19': 'teams-manifest.schema.json',
  '1.29': 'teams-manifest.v1.29.schema.json',
});

/** Whether `value` is a GUID (the form of app ids and bot ids in the manifest). */
export function isGuid(value) {
  return typeof value === 'string' && GUID.test(value);
}

/**
 * Works out the package settings from the environment and the parsed .env file; the environment
 * wins, and a blank value counts as unset. Returns every problem at once, or the values, where
 * `PUBLIC_HOST` is the host name of PUBLIC_BASE_URL.
 */
export function resolveSettings(env, dotenv = {}) {
  const pick = (name) => {
    for (const source of [env, dotenv]) {
      const value = source[name]?.trim();
      if (value) return value;
    }
    return undefined;
  };
  const problems = [];
  const appId = pick('MicrosoftAppId');
  if (appId === undefined) {
    problems.push("MicrosoftAppId is not set: set it (in the environment or in .env) to the bot's Microsoft App ID.");
  } else if (!isGuid(appId)) {
    problems.push(`MicrosoftAppId must be a GUID such as 00000000-0000-0000-0000-000000000000, not "${appId}".`);
  }
  const baseUrl = pick('PUBLIC_BASE_URL');
  let host;
  if (baseUrl === undefined) {
    problems.push('PUBLIC_BASE_URL is not set: set it (in the environment or in .env) to the https URL Bouncer is reached at.');
  } else {
    let url;
    try {
      url = new URL(baseUrl);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== 'https:' || url.hostname === '') {
      problems.push(`PUBLIC_BASE_URL must be an https URL such as https://bouncer.contoso.com, not "${baseUrl}".`);
    } else {
      host = url.hostname;
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, values: { MicrosoftAppId: appId, PUBLIC_HOST: host } };
}

/** The distinct `{{Name}}` placeholders left in `text`, in order of appearance. */
export function findPlaceholders(text) {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/**
 * Replaces every `{{Name}}` in the manifest template with `values[Name]` (JSON-escaped, since the
 * template is JSON text). Throws if the template uses a placeholder that has no value.
 */
export function fillPlaceholders(template, values) {
  const missing = findPlaceholders(template).filter((name) => typeof values[name] !== 'string');
  if (missing.length > 0) throw new Error(`No value for the placeholder(s) ${missing.map((n) => `{{${n}}}`).join(', ')}`);
  return template.replace(PLACEHOLDER, (_match, name) => JSON.stringify(values[name]).slice(1, -1));
}

/** Width and height from a PNG's IHDR chunk, or undefined if `bytes` is not a PNG. */
export function pngSize(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signature = '89504e470d0a1a0a';
  if (b.length < 24 || b.toString('hex', 0, 8) !== signature || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/**
 * Checks a filled manifest without the official schema: valid JSON, no placeholder left, GUID
 * ids, and icons that are PNGs of the required size. `files` maps file names to their bytes.
 * Returns the problems found (empty when fine).
 */
export function checkFilledManifest(text, files) {
  const left = findPlaceholders(text);
  if (left.length > 0) return [`placeholders left unfilled: ${left.map((n) => `{{${n}}}`).join(', ')}`];
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    return [`manifest.json is not valid JSON: ${error.message}`];
  }
  const problems = [];
  for (const [where, value] of [
    ['id', manifest.id],
    ['bots[0].botId', manifest.bots?.[0]?.botId],
    ['webApplicationInfo.id', manifest.webApplicationInfo?.id],
  ]) {
    if (!isGuid(value)) problems.push(`${where} is not a GUID`);
  }
  for (const [kind, size] of Object.entries(ICON_SIZES)) {
    const name = manifest.icons?.[kind];
    const bytes = typeof name === 'string' ? files[name] : undefined;
    const actual = bytes && pngSize(bytes);
    if (!actual) problems.push(`icons.${kind} (${name}) is not a PNG file beside manifest.json`);
    else if (actual.width !== size || actual.height !== size) {
      problems.push(`icons.${kind} (${name}) is ${actual.width}×${actual.height}; Teams requires ${size}×${size}`);
    }
  }
  return problems;
}

/**
 * Validates a manifest against an official Teams manifest JSON schema (draft-04), the way the
 * tests do: ajv-draft-04 + ajv-formats, strict: false. Loads ajv lazily, so this module works
 * where the dev dependencies are not installed. Returns a function giving the error list.
 */
export async function createManifestValidator(schema) {
  const { default: Ajv04 } = await import('ajv-draft-04');
  const { default: addFormats } = await import('ajv-formats');
  const ajv = new Ajv04({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (manifest) =>
    validate(manifest) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

// 1980-01-01 00:00, the MS-DOS epoch: a fixed timestamp makes the zip reproducible.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * Builds a zip archive (deflate, no directories, no zip64) holding `entries` at its root, per
 * PKWARE's APPNOTE.TXT. Same input, same bytes.
 */
export function buildZip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const compressed = deflateRawSync(raw, { level: 9 });
    const crc = crc32(raw);
    const utf8Flag = /^[\x20-\x7e]*$/.test(name) ? 0 : 0x0800;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(utf8Flag, 6);
    local.writeUInt16LE(8, 8); // method: deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by: 2.0, MS-DOS attributes
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(utf8Flag, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk number, internal and external attributes stay zero
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);

    offset += local.length + nameBytes.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}
