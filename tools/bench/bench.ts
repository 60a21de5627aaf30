import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort } from '../sandbox/ports.js';
import { makeLocalTlsIdentity } from '../sandbox/tls.js';
import { BenchWorld } from './bench-world.js';
import { concurrentFirstKicks, INJECTED_LATENCY_MS, roundTrips, type RoundTrips } from './chat.js';
import { sleep, type BenchContext } from './context.js';
import { interleavedTargets, measureKicks, seedBigCall, seedSmallCalls, spreadTargets, type KickRun } from './kicks.js';
import { benchDatabaseUrl, openLedger, type Ledger } from './ledger.js';
import { percentile, runLoad } from './load.js';
import { meterCpu, startNode, tail, waitForHealthy, type Child, type CpuShare } from './processes.js';
import { profileBench } from './self-profile.js';
import { RAID_FLOOR_MS, RAIDERS, raid, REMOVALS_PER_SECOND } from './raid.js';
import { machine, ms, num, table, type Check, type Row } from './report.js';
import { BIG_NOTIFICATION_PEOPLE, rosterStall } from './stall.js';

/**
 * `npm run bench`: Bouncer as `node dist/main.js` against the sandbox's local protocol servers,
 * measured and checked; prints one markdown table and the machine it ran on. A benchmark, not a
 * test: a missed target is printed (✗), never a failure; a failed correctness check (a lost kick,
 * a DELETE too many) is, and makes the exit status 1.
 *
 *   npm run bench [-- --database=<DATABASE_URL>] [--instances=<n>] [--only=kicks] [--cpu-prof=<dir>] [--bench-cpu-prof=<dir>] [--no-notice]
 *   npm run bench -- --compare-stores=<postgres:// URL>
 *
 * `--database` runs Bouncer on that (empty) database instead of a new SQLite file; `--instances`
 * starts that many Bouncers on it (PostgreSQL only), the webhook kicks spread over them.
 * `--compare-stores` measures only the webhook kicks at a roster of 100, three times in one run (on
 * a new SQLite file; on a new schema of that PostgreSQL database; there again with two instances),
 * and prints them in one table.
 * `--only=kicks` measures the webhook kicks per second alone (and checks them); `--cpu-prof`
 * has each Bouncer write a V8 CPU profile into that directory when it stops; `--bench-cpu-prof` has
 * the bench profile its own process (load generator, protocol servers) over each measured kick run
 * and the ceiling run, one file each, into that directory. `--no-notice` runs
 * Bouncer with NOTIFY_REMOVED=false (no private notice before a removal, so a chat kick's round
 * trips are those of the lookups and the removal alone).
 */

/** Load generator connections (keep-alive), for Bouncer and for the restify ceiling alike. */
const CONCURRENCY = 64;
/** Each kick run stops starting kicks after this long, or when its targets run out. */
const KICK_RUN_MS = 5_000;
/** Targets per kick run: at most this many kicks. */
const KICKS_PER_RUN = 4_000;
const SMALL_ROSTER = 100;
const BIG_ROSTER = 20_000;
/** Kicks per call of SMALL_ROSTER people: the roster stays near its size (100 → 80). */
const KICKS_PER_SMALL_CALL = 20;
/** Kicks before a --compare-stores run, on calls of their own (JIT, caches, connections). */
const WARM_UP_KICKS = 200;
/**
 * Kicks before the two measured kick rows, on both of their shapes: on calls of SMALL_ROSTER of
 * their own, then on people of the big call whom the measured row does not kick. Whichever row came
 * first after a short warm-up paid for the process warming up (V8's background compilation, 2–4
 * times the other threads' CPU per kick) and was 20–30 % dearer, whatever its shape.
 */
const WARM_UP_SMALL_KICKS = 2_000;
const WARM_UP_BIG_KICKS = 1_000;
const CEILING_RUN_MS = 3_000;
const IDLE_MS = 2_000;
const FIRST_KICKS = 100;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bouncerMain = path.join(repoRoot, 'dist', 'main.js');
const ceilingMain = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ceiling-server.js');
const benchStart = performance.now();
const USAGE =
  'Usage: npm run bench [-- --database=<DATABASE_URL>] [--instances=<1-4>, with a postgres:// database] [--only=kicks] [--cpu-prof=<dir>] [--bench-cpu-prof=<dir>] [--no-notice]\n' +
  '       npm run bench -- --compare-stores=<postgres:// URL>   (webhook kicks/s: SQLite, PostgreSQL, PostgreSQL with two instances)';
const progress = (line: string) => process.stderr.write(`[bench ${((performance.now() - benchStart) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const option = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const compareArg = option('compare-stores');
  if (compareArg !== undefined) {
    const others = argv.filter((a) => !a.startsWith('--compare-stores='));
    if (others.length > 0 || !/^postgres(ql)?:\/\//i.test(compareArg)) {
      process.stderr.write(`--compare-stores takes a postgres:// URL and nothing else\n${USAGE}\n`);
      return 2;
    }
    if (!existsSync(bouncerMain)) {
      process.stderr.write(`Bouncer is not built (${bouncerMain} is missing): run \`npm run bench\`, which builds it first.\n`);
      return 2;
    }
    return compareStores(compareArg);
  }
  const databaseArg = option('database');
  const instancesArg = option('instances') ?? '1';
  const onlyKicks = option('only') === 'kicks';
  const cpuProfDir = option('cpu-prof');
  const benchCpuProfDir = option('bench-cpu-prof');
  const noNotice = argv.includes('--no-notice');
  const unknown = argv.filter((a) => !/^--(database|instances|cpu-prof|bench-cpu-prof)=/.test(a) && a !== '--only=kicks' && a !== '--no-notice');
  const instances = Number(instancesArg);
  if (unknown.length > 0 || !Number.isInteger(instances) || instances < 1 || instances > 4) {
    process.stderr.write(`${unknown.length > 0 ? `Unknown argument(s): ${unknown.join(' ')}` : '--instances must be 1 to 4'}\n${USAGE}\n`);
    return 2;
  }
  if (instances > 1 && !/^postgres(ql)?:\/\//i.test(databaseArg ?? '')) {
    process.stderr.write(`Several instances share one PostgreSQL database (an SQLite file has one writer): add --database=postgres://…\n${USAGE}\n`);
    return 2;
  }
  if (!existsSync(bouncerMain)) {
    process.stderr.write(`Bouncer is not built (${bouncerMain} is missing): run \`npm run bench\`, which builds it first.\n`);
    return 2;
  }

  let databaseUrl: string | undefined;
  try {
    // Bouncer runs in a directory of its own: a relative SQLite path is made absolute here.
    databaseUrl = databaseArg === undefined ? undefined : benchDatabaseUrl(databaseArg, process.cwd());
  } catch (err) {
    process.stderr.write(`--database=${redactUrl(databaseArg ?? '')}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-bench-'));
  databaseUrl ??= benchDatabaseUrl(path.join(dir, 'bouncer.sqlite'), dir);
  // A PostgreSQL schema the bench named for this run is dropped afterwards, unless a check failed.
  const ownSchema = databaseArg !== undefined && databaseUrl !== databaseArg && /^postgres(ql)?:/i.test(databaseUrl);
  let ledger: Ledger | undefined;
  const children: Child[] = [];
  // Whatever ends this process (a crash, Ctrl-C), Bouncer and the ceiling server end with it.
  process.once('exit', () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  let world: BenchWorld | undefined;
  let keepDir = false;
  try {
    progress('starting the local protocol servers');
    const tls = await makeLocalTlsIdentity();
    const certFile = path.join(dir, 'local-ca.pem');
    writeFileSync(certFile, tls.cert);
    world = await BenchWorld.start(tls);

    const started = await startBouncers({ world, dir, certFile, databaseUrl, instances, children, cpuProfDir, extraEnv: noNotice ? { NOTIFY_REMOVED: 'false' } : {} });
    if ('failed' in started) {
      keepDir = true;
      process.stderr.write(started.failed);
      return 1;
    }
    const { bouncers, urls, env, startMs } = started;
    const bouncer = bouncers[0]!;
    await sleep(IDLE_MS);
    const idle = bouncer.memory();
    ledger = await openLedger(databaseUrl);
    const ctx: BenchContext = { world, bouncers, urls, ledger, concurrency: CONCURRENCY, benchCpuProfDir };

    // Round trips first, while Bouncer has nothing else to do: any wait of its own would count as one.
    if (!onlyKicks) progress(`chat kicks at ${INJECTED_LATENCY_MS} ms of injected latency`);
    const trips = onlyKicks ? undefined : await roundTrips(ctx);

    const smallCallsNeeded = Math.ceil(KICKS_PER_RUN / KICKS_PER_SMALL_CALL);
    const warmUpCalls = Math.ceil(WARM_UP_SMALL_KICKS / KICKS_PER_SMALL_CALL);
    progress(`binding ${smallCallsNeeded + warmUpCalls} calls of ${SMALL_ROSTER} people`);
    const small = await seedSmallCalls(ctx, 'roster-100', smallCallsNeeded + warmUpCalls, SMALL_ROSTER);
    progress(`filling a call with ${num(BIG_ROSTER)} people`);
    const big = await seedBigCall(ctx, 'roster-20000', BIG_ROSTER);

    progress(`warming up (${num(WARM_UP_SMALL_KICKS)} kicks at roster ${SMALL_ROSTER}, ${num(WARM_UP_BIG_KICKS)} at ${num(BIG_ROSTER)})`);
    const warmUpSmall = await measureKicks(ctx, 'warm-up, small calls', interleavedTargets(small.slice(smallCallsNeeded), KICKS_PER_SMALL_CALL));
    const warmUpBig = await measureKicks(ctx, 'warm-up, big call', spreadTargets(big, WARM_UP_BIG_KICKS, 1));
    const warmUp = { checks: [...warmUpSmall.checks, ...warmUpBig.checks] };
    progress(`webhook kicks, roster ${SMALL_ROSTER} (${CONCURRENCY} connections, up to ${KICK_RUN_MS / 1000} s or ${num(KICKS_PER_RUN)} kicks)`);
    const kicksSmall = await measureKicks(ctx, `roster ${SMALL_ROSTER}`, interleavedTargets(small.slice(0, smallCallsNeeded), KICKS_PER_SMALL_CALL), KICK_RUN_MS);
    progress(`webhook kicks, roster ${num(BIG_ROSTER)}`);
    const kicksBig = await measureKicks(ctx, `roster ${num(BIG_ROSTER)}`, spreadTargets(big, KICKS_PER_RUN), KICK_RUN_MS);
    if (!trips) {
      // --only=kicks: the two kick rates and their checks, nothing else.
      progress('stopping Bouncer');
      const exitCodes = await Promise.all(bouncers.map((b) => b.stop()));
      const checks = [...warmUp.checks, ...kicksSmall.checks, ...kicksBig.checks, { what: 'Bouncer stopped cleanly on SIGTERM', ok: exitCodes.every((c) => c === 0), detail: `exit status ${exitCodes.join(', ')}` }];
      const out = (line = '') => process.stdout.write(`${line}\n`);
      out();
      out(table([kickRow(kicksSmall, '≥ 1,500/s (2 cores)', kicksSmall.perSecond >= 1500), kickRow(kicksBig, 'within 10 % of roster 100, ≥ 1,500/s', Math.abs(kicksBig.perSecond / kicksSmall.perSecond - 1) <= 0.1 && kicksBig.perSecond >= 1500)]));
      out();
      out(`Machine: ${machine()}.`);
      out(`CPU (percent of one core): ${[kicksSmall, kicksBig].map((r) => `kicks at ${r.label}: Bouncer ${pct(r.cpu.children)}, the bench ${pct(r.cpu.bench)}, other processes ${pct(r.cpu.others)}`).join('; ')}.`);
      const failed = checks.filter((c) => !c.ok);
      for (const c of failed) out(`  ✗ ${c.what}: ${c.detail}`);
      out(failed.length === 0 ? `All ${checks.length} correctness checks passed.` : `${failed.length} of ${checks.length} correctness checks FAILED.`);
      keepDir = failed.length > 0;
      return failed.length === 0 ? 0 : 1;
    }

    progress('bare restify JSON POSTs (the ceiling)');
    const ceiling = await measureCeiling(dir, env, children, benchCpuProfDir);

    progress(`a roster notification of ${num(BIG_NOTIFICATION_PEOPLE)} participants`);
    const stall = await rosterStall(ctx);
    progress(`raid: ${RAIDERS} kicks at once, ${REMOVALS_PER_SECOND} removals per second`);
    const raidResult = await raid(ctx);
    progress(`${FIRST_KICKS} concurrent first kicks`);
    const firstKicks = await concurrentFirstKicks(ctx, FIRST_KICKS);
    const peak = bouncer.memory();
    // Graph established every call the bench had Bouncer join: the database must say so too (an
    // instance that restarts, or another one, knows a call's state only from there).
    const bindingStates = await ledger.bindingStates();
    const bindings = Object.values(bindingStates).reduce((a, b) => a + b, 0);

    progress('stopping Bouncer');
    const exitCodes = await Promise.all(bouncers.map((b) => b.stop()));

    const checks: Check[] = [
      ...warmUp.checks,
      ...kicksSmall.checks,
      ...kicksBig.checks,
      ...trips.checks,
      ...raidResult.checks,
      ...firstKicks.checks,
      {
        what: "every chat binding 'established' in the database (Graph established every call)",
        ok: bindings > 0 && bindingStates.established === bindings,
        detail: Object.entries(bindingStates).map(([state, n]) => `${n} ${state}`).join(', ') || 'no bindings',
      },
      { what: 'Bouncer stopped cleanly on SIGTERM', ok: exitCodes.every((c) => c === 0), detail: `exit status ${exitCodes.join(', ')}` },
    ];

    const ratio = kicksBig.perSecond / kicksSmall.perSecond;
    const kickRuns = [kicksSmall, kicksBig];
    const verified = kickRuns.every((r) => r.checks.every((c) => c.ok));
    const raidRatio = raidResult.completionMs / RAID_FLOOR_MS;
    const stallTaken = stall.status >= 200 && stall.status < 300;
    const rows: Row[] = [
      kickRow(kicksSmall, '≥ 1,500/s (2 cores)', kicksSmall.perSecond >= 1500),
      kickRow(kicksBig, 'within 10 % of roster 100, ≥ 1,500/s', Math.abs(ratio - 1) <= 0.1 && kicksBig.perSecond >= 1500),
      {
        measure: 'Accepted kicks checked against the local Graph and the database',
        result:
          `${num(sum(kickRuns, (r) => r.accepted))} accepted, ${num(sum(kickRuns, (r) => r.deletes))} DELETEs, ` +
          `${num(sum(kickRuns, (r) => r.completedRemovals))} completed removal cases, ${num(sum(kickRuns, (r) => r.listCalls))} list calls`,
        target: 'one DELETE and one completed case each',
        met: verified,
      },
      {
        measure: 'Bare restify JSON POSTs per second (the ceiling, same load generator)',
        result:
          `${num(ceiling.perSecond)}/s · p50 ${ms(ceiling.p50)} · p99 ${ms(ceiling.p99)}` +
          `${ceiling.cpu.children === undefined || ceiling.answered === 0 ? '' : ` · CPU per request: restify ${perRequest(ceiling.cpu.children, ceiling)}, the bench ${perRequest(ceiling.cpu.bench, ceiling)}`}`,
      },
      tripRow('Warm chat kick (call joined and established)', trips.warm, 2),
      tripRow('First chat kick in an unbound meeting chat', trips.first),
      tripRow('First chat kick after the meeting start event (pre-joined)', trips.prejoined, 2),
      {
        measure: `Raid: ${RAIDERS} concurrent webhook kicks, Graph allowing ${REMOVALS_PER_SECOND} removals/s: time to all completed`,
        result: `${(raidResult.completionMs / 1000).toFixed(1)} s = ${raidRatio.toFixed(2)}× the ${RAID_FLOOR_MS / 1000} s floor (${raidResult.removed} removed, ${num(raidResult.throttled)} DELETEs throttled)`,
        target: '≤ 1.2× the floor',
        met: raidRatio <= 1.2,
      },
      {
        measure: 'Raid: callers who got an answer',
        result: `${raidResult.answered} of ${RAIDERS} (HTTP ${raidResult.statuses})`,
        target: 'all',
        met: raidResult.answered === RAIDERS,
      },
      { measure: `Joins made by ${FIRST_KICKS} concurrent first kicks in an unbound meeting chat`, result: String(firstKicks.joins), target: '1', met: firstKicks.joins === 1 },
      {
        measure: `Event-loop stall taking a ${num(BIG_NOTIFICATION_PEOPLE)}-participant roster notification (slowest /healthz)`,
        result: stallTaken
          ? `${ms(stall.duringMs)} (idle: ${ms(stall.idleMs)}); ${mib(stall.bytes / 1024)} answered ${stall.status} in ${ms(stall.tookMs)}`
          : `not taken: HTTP ${stall.status} for ${mib(stall.bytes / 1024)}`,
        target: '< 50 ms',
        met: stallTaken && stall.duringMs < 50,
      },
      { measure: `Start time (spawn → /healthz 200)${instances > 1 ? ', first instance' : ''}`, result: ms(startMs ?? Number.NaN) },
      { measure: `Idle RSS (${IDLE_MS / 1000} s after start)${instances > 1 ? ', first instance' : ''}`, result: idle ? mib(idle.rssKiB) : 'n/a (no /proc)' },
      { measure: `Peak RSS over the run${instances > 1 ? ', first instance' : ''}`, result: peak ? mib(peak.peakKiB) : 'n/a (no /proc)' },
    ];

    const out = (line = '') => process.stdout.write(`${line}\n`);
    out();
    out(table(rows));
    out();
    out(`Machine: ${machine()}.`);
    out(
      `Bouncer: ${instances > 1 ? `${instances} instances of ` : ''}node dist/main.js${instances > 1 ? ' (webhook kicks spread over them)' : ''}, LOG_LEVEL=info to a file, ${databaseArg ? `DATABASE_URL=${redactUrl(databaseUrl)}` : 'SQLite in a temporary file'}${noNotice ? ', NOTIFY_REMOVED=false (--no-notice)' : ''}, defaults otherwise; ` +
        `the local Graph, Bot Connector and token servers and the load generator share the bench's process.`,
    );
    const cores = os.availableParallelism();
    out(
      `CPU (percent of one core; this machine has ${cores * 100} %): ` +
        [
          ...kickRuns.map((r) => `kicks at roster ${r.label.replace('roster ', '')}: Bouncer ${pct(r.cpu.children)}, the bench ${pct(r.cpu.bench)}, other processes ${pct(r.cpu.others)}`),
          `the ceiling: restify ${pct(ceiling.cpu.children)}, the bench ${pct(ceiling.cpu.bench)}, other processes ${pct(ceiling.cpu.others)}`,
        ].join('; ') +
        '.',
    );
    const busiest = Math.max(...[...kickRuns.map((r) => r.cpu), ceiling.cpu].map((c) => c.others ?? 0));
    if (busiest > 25) {
      out(`⚠ Other processes used up to ${Math.round(busiest)} % of a core during the measurements: the machine was not idle, and the rates above are lower than it can do.`);
    }
    out(
      `Round trips: elapsed from sending the activity to the reply reaching the Bot Connector, ÷ ${INJECTED_LATENCY_MS} ms added to every ` +
        `Graph and Bot Connector request. The ${num(BIG_ROSTER)}-person call was filled by ${big.filledBy}.`,
    );
    const failed = checks.filter((c) => !c.ok);
    out();
    if (failed.length === 0) out(`All ${checks.length} correctness checks passed.`);
    else {
      keepDir = true;
      out(`${failed.length} of ${checks.length} correctness checks FAILED:`);
      for (const c of failed) out(`  ✗ ${c.what}: ${c.detail}`);
      out(`Bouncer's log and database are kept in ${dir}.`);
    }
    return failed.length === 0 ? 0 : 1;
  } catch (err) {
    keepDir = true;
    process.stderr.write(`\nThe bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    for (const c of children) process.stderr.write(`\n${c.name}'s last words:\n${tail(c.logFile)}\n`);
    process.stderr.write(`Logs and the database are kept in ${dir}.\n`);
    return 1;
  } finally {
    for (const c of children) await c.stop();
    await ledger?.close({ dropSchema: ownSchema && !keepDir }).catch((err: unknown) => progress(`could not close the database: ${String(err)}`));
    if (ownSchema && keepDir) process.stderr.write(`The run's database is kept: ${redactUrl(databaseUrl)}\n`);
    await world?.close();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts `instances` Bouncers (node dist/main.js) on `databaseUrl`, one after another, each waited
 * for until /healthz answers. Every instance gets the same configuration, and the first one's URL
 * as the public one, so that Graph's notifications reach it whichever instance joined the call.
 */
export async function startBouncers(options: {
  world: BenchWorld;
  dir: string;
  certFile: string;
  databaseUrl: string;
  instances: number;
  children: Child[];
  /** Where each Bouncer writes a V8 CPU profile when it stops (--cpu-prof); none: no profile. */
  cpuProfDir?: string;
  /** Settings on top of the bench's own (--no-notice: NOTIFY_REMOVED=false). */
  extraEnv?: Record<string, string>;
}): Promise<{ bouncers: Child[]; urls: string[]; env: Record<string, string>; startMs: number } | { failed: string }> {
  const { world, dir, certFile, databaseUrl, instances, children, cpuProfDir, extraEnv = {} } = options;
  const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
  const urls = ports.map((p) => `http://127.0.0.1:${p}`);
  const env: Record<string, string> = {
    // Only what a process needs to run: nothing from the shell that could reach a real service.
    ...pick(process.env, ['PATH', 'Path', 'SystemRoot', 'TMPDIR', 'TEMP', 'TMP']),
    HOME: process.env.HOME ?? dir,
    NODE_EXTRA_CA_CERTS: certFile,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    ...world.bouncerEnv(urls[0]!),
    ...extraEnv,
  };
  const bouncers: Child[] = [];
  let startMs: number | undefined;
  for (const [i, port] of ports.entries()) {
    const logFile = path.join(dir, i === 0 ? 'bouncer.log' : `bouncer-${i + 1}.log`);
    progress(`starting Bouncer${instances > 1 ? ` instance ${i + 1}` : ''} (node dist/main.js, log: ${logFile})`);
    const spawnedAt = performance.now();
    const profile = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(cpuProfDir)}`];
    const bouncer = startNode('bouncer', ['--disable-warning=DEP0111', ...profile, bouncerMain], { cwd: dir, env: { ...env, PORT: String(port) }, logFile });
    children.push(bouncer);
    bouncers.push(bouncer);
    const took = await waitForHealthy(`${urls[i]!}/healthz`, bouncer, spawnedAt);
    if (took === undefined) return { failed: `Bouncer did not answer /healthz. Its last words:\n${tail(bouncer.logFile)}\n` };
    startMs ??= took;
  }
  return { bouncers, urls, env, startMs: startMs! };
}

/** The stores `--compare-stores` measures webhook kicks on, in this order. */
function storeSetups(postgresArg: string, dir: string): Array<{ label: string; databaseUrl: string; instances: number }> {
  // Each PostgreSQL row gets a new schema of its own (dropped afterwards), whatever schema the URL names.
  const url = new URL(postgresArg);
  url.searchParams.delete('schema');
  const postgresUrl = url.toString();
  return [
    { label: 'SQLite, one instance', databaseUrl: benchDatabaseUrl(path.join(dir, 'sqlite', 'bouncer.sqlite'), dir), instances: 1 },
    { label: 'PostgreSQL, one instance', databaseUrl: benchDatabaseUrl(postgresUrl, dir), instances: 1 },
    { label: 'PostgreSQL, two instances (kicks spread over both)', databaseUrl: benchDatabaseUrl(postgresUrl, dir), instances: 2 },
  ];
}

/**
 * Webhook kicks per second at a roster of 100 on SQLite, on PostgreSQL, and on PostgreSQL with two
 * instances: each a Bouncer (or two) of its own on a new, empty database, warmed up alike, then
 * measured and checked as the full bench checks its kick runs; one table.
 */
async function compareStores(postgresArg: string): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-bench-stores-'));
  mkdirSync(path.join(dir, 'sqlite'));
  const children: Child[] = [];
  process.once('exit', () => {
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  let keepDir = false;
  const results: Array<{ label: string; databaseUrl: string; run: KickRun; checks: Check[] }> = [];
  try {
    const tls = await makeLocalTlsIdentity();
    const certFile = path.join(dir, 'local-ca.pem');
    writeFileSync(certFile, tls.cert);
    for (const setup of storeSetups(postgresArg, dir)) {
      progress(`${setup.label}: starting`);
      const world = await BenchWorld.start(tls);
      const runDir = mkdtempSync(path.join(dir, 'run-'));
      let ledger: Ledger | undefined;
      let ok = false;
      try {
        const started = await startBouncers({ world, dir: runDir, certFile, databaseUrl: setup.databaseUrl, instances: setup.instances, children });
        if ('failed' in started) {
          keepDir = true;
          process.stderr.write(started.failed);
          return 1;
        }
        ledger = await openLedger(setup.databaseUrl);
        const ctx: BenchContext = { world, bouncers: started.bouncers, urls: started.urls, ledger, concurrency: CONCURRENCY };
        const smallCallsNeeded = Math.ceil(KICKS_PER_RUN / KICKS_PER_SMALL_CALL);
        const warmUpCalls = Math.ceil(WARM_UP_KICKS / KICKS_PER_SMALL_CALL);
        progress(`${setup.label}: binding ${smallCallsNeeded + warmUpCalls} calls of ${SMALL_ROSTER} people`);
        const small = await seedSmallCalls(ctx, 'roster-100', smallCallsNeeded + warmUpCalls, SMALL_ROSTER);
        progress(`${setup.label}: warming up (${WARM_UP_KICKS} kicks)`);
        const warmUp = await measureKicks(ctx, `${setup.label}, warm-up`, interleavedTargets(small.slice(smallCallsNeeded), KICKS_PER_SMALL_CALL));
        progress(`${setup.label}: webhook kicks, roster ${SMALL_ROSTER} (${CONCURRENCY} connections, up to ${KICK_RUN_MS / 1000} s or ${num(KICKS_PER_RUN)} kicks)`);
        const run = await measureKicks(ctx, `${setup.label}, roster ${SMALL_ROSTER}`, interleavedTargets(small.slice(0, smallCallsNeeded), KICKS_PER_SMALL_CALL), KICK_RUN_MS);
        const states = await ledger.bindingStates();
        const bindings = Object.values(states).reduce((a, b) => a + b, 0);
        const exitCodes = await Promise.all(started.bouncers.map((b) => b.stop()));
        const checks = [
          ...warmUp.checks,
          ...run.checks,
          {
            what: `${setup.label}: every chat binding 'established' in the database (Graph established every call)`,
            ok: bindings > 0 && states.established === bindings,
            detail: Object.entries(states).map(([state, n]) => `${n} ${state}`).join(', ') || 'no bindings',
          },
          { what: `${setup.label}: Bouncer stopped cleanly on SIGTERM`, ok: exitCodes.every((c) => c === 0), detail: `exit status ${exitCodes.join(', ')}` },
        ];
        ok = checks.every((c) => c.ok);
        if (!ok) keepDir = true;
        results.push({ label: setup.label, databaseUrl: setup.databaseUrl, run, checks });
      } finally {
        for (const c of children.splice(0)) await c.stop();
        await ledger?.close({ dropSchema: ok && /^postgres(ql)?:/i.test(setup.databaseUrl) }).catch((err: unknown) => progress(`could not close the database: ${String(err)}`));
        await world.close();
      }
    }

    const out = (line = '') => process.stdout.write(`${line}\n`);
    const rows: Row[] = results.map(({ label, run }) => ({
      measure: `Signed webhook kicks per second, roster of ${SMALL_ROSTER}: ${label}`,
      result:
        `${num(run.perSecond)}/s · p50 ${ms(run.p50)} · p99 ${ms(run.p99)} (${num(run.accepted)} kicks in ${(run.elapsedMs / 1000).toFixed(1)} s` +
        `${run.refused ? `; refused: ${run.refused}` : ''}; CPU: Bouncer ${pct(run.cpu.children)}, other processes ${pct(run.cpu.others)})`,
    }));
    const runs = results.map((r) => r.run);
    rows.push({
      measure: 'Accepted kicks checked against the local Graph and the database',
      result:
        `${num(sum(runs, (r) => r.accepted))} accepted, ${num(sum(runs, (r) => r.deletes))} DELETEs, ` +
        `${num(sum(runs, (r) => r.completedRemovals))} completed removal cases`,
      target: 'one DELETE and one completed case each',
      met: results.every((r) => r.run.checks.every((c) => c.ok)),
    });
    out();
    out(table(rows));
    out();
    out(`Machine: ${machine()}.`);
    out(
      `Each row: its own Bouncer process(es) (node dist/main.js, LOG_LEVEL=info to a file, defaults otherwise) on a new database ` +
        `(${results.map((r) => `${r.label}: ${redactUrl(r.databaseUrl.replace(/^sqlite:.*/, 'a temporary SQLite file'))}`).join('; ')}), ` +
        `${WARM_UP_KICKS} kicks of warm-up, then ${CONCURRENCY} keep-alive connections for ${KICK_RUN_MS / 1000} s or ${num(KICKS_PER_RUN)} kicks; ` +
        `the local protocol servers, the load generator and (for PostgreSQL) the database server share the machine.`,
    );
    const cores = os.availableParallelism();
    const busiest = Math.max(...runs.map((r) => r.cpu.others ?? 0));
    if (busiest > 25) {
      out(`⚠ Other processes (the PostgreSQL server's included) used up to ${Math.round(busiest)} % of a core (of ${cores * 100} %) during the measurements.`);
    }
    const checks = results.flatMap((r) => r.checks);
    const failed = checks.filter((c) => !c.ok);
    out();
    if (failed.length === 0) out(`All ${checks.length} correctness checks passed.`);
    else {
      out(`${failed.length} of ${checks.length} correctness checks FAILED:`);
      for (const c of failed) out(`  ✗ ${c.what}: ${c.detail}`);
      out(`Bouncer's logs (and the SQLite database) are kept in ${dir}.`);
    }
    return failed.length === 0 ? 0 : 1;
  } catch (err) {
    keepDir = true;
    process.stderr.write(`\nThe bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stderr.write(`Logs are kept in ${dir}.\n`);
    return 1;
  } finally {
    for (const c of children) await c.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The bare restify server in a child process, hit by the same load generator for CEILING_RUN_MS. */
async function measureCeiling(
  dir: string,
  env: Record<string, string>,
  children: Child[],
  benchCpuProfDir?: string,
): Promise<{ perSecond: number; answered: number; p50: number; p99: number; cpu: CpuShare }> {
  const port = await freePort();
  const started = performance.now();
  const ceiling = startNode('ceiling', ['--disable-warning=DEP0111', ceilingMain, String(port)], { cwd: dir, env: pick(env, ['PATH', 'HOME']), logFile: path.join(dir, 'ceiling.log') });
  children.push(ceiling);
  try {
    if ((await waitForHealthy(`http://127.0.0.1:${port}/healthz`, ceiling, started)) === undefined) throw new Error(`the ceiling server did not start: ${tail(ceiling.logFile)}`);
    const body = JSON.stringify({ call: { conversationId: '19:meeting_bench@thread.v2' }, target: { userId: '6b2c3d4e-0000-4000-8000-000000000002' }, reason: 'bench', actor: 'bench' });
    const request = { path: '/echo', headers: { 'content-type': 'application/json' }, body };
    const options = { targets: [`http://127.0.0.1:${port}`], concurrency: CONCURRENCY, requests: [request], cycle: true, read: (a: { status: number }) => a.status };
    await runLoad({ ...options, durationMs: 500 });
    let stopMeter: (() => CpuShare) | undefined;
    let share: CpuShare | undefined;
    const run = await profileBench(benchCpuProfDir, 'ceiling', () =>
      runLoad({ ...options, durationMs: CEILING_RUN_MS, onStart: () => (stopMeter = meterCpu([ceiling])), onStop: () => (share = stopMeter?.()) }),
    );
    if (!share) throw new Error('the ceiling run never started its clock');
    const ok = run.answers.filter((s) => s === 200).length;
    if (ok !== run.latenciesMs.length) throw new Error(`the ceiling server answered ${run.latenciesMs.length - ok} requests with an error`);
    return { perSecond: run.perSecond, answered: run.latenciesMs.length, p50: percentile(run.latenciesMs, 50), p99: percentile(run.latenciesMs, 99), cpu: share };
  } finally {
    await ceiling.stop();
  }
}

function kickRow(run: KickRun, target: string, met: boolean): Row {
  return {
    measure: `Signed webhook kicks per second, roster of ${run.label.replace('roster ', '')}`,
    result:
      `${num(run.perSecond)}/s · p50 ${ms(run.p50)} · p99 ${ms(run.p99)} (${num(run.accepted)} kicks in ${(run.elapsedMs / 1000).toFixed(1)} s` +
      `${run.refused ? `; refused: ${run.refused}` : ''}${run.withoutCase ? `, ${run.withoutCase} without a case` : ''}` +
      `${run.busyNotifications ? `; ${run.busyNotifications} Graph notifications answered 503` : ''})` +
      `${run.cpu.children === undefined || run.accepted === 0 ? '' : ` · CPU per kick: Bouncer ${perKick(run.cpu.children, run)}, the bench ${perKick(run.cpu.bench, run)}`}`,
    target,
    met,
  };
}

/** A CPU share of a kick run (percent of one core) as milliseconds of CPU per accepted kick. */
function perKick(percent: number, run: KickRun): string {
  return `${((percent / 100) * run.cpu.wallMs / run.accepted).toFixed(2)} ms`;
}

/** A CPU share of the ceiling run (percent of one core) as microseconds of CPU per answered request. */
function perRequest(percent: number, run: { answered: number; cpu: CpuShare }): string {
  return `${Math.round(((percent / 100) * run.cpu.wallMs * 1000) / run.answered)} µs`;
}

function tripRow(measure: string, trips: RoundTrips, target?: number): Row {
  return {
    measure: `${measure}: sequential upstream round trips`,
    result: `${trips.trips} (${ms(trips.elapsedMs)}: ${trips.requests})`,
    ...(target === undefined ? {} : { target: String(target), met: trips.trips === target }),
  };
}

function sum<T>(items: readonly T[], f: (item: T) => number): number {
  return items.reduce((s, i) => s + f(i), 0);
}

function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

function pct(n: number | undefined): string {
  return n === undefined ? 'n/a' : `${Math.round(n)} %`;
}

/** A database URL without its password. */
function redactUrl(url: string): string {
  // As Bouncer's own (src/store/driver.ts): up to the last @, so an unencoded @ in a password leaks nothing.
  return url.replace(/(\/\/[^:/@]*):.*@/g, '$1:***@');
}

function pick(env: NodeJS.ProcessEnv | Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
