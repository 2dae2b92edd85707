/**
 * The linux driver's resident `/bin/sh` (one per VIP; used by agent/vip/linux.ts) that runs `ip addr add/del`
 * and the first gratuitous ARP for the agent, so that the hot path does not fork the Node process (≈80 MB
 * RSS, 3-5 ms of blocked event loop per spawn here): the shell (dash, a few hundred kB) forks itself instead.
 *
 * The script below is fixed. The address, prefix, interface and program names come from the validated
 * configuration only and reach the shell as positional arguments, never as shell code. The agent writes one
 * word per line on stdin:
 *
 *   add | del          foreground: `ip addr add|del CIDR dev IF`; answered by
 *                      `@@o LINE` (stdout) / `@@e LINE` (stderr) lines, then `@@end add|del EXITCODE`
 *   arp ID [A]         background (arping -U -c 1, with A: -A, an ARP reply; lives about 1 s): `@@aID.o LINE` lines as arping writes them
 *                      (its stdout line-buffered by libstdbuf when given: the "ARPING" header is printed just
 *                      before the first packet), then `@@aID.e LINE`, then `@@aID.end EXITCODE`
 *
 * Every line is one short write to the pipe (atomic), so background lines may interleave with a foreground
 * step's lines only as whole lines. The agent times each step itself (write of the word → `@@end` line).
 * On end of input (the agent closed it, or died) the shell removes its scratch directory and exits.
 * When the helper is not running (not started yet, died, restarting) the caller falls back to direct spawns.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DriverRun } from "../../protocol/agent";
import { log } from "../../lib/log";
import { Bounded, nowIso } from "../util";

const HELPER_SCRIPT = `
ip=$1 arping=$2 cidr=$3 dev=$4 addr=$5 dir=$6 lib=$7
emit() { while IFS= read -r l || [ -n "$l" ]; do printf '@@%s %s\\n' "$2" "$l"; done < "$1"; }
step() {
  name=$1; shift
  "$@" >"$dir/out" 2>"$dir/err"; rc=$?
  emit "$dir/out" o; emit "$dir/err" e
  printf '@@end %s %s\\n' "$name" "$rc"
}
arp() {
  f="$dir/a$(($1 % 16))"
  case $2 in A) op=-A ;; *) op=-U ;; esac
  {
    if [ -n "$lib" ]; then LD_PRELOAD="$lib\${LD_PRELOAD:+:$LD_PRELOAD}" _STDBUF_O=L "$arping" $op -c 1 -I "$dev" "$addr" 2>"$f.e"
    else "$arping" $op -c 1 -I "$dev" "$addr" 2>"$f.e"; fi
    echo $? >"$f.rc"
  } | while IFS= read -r l || [ -n "$l" ]; do printf '@@a%s.o %s\\n' "$1" "$l"; done
  read rc <"$f.rc" || rc=255
  emit "$f.e" "a$1.e"
  printf '@@a%s.end %s\\n' "$1" "$rc"
}
printf '@@ready\\n'
while read -r cmd arg kind; do
  case $cmd in
    add) step add "$ip" addr add "$cidr" dev "$dev" ;;
    del) step del "$ip" addr del "$cidr" dev "$dev" ;;
    arp) case $arg in ''|*[!0-9]*) printf '@@bad %s\\n' "$cmd" ;; *) arp "$arg" "$kind" & ;; esac ;;
    *) printf '@@bad %s\\n' "$cmd" ;;
  esac
done
rm -rf -- "$dir"
`;

export interface HelperSpec {
  name: string;
  ip: string;
  arping: string;
  address: string;
  prefix: number;
  interface: string;
  libstdbuf: string | null;
}

interface Pending {
  step: string;
  t0: number;
  startedAt: string;
  out: Bounded;
  err: Bounded;
  timer: NodeJS.Timeout;
  resolve: (r: DriverRun | null) => void;
  onLine?: (line: string) => void;
}

const MAX_BACKOFF_MS = 5000;

export class LinuxHelper {
  private child: ChildProcess | null = null;
  private ready = false;
  private closed = false;
  private buf = "";
  private fg: Pending[] = [];
  private bg = new Map<number, Pending>();
  private nextArp = 1;
  private dir: string | null = null;
  private backoffMs = 100;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;

  constructor(private readonly spec: HelperSpec) {}

  get available() {
    return this.ready && !this.closed;
  }

  start() {
    if (this.closed) return;
    const s = this.spec;
    let child: ChildProcess;
    try {
      // private (0700) scratch directory for the steps' stdout/stderr files
      this.dir ??= mkdtempSync(path.join(os.tmpdir(), "switchyard-vip-"));
      child = spawn("/bin/sh", ["-c", HELPER_SCRIPT, "switchyard-vip-helper", s.ip, s.arping, `${s.address}/${s.prefix}`, s.interface, s.address, this.dir, s.libstdbuf ?? ""], {
        stdio: ["pipe", "pipe", "pipe"],
        detached: true,
      });
    } catch (e) {
      log.warn("VIP helper could not be started: direct spawns", { vip: s.name, error: String(e) });
      this.scheduleRestart();
      return;
    }
    this.child = child;
    this.startedAt = performance.now();
    this.buf = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => this.onData(d));
    child.stderr!.on("data", (b: Buffer) => log.warn("VIP helper stderr", { vip: s.name, text: String(b).slice(0, 300) }));
    child.stdin!.on("error", () => {}); // EPIPE when it died: handled by "exit"
    child.on("error", (e) => log.warn("VIP helper error", { vip: s.name, error: e.message }));
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.ready = false;
      // Steps in flight get null: the caller repeats them with a direct spawn (add/del are idempotent).
      for (const p of this.fg.splice(0)) this.settle(p, null);
      for (const [id, p] of this.bg) {
        this.bg.delete(id);
        this.settle(p, null);
      }
      if (this.closed) return;
      log.warn("VIP helper exited: direct spawns until it is back", { vip: s.name, code, signal });
      this.scheduleRestart();
    });
  }

  private scheduleRestart() {
    if (this.closed) return;
    // A helper that ran for a while gets restarted quickly; one that keeps dying backs off.
    if (this.startedAt && performance.now() - this.startedAt > 10_000) this.backoffMs = 100;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.start(), wait);
    this.restartTimer.unref();
  }

  close() {
    this.closed = true;
    this.ready = false;
    clearTimeout(this.restartTimer);
    const c = this.child;
    this.child = null;
    for (const p of this.fg.splice(0)) this.settle(p, null);
    for (const p of this.bg.values()) this.settle(p, null);
    this.bg.clear();
    if (c) {
      c.stdin?.end(); // EOF: the shell leaves its loop
      try {
        if (c.pid) process.kill(-c.pid, "SIGTERM");
      } catch {}
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills the helper (tests: the agent must fall back and restart it). */
  kill() {
    const c = this.child;
    if (c?.pid) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {}
    }
  }

  private onData(d: string) {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.onLine(line);
    }
    if (this.buf.length > 65536) this.buf = ""; // no newline in 64 kB: not our protocol, drop it
  }

  private onLine(line: string) {
    if (line === "@@ready") {
      this.ready = true;
      return;
    }
    const m = /^@@(a(\d+)\.)?(o|e|end|bad)(?: (.*))?$/.exec(line);
    if (!m) {
      log.warn("VIP helper: unexpected output", { vip: this.spec.name, line: line.slice(0, 200) });
      return;
    }
    const [, , arpId, kind, rest = ""] = m;
    if (kind === "bad") {
      log.error("VIP helper refused a command", { vip: this.spec.name, line: line.slice(0, 200) });
      return;
    }
    const p = arpId ? this.bg.get(Number(arpId)) : this.fg[0];
    if (!p) return;
    if (kind === "o") {
      p.out.push(Buffer.from(rest + "\n"));
      if (p.onLine) {
        const cb = p.onLine;
        p.onLine = undefined;
        cb(rest);
      }
    } else if (kind === "e") {
      p.err.push(Buffer.from(rest + "\n"));
    } else {
      const code = Number(rest.split(" ").pop()); // "@@end add 0" | "@@a7.end 0"
      if (arpId) this.bg.delete(Number(arpId));
      else this.fg.shift();
      this.settle(p, this.toRun(p, Number.isInteger(code) ? code : null, false));
    }
  }

  private toRun(p: Pending, exitCode: number | null, timedOut: boolean): DriverRun {
    return {
      kind: "vip",
      driver: "linux",
      action: p.step,
      target: this.spec.name,
      startedAt: p.startedAt,
      durationMs: Math.round((performance.now() - p.t0) * 100) / 100,
      exitCode,
      signal: null,
      timedOut,
      ok: !timedOut && exitCode === 0,
      stdout: p.out.toString(),
      stderr: p.err.toString(),
    };
  }

  /** A step's bookkeeping, timed from now. On timeout `expire` forgets it, then it resolves as timed out. */
  private pending(action: string, resolve: Pending["resolve"], timeoutMs: number, expire: () => void, onLine?: Pending["onLine"]): Pending {
    const p: Pending = {
      step: action,
      t0: performance.now(),
      startedAt: nowIso(),
      out: new Bounded(),
      err: new Bounded(),
      resolve,
      onLine,
      timer: setTimeout(() => {
        expire();
        resolve(this.toRun(p, null, true));
      }, timeoutMs),
    };
    return p;
  }

  private settle(p: Pending, r: DriverRun | null) {
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /**
   * `ip addr add|del` through the helper. Resolves null when the helper is unavailable or died during the
   * step (the caller then runs the command directly). A step that times out kills the helper (it is
   * restarted) and resolves a timed-out run.
   */
  ipAddr(step: "add" | "del", action: string, timeoutMs: number): Promise<DriverRun | null> {
    const c = this.child;
    if (!this.available || !c?.stdin?.writable) return Promise.resolve(null);
    return new Promise((resolve) => {
      const p = this.pending(action, resolve, timeoutMs, () => {
        const i = this.fg.indexOf(p);
        if (i >= 0) this.fg.splice(i, 1);
        this.kill();
      });
      this.fg.push(p);
      c.stdin!.write(`${step}\n`);
    });
  }

  /**
   * One gratuitous ARP through the helper. `onLine` gets arping's first stdout line (the "ARPING" header,
   * printed as the first packet goes out); the promise resolves when arping exits (about 1 s), or null when
   * the helper is unavailable (before anything was sent: the caller spawns arping itself).
   */
  arp(action: string, timeoutMs: number, onLine?: (line: string) => void, reply = false): Promise<DriverRun | null> | null {
    const c = this.child;
    if (!this.available || !c?.stdin?.writable) return null;
    const id = this.nextArp++;
    return new Promise((resolve) => {
      const p = this.pending(action, resolve, timeoutMs, () => this.bg.delete(id), onLine);
      this.bg.set(id, p);
      c.stdin!.write(`arp ${id}${reply ? " A" : ""}\n`);
      // Without libstdbuf arping's stdout is block-buffered (nothing before it exits): the ARP is then
      // acknowledged once handed to the helper, like a direct spawn acknowledged at its "spawn" event.
      if (!this.spec.libstdbuf && p.onLine) {
        const cb = p.onLine;
        p.onLine = undefined;
        queueMicrotask(() => cb("(handed to the helper)"));
      }
    });
  }
}
