// `npm run package [-- --out <file>]`: builds the installable Teams app package (a zip holding
// manifest.json and its two icons) from manifest/, filling in the bot's app id and public host.
// Reads MicrosoftAppId and PUBLIC_BASE_URL from the environment or from ./.env (the environment
// wins). Checks the result, against the official schema when ../shared/contracts/ is present.
import { Buffer } from 'node:buffer';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseEnv } from 'node:util';
import {
  buildZip,
  checkFilledManifest,
  createManifestValidator,
  fillPlaceholders,
  resolveSettings,
  SCHEMA_FILES,
} from './manifest-lib.mjs';

// Located from this file, so the script works from any working directory.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const manifestDir = path.join(repoRoot, 'manifest');
const contractsDir = path.resolve(repoRoot, '..', 'shared', 'contracts');
const defaultOut = path.join(repoRoot, 'dist', 'bouncer-teams-app.zip');

const USAGE = 'usage: npm run package [-- --out <file.zip>]';

function fail(problems) {
  console.error(['Cannot build the Teams app package:', ...problems.map((p) => `  - ${p}`)].join('\n'));
  return 1;
}

/** Icon file names the manifest refers to: plain names of files beside manifest.json. */
function iconNames(text) {
  let icons;
  try {
    icons = JSON.parse(text).icons;
  } catch {
    return []; // checkFilledManifest reports the broken JSON
  }
  return Object.values(icons ?? {}).filter(
    (name) => typeof name === 'string' && path.basename(name) === name && existsSync(path.join(manifestDir, name)),
  );
}

async function schemaCheck(manifest) {
  const schemaFile = SCHEMA_FILES[manifest.manifestVersion];
  const schemaPath = schemaFile && path.join(contractsDir, schemaFile);
  if (!schemaPath || !existsSync(schemaPath)) {
    return { problems: [], note: `no official schema for manifest v${manifest.manifestVersion} at ${contractsDir}: checked JSON, ids, placeholders and icons only` };
  }
  let validate;
  try {
    validate = await createManifestValidator(JSON.parse(readFileSync(schemaPath, 'utf8')));
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return { problems: [], note: 'ajv-draft-04 / ajv-formats are not installed (run npm install): skipped the schema check' };
  }
  const problems = validate(manifest).map((e) => `manifest.json does not match ${schemaFile}: ${e}`);
  return { problems, note: `manifest.json validates against ${schemaPath}` };
}

async function main() {
  let args;
  try {
    args = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (error) {
    console.error(`${error.message}\n${USAGE}`);
    return 1;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }

  const envFile = path.resolve('.env');
  const dotenv = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  const settings = resolveSettings(process.env, dotenv);
  if (!settings.ok) return fail(settings.problems);

  const text = fillPlaceholders(readFileSync(path.join(manifestDir, 'manifest.json'), 'utf8'), settings.values);
  const icons = Object.fromEntries(iconNames(text).map((name) => [name, readFileSync(path.join(manifestDir, name))]));
  const problems = checkFilledManifest(text, icons);
  if (problems.length > 0) return fail(problems);

  const manifest = JSON.parse(text);
  const schema = await schemaCheck(manifest);
  if (schema.problems.length > 0) return fail(schema.problems);
  console.log(schema.note);

  const zip = buildZip([
    { name: 'manifest.json', data: Buffer.from(text, 'utf8') },
    ...Object.entries(icons).map(([name, data]) => ({ name, data })),
  ]);
  const out = args.out ? path.resolve(args.out) : defaultOut;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, zip);
  console.log(
    `wrote ${out} (${zip.length} bytes): manifest.json, ${Object.keys(icons).join(', ')} for app ${settings.values.MicrosoftAppId} at ${settings.values.PUBLIC_HOST}`,
  );
  return 0;
}

process.exitCode = await main();
