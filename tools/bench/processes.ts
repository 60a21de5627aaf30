import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** A child process the bench started: its pid, how it is doing, and how to stop it. */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit code (128 for a signal) once it has exited. */
  exited: Promise<number>;
  /** Where its stdout and stderr go. */
  logFile: string;
  /** Its resident set (VmRSS) and peak (VmHWM) in KiB, from /proc; undefined elsewhere than Linux. */
  memory(): { rssKiB: number; peakKiB: number } | undefined;
  /** CPU time it has used (user + system), milliseconds; undefined elsewhere than Linux. */
  cpuMs(): number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Starts `node <args>` with exactly `env`, its output going to `logFile`. */
export function startNode(name: string, args: string[], options: { cwd: string; env: Record<string, string>; logFile: string }): Child {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.once('error', () => resolve(1));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  return {
    name,
    pid,
    process: child,
    exited,
    logFile: options.logFile,
    memory: () => procMemory(pid),
    cpuMs: () => procCpuMs(pid),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Polls `url` until it answers 200, the child exits or `timeoutMs` passes; resolves with the
 * milliseconds from `since` to that 200, or undefined.
 */
export async function waitForHealthy(url: string, child: Child, since: number, timeoutMs = 30_000): Promise<number | undefined> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (!exited && performance.now() - since < timeoutMs) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return undefined;
}

/** The last `lines` lines of a log file, to show when something failed. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** CPU used over a stretch of wall time, in percent of one core (a 2-core machine has 200 %). */
export interface CpuShare {
  wallMs: number;
  /** The children measured, together; undefined without /proc. */
  children?: number;
  /** This process: the load generator and the local protocol servers. */
  bench: number;
  /** Every other process on the machine; undefined without /proc. */
  others?: number;
}

/** Starts measuring; the function returned stops and tells who used the CPU meanwhile. */
export function meterCpu(children: readonly Child[]): () => CpuShare {
  const wall0 = performance.now();
  const machine0 = machineBusyMs();
  const children0 = children.map((c) => c.cpuMs());
  const bench0 = process.cpuUsage();
  return () => {
    const wallMs = performance.now() - wall0;
    const benchUsage = process.cpuUsage(bench0);
    const benchMs = (benchUsage.user + benchUsage.system) / 1000;
    let childrenMs: number | undefined = 0;
    children.forEach((c, i) => {
      const after = c.cpuMs();
      const before = children0[i];
      childrenMs = childrenMs === undefined || after === undefined || before === undefined ? undefined : childrenMs + after - before;
    });
    const machine1 = machineBusyMs();
    const pct = (v: number) => (v / wallMs) * 100;
    return {
      wallMs,
      bench: pct(benchMs),
      ...(childrenMs === undefined ? {} : { children: pct(childrenMs) }),
      ...(machine0 === undefined || machine1 === undefined || childrenMs === undefined
        ? {}
        : { others: Math.max(0, pct(machine1 - machine0 - childrenMs - benchMs)) }),
    };
  };
}

/**
 * CPU time the whole machine has spent busy (every core: user, nice, system, irq, softirq,
 * steal), milliseconds, from /proc/stat; undefined elsewhere than Linux. What the bench's
 * processes did not use of it, others did: the bench says so when the machine was busy.
 */
export function machineBusyMs(): number | undefined {
  if (os.platform() !== 'linux') return undefined;
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10;
  } catch {
    return undefined;
  }
}

function procMemory(pid: number): { rssKiB: number; peakKiB: number } | undefined {
  if (os.platform() !== 'linux') return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssKiB: kib('VmRSS'), peakKiB: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** utime + stime from /proc/<pid>/stat, in milliseconds (Linux counts in clock ticks, 100 per second). */
function procCpuMs(pid: number): number | undefined {
  if (os.platform() !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks * 10;
  } catch {
    return undefined;
  }
}
