/**
 * The fault campaign's schedule (npm run chaos): a seeded, deterministic list of faults. Pure: no I/O, no
 * clock. The same seed gives the same sequence of faults (kind, target role, hold time, gap after) and the
 * same sequence of manual switchovers (gap before each, single or a concurrent pair); the wall-clock times
 * at which they happen depend on the machine (each fault waits for the pair to settle before the next gap).
 */

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; deterministic for a given seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAULT_KINDS = [
  "sip_kill", // SIGKILL of a SIP Server (its agent restarts it as backup)
  "sip_stop", // SIGSTOP of a SIP Server for holdMs, then SIGCONT (the agent's probe may call it hung first)
  "agent_kill", // SIGKILL of an agent, restarted after holdMs (as systemd's Restart=always would)
  "agent_stop", // SIGSTOP of an agent for holdMs, then SIGCONT
  "panel_kill", // SIGKILL of the panel server (and its controller thread), restarted after holdMs
  "panel_stop", // SIGSTOP of the panel server for holdMs, then SIGCONT
  "link_cut", // a host cut from the panel (nft in its namespace) for holdMs, then restored
  "db_down", // Postgres taken away from the panel (TCP proxy: connections reset, new ones refused) for holdMs
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which host a fault hits, resolved when it runs: the current primary (the VIP holder) or the backup. */
export type Role = "primary" | "backup";

export interface Fault {
  seq: number;
  kind: FaultKind;
  /** For faults of one host (sip_*, agent_*, link_cut); null for the panel and Postgres. */
  target: Role | null;
  /** How long the fault lasts (stop → cont, kill → restart, cut → restore, down → up); 0 for sip_kill. */
  holdMs: number;
  /** Quiet time after the pair has settled, before the next fault. */
  gapMs: number;
}

export interface Switchover {
  seq: number;
  /** Time since the previous switchover (or the start). */
  gapMs: number;
  /** Two requests at the same moment (a race the API must settle: one 202, the other refused). */
  concurrent: boolean;
}

/** Hold ranges per kind [min, max] ms. Short enough to fit many faults in a few minutes. */
export const HOLD_MS: Record<FaultKind, [number, number]> = {
  sip_kill: [0, 0],
  sip_stop: [500, 4000],
  agent_kill: [200, 4000],
  agent_stop: [500, 4000],
  panel_kill: [0, 2000],
  panel_stop: [500, 4000],
  link_cut: [1000, 6000],
  db_down: [2000, 10_000],
};
export const GAP_MS: [number, number] = [1000, 4000];
export const SWITCHOVER_GAP_MS: [number, number] = [4000, 15_000];

const HOST_FAULTS: ReadonlySet<FaultKind> = new Set(["sip_kill", "sip_stop", "agent_kill", "agent_stop", "link_cut"]);

const between = (r: () => number, [lo, hi]: [number, number]) => Math.round(lo + r() * (hi - lo));

/**
 * The first `count` faults of seed `seed`. Each block of FAULT_KINDS.length faults is a shuffle of every kind
 * (so a short run sees every kind early), the primary is the target twice as often as the backup (a
 * fault of the primary is the one that moves the VIP).
 */
export function faultSchedule(seed: number, count: number): Fault[] {
  const r = rng(seed);
  const out: Fault[] = [];
  while (out.length < count) {
    const block = [...FAULT_KINDS];
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [block[i], block[j]] = [block[j]!, block[i]!];
    }
    for (const kind of block) {
      if (out.length >= count) break;
      const target: Role | null = HOST_FAULTS.has(kind) ? (r() < 2 / 3 ? "primary" : "backup") : null;
      out.push({ seq: out.length + 1, kind, target, holdMs: between(r, HOLD_MS[kind]), gapMs: between(r, GAP_MS) });
    }
  }
  return out;
}

/** The first `count` manual switchovers of seed `seed` (a stream of its own: faults and switchovers interleave). */
export function switchoverSchedule(seed: number, count: number): Switchover[] {
  const r = rng((seed ^ 0x5eed5eed) >>> 0);
  return Array.from({ length: count }, (_, i) => ({ seq: i + 1, gapMs: between(r, SWITCHOVER_GAP_MS), concurrent: r() < 0.3 }));
}

export function describeFault(f: Fault): string {
  return `${f.kind}${f.target ? `(${f.target})` : ""}${f.holdMs ? ` for ${f.holdMs} ms` : ""}`;
}
