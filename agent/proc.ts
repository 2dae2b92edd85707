/**
 * The process table (/proc) as the agent needs it to supervise a forking server whole: which processes
 * belong to an app whose main process is gone (its process group, its session, its descendants), and
 * ending them (SIGTERM, SIGKILL after a deadline) with a report of what was left.
 *
 * An app is spawned `detached` (setsid): its main process leads a session and a process group whose ids
 * are its pid, and every child inherits both unless it calls setsid()/setpgid() itself. Such a child is
 * still found while its parent lives (parent chain); one whose parent has died meanwhile (a double fork
 * after setsid) is found only if a periodic scan (App's `group.scanIntervalMs`) saw it before.
 */
import { readdir, readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Field 22 of /proc/PID/stat: start time in clock ticks since boot (identity against pid reuse). */
  startTime: string;
}

/** Parses one /proc/PID/stat line (the command name may hold spaces and parentheses). */
export function parseStat(text: string): ProcInfo | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(" ");
  // rest[0] = field 3 (state), rest[1] = ppid, rest[2] = pgrp, rest[3] = session, rest[19] = starttime
  if (!Number.isInteger(pid) || rest.length < 20) return null;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: rest[19],
  };
}

/** Every live process (zombies left out), read without blocking the event loop on the whole table. */
export async function readProcTable(): Promise<ProcInfo[]> {
  let names: string[];
  try {
    names = await readdir("/proc");
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  await Promise.all(
    names
      .filter((d) => /^\d+$/.test(d))
      .map((d) =>
        readFile(`/proc/${d}/stat`, "latin1").then(
          (t) => {
            const p = parseStat(t);
            if (p && p.state !== "Z" && p.state !== "X") out.push(p);
          },
          () => {}, // gone meanwhile
        ),
      ),
  );
  return out;
}

/** The same process still alive (not a zombie, same start time)? */
export function sameProcessAlive(pid: number, startTime: string): boolean {
  try {
    const p = parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
    return p !== null && p.startTime === startTime && p.state !== "Z" && p.state !== "X";
  } catch {
    return false;
  }
}

/**
 * Now, in the unit of /proc/PID/stat's start time (clock ticks since boot; USER_HZ is 100 on Linux), or
 * null if /proc/uptime cannot be read.
 */
export function uptimeTicks(): number | null {
  try {
    return Math.ceil(Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]) * 100);
  } catch {
    return null;
  }
}

export type MemberVia = "group" | "session" | "descendant";
export interface Member {
  pid: number;
  comm: string;
  startTime: string;
  via: MemberVia;
}

/**
 * The processes of the app whose main process had pid `leader` (process group and session id `leader`):
 * its group, its session, and their descendants (a child that called setsid() while its parent lives).
 * `known`: processes a previous scan saw as descendants (checked against their start time).
 * `exclude`: pids never to list (the agent itself). `bornWithin` (start-time ticks): only processes started
 * while the app lived count (its main process's start → now): if the whole app is gone and its pid has been
 * reused by a new session leader meanwhile, that one's group is not the app's.
 */
export function membersOf(
  table0: ProcInfo[],
  leader: number,
  known: Iterable<{ pid: number; startTime: string; comm: string }> = [],
  exclude: number[] = [],
  bornWithin?: { from: number; to: number },
): Member[] {
  const table = bornWithin ? table0.filter((p) => Number(p.startTime) >= bornWithin.from && Number(p.startTime) <= bornWithin.to) : table0;
  const byPid = new Map(table.map((p) => [p.pid, p]));
  const found = new Map<number, Member>();
  const skip = new Set(exclude);
  for (const p of table) {
    if (skip.has(p.pid)) continue;
    if (p.pgid === leader) found.set(p.pid, { pid: p.pid, comm: p.comm, startTime: p.startTime, via: "group" });
    else if (p.sid === leader) found.set(p.pid, { pid: p.pid, comm: p.comm, startTime: p.startTime, via: "session" });
  }
  for (const k of known) {
    const p = byPid.get(k.pid);
    if (p && p.startTime === k.startTime && !found.has(p.pid) && !skip.has(p.pid)) found.set(p.pid, { pid: p.pid, comm: p.comm, startTime: p.startTime, via: "descendant" });
  }
  // Descendants of anything found (and of the leader, if it still lives): to a fixed point.
  const roots = new Set<number>([leader, ...found.keys()]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (roots.has(p.pid) || skip.has(p.pid) || !roots.has(p.ppid) || p.pid === leader) continue;
      roots.add(p.pid);
      if (!found.has(p.pid)) found.set(p.pid, { pid: p.pid, comm: p.comm, startTime: p.startTime, via: "descendant" });
      grew = true;
    }
  }
  found.delete(leader);
  return [...found.values()].sort((a, b) => a.pid - b.pid);
}

/**
 * The live descendants of `root`, read from /proc/PID/task/TID/children (the kernel's child lists): work in
 * proportion to the app's own processes, not to the whole process table. Null when the kernel does not
 * offer those files (CONFIG_PROC_CHILDREN): then use readProcTable() and escapedDescendants().
 */
export async function readDescendants(root: number): Promise<ProcInfo[] | null> {
  const out: ProcInfo[] = [];
  const seen = new Set([root]);
  const queue = [root];
  let first = true;
  while (queue.length) {
    const pid = queue.shift()!;
    let tasks: string[];
    try {
      tasks = await readdir(`/proc/${pid}/task`);
    } catch {
      continue; // gone meanwhile
    }
    const kids = new Set<number>();
    for (const t of tasks) {
      try {
        for (const c of (await readFile(`/proc/${pid}/task/${t}/children`, "latin1")).split(" ")) if (c.trim()) kids.add(Number(c));
      } catch (e) {
        if (first && (e as NodeJS.ErrnoException).code === "ENOENT" && t === String(pid)) return null;
      }
      first = false;
    }
    for (const k of kids) {
      if (seen.has(k)) continue;
      seen.add(k);
      try {
        const p = parseStat(await readFile(`/proc/${k}/stat`, "latin1"));
        if (p && p.state !== "Z" && p.state !== "X") {
          out.push(p);
          queue.push(k);
        }
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/** Descendants of `root` that left its process group and session (what only a periodic scan can find later). */
export function escapedDescendants(table: ProcInfo[], root: number): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of table) {
    const l = children.get(p.ppid);
    if (l) l.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: ProcInfo[] = [];
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of children.get(pid) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      if (c.pgid !== root && c.sid !== root) out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

function signal(m: { pid: number; startTime: string }, sig: NodeJS.Signals): boolean {
  if (!sameProcessAlive(m.pid, m.startTime)) return false; // never signal a reused pid
  try {
    process.kill(m.pid, sig);
    return true;
  } catch {
    return false;
  }
}

export interface GroupEnd {
  members: Member[];
  /** Pids that were still alive at the deadline and got SIGKILL. */
  sigkilled: number[];
  /** Pids still alive after SIGKILL and its grace (unkillable: D state, or not ours to kill). */
  survivors: number[];
  durationMs: number;
}

const POLL_MS = 25;
const KILL_GRACE_MS = 2000;

/**
 * Ends the processes of `leader`'s group, session and descendants: SIGTERM (and SIGCONT, for a stopped
 * one) to each, SIGKILL to whatever is still alive at `deadline` (performance.now() time), then waits up to
 * 2 s for them to be gone. `kill: false` only lists them (nothing is signalled).
 */
export async function endGroup(
  leader: number,
  o: { deadline: number; known?: Iterable<{ pid: number; startTime: string; comm: string }>; kill: boolean; leaderStartTime?: string | null },
): Promise<GroupEnd> {
  const t0 = performance.now();
  const now = uptimeTicks();
  const window = o.leaderStartTime && now !== null ? { from: Number(o.leaderStartTime), to: now + 1 } : undefined;
  const members = membersOf(await readProcTable(), leader, o.known, [process.pid], window);
  const out: GroupEnd = { members, sigkilled: [], survivors: [], durationMs: 0 };
  if (!o.kill || members.length === 0) {
    out.survivors = o.kill ? [] : members.map((m) => m.pid);
    out.durationMs = Math.round((performance.now() - t0) * 100) / 100;
    return out;
  }
  for (const m of members) {
    signal(m, "SIGTERM");
    signal(m, "SIGCONT");
  }
  const alive = () => members.filter((m) => sameProcessAlive(m.pid, m.startTime));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let left = alive();
  while (left.length && performance.now() < o.deadline) {
    await sleep(Math.min(POLL_MS, Math.max(1, o.deadline - performance.now())));
    left = alive();
  }
  if (left.length) {
    for (const m of left) if (signal(m, "SIGKILL")) out.sigkilled.push(m.pid);
    const until = performance.now() + KILL_GRACE_MS;
    while (left.length && performance.now() < until) {
      await sleep(POLL_MS);
      left = alive();
    }
  }
  out.survivors = left.map((m) => m.pid);
  out.durationMs = Math.round((performance.now() - t0) * 100) / 100;
  return out;
}
