import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';
import { playgroundConfig, SANDBOX } from './seed.js';
import { makeLocalTlsIdentity } from './tls.js';

/**
 * `npm run playground`: Bouncer in sandbox mode, its sandbox (local Graph, Twilio and Teams
 * meeting servers) and the Microsoft 365 Agents Playground as the chat client, until Ctrl-C.
 *
 * Bouncer runs as its own process, exactly as `npm start` runs it, with an environment built
 * from scratch (no .env, nothing inherited that could point it at a real tenant).
 */

const PLAYGROUND_PACKAGE = '@microsoft/m365agentsplayground';
// This file runs as build/sandbox/playground.js (or as tools/sandbox/playground.ts): two levels below the repository.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Bouncer as `npm run build` compiles it: the service alone, exactly what `npm start` runs. */
const bouncerMain = path.join(repoRoot, 'dist', 'main.js');
const say = (line = '') => process.stdout.write(`${line}\n`);

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** The last lines it printed, shown when it fails. */
  tail: string[];
}

async function main(): Promise<number> {
  const env = process.env;
  const bouncerPort = await freePort(Number(env.PORT ?? 3978));
  const playgroundPort = Number(env.PLAYGROUND_PORT ?? 56150);
  const logLevel = env.LOG_LEVEL ?? 'info';

  const playgroundCli = resolvePlaygroundCli();
  if (!playgroundCli) {
    process.stderr.write(
      `The Agents Playground (${PLAYGROUND_PACKAGE}) is not installed. It is a dev dependency: run \`npm ci\` (without --omit=dev) and try again.\n`,
    );
    return 1;
  }
  if (!existsSync(bouncerMain)) {
    process.stderr.write(`Bouncer is not built (${bouncerMain} is missing): run \`npm run build\`, or start this with \`npm run playground\`.\n`);
    return 1;
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-sandbox-'));
  const children: Child[] = [];
  let sandbox: RunningSandbox | undefined;
  let stopping = false;

  const stop = async (code: number): Promise<number> => {
    if (stopping) return code;
    stopping = true;
    // Playground first (it talks to Bouncer), then Bouncer, then the servers they both use.
    for (const child of [...children].reverse()) await stopChild(child);
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
    say('Stopped: the Playground, Bouncer and the sandbox are down, and the sandbox state is deleted.');
    return code;
  };

  const interrupted = new Promise<number>((resolve) => {
    let seen = false;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      // npm passes a terminal's Ctrl-C on as well, so the same stop may arrive twice: once is enough.
      process.on(signal, () => {
        if (seen) return;
        seen = true;
        say(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: shutting down…`);
        resolve(0);
      });
    }
  });

  try {
    say('Starting the Bouncer sandbox: nothing here talks to a real tenant, phone or Microsoft service.');
    const tls = await makeLocalTlsIdentity();
    const certFile = path.join(dir, 'sandbox-ca.pem');
    writeFileSync(certFile, tls.cert);
    const bouncerUrl = `http://127.0.0.1:${bouncerPort}`;
    sandbox = await startSandbox({ tls, bouncerUrl, databaseFile: path.join(dir, 'bouncer.sqlite') });

    const bouncer = startChild('bouncer', process.execPath, ['--disable-warning=DEP0111', bouncerMain], {
      cwd: dir,
      env: {
        // Only what a process needs to run: nothing from the shell that could reach a real service.
        ...pick(env, ['PATH', 'Path', 'SystemRoot', 'TMPDIR', 'TEMP', 'TMP']),
        HOME: env.HOME ?? dir,
        NODE_EXTRA_CA_CERTS: certFile,
        HOST: '127.0.0.1',
        PORT: String(bouncerPort),
        LOG_LEVEL: logLevel,
        ...sandbox.bouncerEnv,
      },
      format: bouncerLogLine,
    });
    children.push(bouncer);
    const healthy = await Promise.race([waitForHealth(`${bouncerUrl}/healthz`), bouncer.exited.then(() => false)]);
    if (!healthy) throw new ChildFailed(bouncer, 'Bouncer did not start');

    const configFile = path.join(dir, 'playground.yml');
    writeFileSync(configFile, JSON.stringify(playgroundConfig(), null, 2));
    let announce: (port: number) => void = () => undefined;
    const listening = new Promise<number>((resolve) => (announce = resolve));
    const playground = startChild(
      'playground',
      process.execPath,
      [playgroundCli, '--app-endpoint', sandbox.messagesUrl, '--channel-id', 'msteams', '--port', String(playgroundPort), '--disable-telemetry'],
      {
        cwd: dir,
        env: {
          ...env,
          TEAMSAPPTESTER_BROWSER: 'none',
          M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
          M365_AGENTS_PLAYGROUND_LOGFILE: path.join(dir, 'playground.log'),
        },
        format: (line) => {
          const port = /Listening on (\d+)/.exec(line)?.[1];
          if (port) announce(Number(port));
          return `[playground] ${line}`;
        },
      },
    );
    children.push(playground);
    const port = await Promise.race([listening, playground.exited.then(() => undefined), timeout(60_000)]);
    if (!port) throw new ChildFailed(playground, 'The Agents Playground did not start');

    banner(`http://localhost:${port}`, sandbox.stateUrl, bouncerUrl);

    const failed = Promise.race(
      children.map((c) => c.exited.then((code) => ({ child: c, code }))),
    ).then(({ child, code }) => {
      if (stopping) return 0;
      process.stderr.write(`\n${child.name} stopped on its own (exit ${code}):\n${child.tail.join('\n')}\n`);
      return 1;
    });
    return await stop(await Promise.race([interrupted, failed]));
  } catch (err) {
    if (err instanceof ChildFailed) {
      process.stderr.write(`\n${err.message}. Its last words:\n${err.child.tail.join('\n')}\n`);
    } else {
      process.stderr.write(`\nThe sandbox could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return stop(1);
  }
}

function banner(playgroundUrl: string, stateUrl: string, bouncerUrl: string): void {
  const organizer = SANDBOX.people.find((p) => p.role === 'Organizer')!;
  const target = SANDBOX.people.find((p) => p.role === 'Presenter')!;
  const rule = '='.repeat(78);
  say();
  say(rule);
  say('  BOUNCER SANDBOX: simulated Teams meeting call and Twilio conference');
  say(rule);
  say(`  Open the Agents Playground: ${playgroundUrl}`);
  say();
  say(`  You are ${organizer.name}, organizer of "${SANDBOX.meeting.title}". In its group chat`);
  say(`  ("${SANDBOX.meeting.title} (meeting chat)"), mention the bot as in Teams (type @ and pick):`);
  const rows: Array<[string, string]> = [
    ['/bind', "Bouncer joins the meeting's call"],
    ['/participants', 'who is in it, with Remove buttons'],
    [`/kick @${target.name}`, 'removes her from the call'],
    [`/ban @${target.name} for 1h`, 'removes her and keeps her out: press Rejoin on the state page'],
    [`/bind twilio ${SANDBOX.twilio.conference}`, 'the phone conference instead; then /kick label:Guest 1'],
    ['/modlog', 'the audit log (/help for the rest)'],
  ];
  const width = Math.max(...rows.map(([command]) => command.length));
  for (const [command, what] of rows) say(`      @${SANDBOX.botName} ${command.padEnd(width)}   ${what}`);
  say();
  say(`  Sandbox state (who is in the call right now): ${stateUrl}`);
  say('  Rejoin: on that page, a removed person has a Rejoin button that makes them try to');
  say("  come back, as Teams' Rejoin or a new call would; a ban removes them again at once.");
  say(`  Bouncer itself: ${bouncerUrl}/healthz`);
  say('  Ctrl-C stops everything; each run starts from the same meeting.');
  say(rule);
  say();
}

class ChildFailed extends Error {
  constructor(
    readonly child: Child,
    message: string,
  ) {
    super(message);
  }
}

function startChild(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; format: (line: string) => string | undefined },
): Child {
  // Its own process group: a terminal's Ctrl-C reaches this process, which stops the children in order.
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const tail: string[] = [];
  const onData = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 30) tail.shift();
        const shown = options.format(line);
        if (shown !== undefined) say(shown);
      }
    });
  };
  onData(child.stdout!);
  onData(child.stderr!);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', (err) => {
      tail.push(String(err));
      resolve(null);
    });
  });
  return { name, process: child, exited, tail };
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), timeout(5_000).then(() => false)]);
  if (!done) {
    say(`[${child.name}] did not stop within 5 s; killing it`);
    child.process.kill('SIGKILL');
    await child.exited;
  }
}

/** Bouncer's pino lines, shortened for a terminal: level, message and the interesting fields. */
function bouncerLogLine(line: string): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `[bouncer] ${line}`;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = entry;
  if (msg === 'request') return undefined;
  const names: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  const detail = Object.entries(fields)
    .flatMap(([k, v]) => {
      if (v === undefined || v === null) return [];
      if (typeof v !== 'object') return [`${k}=${String(v)}`];
      // An error object: its message is what a person at a terminal needs.
      const message = (v as { message?: unknown }).message;
      return typeof message === 'string' ? [`${k}=${JSON.stringify(message)}`] : [];
    })
    .join(' ');
  return `[bouncer] ${names[level as number] ?? level} ${String(msg ?? '')}${detail ? `  ${detail}` : ''}`;
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]!]])));
}

function resolvePlaygroundCli(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(`${PLAYGROUND_PACKAGE}/cli.js`);
  } catch {
    return undefined;
  }
}

async function waitForHealth(url: string): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // Not listening yet.
    }
    await timeout(200);
  }
  return false;
}


function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
