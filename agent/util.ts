/**
 * Small helpers shared by the agent: the event emitter's type, bounded command runs, a per-key lock. Logs: lib/log.ts (the panel's
 * logger: JSON lines, secret-looking keys redacted).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { MAX_OUTPUT_BYTES, type AgentEvent, type DriverRun } from "../protocol/agent";

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
/** Emits an event to every connected controller (the agent adds `seq` and `at`). */
export type EmitFn = (e: DistributiveOmit<AgentEvent, "seq" | "at">) => void;

export const nowIso = () => new Date().toISOString();

/** Keeps the first `max` bytes of a stream (stdout/stderr of a run). */
export class Bounded {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max = MAX_OUTPUT_BYTES) {}
  push(b: Buffer) {
    if (this.size >= this.max) {
      this.truncated = true;
      return;
    }
    const take = b.subarray(0, this.max - this.size);
    if (take.length < b.length) this.truncated = true;
    this.chunks.push(take);
    this.size += take.length;
  }
  toString() {
    // Decoding may expand invalid bytes to U+FFFD (3 bytes but 1 char): the schema counts characters.
    const s = Buffer.concat(this.chunks).toString("utf8");
    return s.length > this.max ? s.slice(0, this.max) : s;
  }
}

export function boundText(s: string, max = MAX_OUTPUT_BYTES) {
  return s.length > max ? s.slice(0, max) : s;
}

export interface RunSpec {
  kind: DriverRun["kind"];
  driver: string;
  action: string;
  target: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Called with the child as soon as it is spawned (e.g. to watch its stdout). */
  onSpawn?: (child: ChildProcess) => void;
}

/**
 * Runs a program with an argument array (never a shell), a timeout (SIGKILL to the process group)
 * and bounded output. Always resolves with a DriverRun, also when the program cannot be started.
 */
export function runCommand(spec: RunSpec): Promise<DriverRun> {
  const startedAt = nowIso();
  const t0 = performance.now();
  const out = new Bounded();
  const err = new Bounded();
  return new Promise((resolve) => {
    let done = false;
    let timedOut = false;
    let child: ChildProcess;
    let timer: NodeJS.Timeout | undefined;
    const finish = (exitCode: number | null, signal: string | null, extraErr?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (extraErr) err.push(Buffer.from(extraErr));
      resolve({
        kind: spec.kind,
        driver: spec.driver,
        action: spec.action,
        target: spec.target,
        startedAt,
        durationMs: Math.round((performance.now() - t0) * 100) / 100,
        exitCode,
        signal,
        timedOut,
        ok: !timedOut && exitCode === 0,
        stdout: out.toString(),
        stderr: err.toString(),
      });
    };
    try {
      child = spawn(spec.file, spec.args, {
        env: { ...process.env, ...(spec.env ?? {}) },
        cwd: spec.cwd,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // own process group: a timeout kills the whole tree
      });
    } catch (e) {
      finish(null, null, String((e as Error).message));
      return;
    }
    timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, spec.timeoutMs);
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => finish(null, null, e.message));
    child.on("close", (code, signal) => finish(code, signal));
    spec.onSpawn?.(child);
  });
}

/** A DriverRun for something that did not run a program (simulated driver, HTTP hook, refusal). */
export function syntheticRun(
  base: Pick<DriverRun, "kind" | "driver" | "action" | "target">,
  t0: number,
  startedAt: string,
  ok: boolean,
  stdout = "",
  stderr = "",
  extra: Partial<DriverRun> = {},
): DriverRun {
  return {
    ...base,
    startedAt,
    durationMs: Math.round((performance.now() - t0) * 100) / 100,
    exitCode: null,
    signal: null,
    timedOut: false,
    ok,
    stdout: boundText(stdout),
    stderr: boundText(stderr),
    ...extra,
  };
}

/** Serialises async work per key (one app or VIP at a time), without timers. */
export class KeyedLock {
  private tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
