/**
 * A small lab for controller tests: one pair = two real agents (simulated VIP driver by default; the
 * agents restart a failed server themselves, in backup mode) each supervising a real simulated SIP
 * Server, configured in the test database. Fixed ports per pair (picked free), so an agent restarted in
 * its directory comes back on the same URL.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll } from "vitest";
import { runController, type ControllerHandle, type ControllerOptions } from "@/lib/controller";
import { db } from "@/lib/db";
import type { PairView } from "@/lib/views";
import { freePort, freeUdpPort, rmDir, simApp, startAgent, TEST_TOKEN, type RunningAgent, killGroup, pidsWithArgs } from "../agent/helpers";

export interface LabHost {
  name: string;
  hostId: string;
  serverId: string;
  serverName: string;
  sipPort: number;
  agentPort: number;
  /** The simulated SIP Server's control port (its mode hook). */
  controlPort: number;
  dir?: string;
  agent: RunningAgent;
  config: Record<string, unknown>;
}

export interface LabPair {
  pairId: string;
  name: string;
  vip: string;
  hosts: [LabHost, LabHost];
  restartAgent(i: 0 | 1): Promise<void>;
  cleanup(): Promise<void>;
}

/** VIPs from 198.18.0.0/24 only (the project's lab range; .130-.189 here, simulated driver: nothing touches the network). */
let vipSeq = Math.floor(Math.random() * 60);

export interface LabPairOptions {
  /** Pair columns (policy) to set. */
  pair?: Record<string, unknown>;
  tag?: string;
  /** Changes one host's agent configuration before it starts (e.g. a script VIP driver). */
  agentConfig?: (i: 0 | 1, config: Record<string, unknown> & { vips: Record<string, unknown>[] }) => void;
  /**
   * Configure the pair only once both servers run in the mode their agents autostart them in (default),
   * so that the controller meets a settled pair; false: meet the cold start as it happens.
   */
  settled?: boolean;
}

export async function startLabPair(opts: LabPairOptions = {}): Promise<LabPair> {
  const tag = opts.tag ?? randomBytes(3).toString("hex");
  const name = `pair-${tag}`;
  const vip = `198.18.0.${130 + (vipSeq++ % 60)}`;
  const hosts: LabHost[] = [];
  for (const i of [0, 1] as const) {
    const hostName = `host-${tag}-${i + 1}`;
    const [sipPort, controlPort, agentPort] = [await freeUdpPort(), await freePort(), await freePort()];
    const config = {
      listen: { host: "127.0.0.1", port: agentPort },
      heartbeat: { timeoutMs: 3000 },
      vips: [{ name: "vip", address: vip, prefix: 24, interface: "lo", driver: "simulated", garp: { count: 1, intervalMs: 200 }, dad: { enabled: false } }],
      apps: [
        await simApp({
          name: "sip",
          hostName,
          sipPort,
          controlPort,
          vip: "vip",
          extra: { autostart: { mode: i === 0 ? "primary" : "backup" } },
        }),
      ],
    };
    opts.agentConfig?.(i, config);
    const agent = await startAgent({ config });
    hosts.push({ name: hostName, hostId: "", serverId: "", serverName: `sip-${i + 1}`, sipPort, agentPort, agent, config, dir: agent.dir, controlPort });
  }
  if (opts.settled !== false) {
    for (const [i, h] of hosts.entries()) {
      const want = i === 0 ? "primary" : "backup";
      await waitFor(`${h.serverName} running as ${want}`, async () => {
        const r = await fetch(`http://127.0.0.1:${h.controlPort}/mode`).catch(() => null);
        return r?.ok && ((await r.json()) as { mode?: string }).mode === want;
      });
    }
  }
  const rows = await Promise.all(
    hosts.map((h) => db.host.create({ data: { name: h.name, address: "127.0.0.1", agentUrl: h.agent.url, agentToken: TEST_TOKEN } })),
  );
  rows.forEach((r, i) => (hosts[i].hostId = r.id));
  const pair = await db.pair.create({
    data: {
      name,
      vipAddress: vip,
      vipPrefix: 24,
      vipInterface: "lo",
      disconnectGraceSeconds: 1,
      heartbeatTimeoutMs: 900,
      holdDownSeconds: 5,
      ...opts.pair,
      servers: {
        create: hosts.map((h, i) => ({ name: h.serverName, hostId: h.hostId, appName: "sip", configuredRole: i === 0 ? ("primary" as const) : ("backup" as const) })),
      },
    },
    include: { servers: true },
  });
  for (const s of pair.servers) hosts.find((h) => h.hostId === s.hostId)!.serverId = s.id;
  const lab: LabPair = {
    pairId: pair.id,
    name,
    vip,
    hosts: hosts as [LabHost, LabHost],
    async restartAgent(i) {
      const h = hosts[i];
      await h.agent.stop("SIGKILL");
      h.agent = await startAgent({ config: h.config, dir: h.dir });
    },
    async cleanup() {
      for (const h of hosts) await h.agent.stop("SIGKILL").catch(() => undefined);
      // The servers outlive their agents by design: end every process started for these hosts (the pids
      // in PairStatus may be a restart behind).
      for (const h of hosts) for (const pid of pidsWithArgs("--host-name", h.name)) killGroup(pid);
      await db.pair.delete({ where: { id: pair.id } }).catch(() => undefined);
      await db.host.deleteMany({ where: { id: { in: hosts.map((h) => h.hostId) } } }).catch(() => undefined);
      for (const h of hosts) if (h.dir) rmDir(h.dir);
    },
  };
  return lab;
}

export async function pairView(pairId: string): Promise<PairView | null> {
  const s = await db.pairStatus.findUnique({ where: { pairId } });
  return (s?.state as unknown as PairView) ?? null;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the pair is healthy with server `primary` (0 or 1) primary and the VIP on its host. */
export async function waitHealthy(lab: LabPair, primary: 0 | 1, timeoutMs = 15_000) {
  try {
    return await waitFor(
      `${lab.name} healthy with ${lab.hosts[primary].serverName} primary`,
      async () => {
        const v = await pairView(lab.pairId);
        return v && v.status === "healthy" && v.servers[primary].mode === "primary" && v.vipHolder === lab.hosts[primary].name && !v.operation ? v : null;
      },
      timeoutMs,
    );
  } catch (e) {
    // Say what the pair looked like instead, and what the controller did: a timeout alone explains nothing.
    const v = await pairView(lab.pairId).catch(() => null);
    const ops = (await operationsOf(lab.pairId).catch(() => [])).map((o) => `${o.kind} ${o.status}: ${o.decision ?? o.reason ?? ""}`);
    const servers = v?.servers.map((s) => `${s.name} ${s.processState}/${s.mode} VIP ${s.vip}`).join(", ");
    throw new Error(`${(e as Error).message}; last view: ${v ? `${v.status} (${v.statusReason}); ${servers}` : "none"}; operations: ${ops.join(" | ") || "none"}`);
  }
}

export async function operationsOf(pairId: string) {
  return db.operation.findMany({ where: { pairId }, include: { steps: { orderBy: { seq: "asc" } } }, orderBy: { createdAt: "asc" } });
}

export async function waitOperationDone(pairId: string, kind: string, count = 1, timeoutMs = 15_000) {
  return waitFor(
    `${count} finished ${kind} operation(s)`,
    async () => {
      const ops = (await operationsOf(pairId)).filter((o) => o.kind === kind && (o.status === "succeeded" || o.status === "failed"));
      return ops.length >= count ? ops[count - 1] : null;
    },
    timeoutMs,
  );
}

export async function auditOf(pairId: string) {
  return db.auditEvent.findMany({ where: { pairId }, orderBy: { id: "asc" } });
}

export async function alarmsOf(pairId: string, hostIds: string[] = []) {
  return db.alarm.findMany({ where: { OR: [{ pairId }, { hostId: { in: hostIds }, pairId: null }] }, orderBy: { raisedAt: "asc" } });
}

export const steps = (op: { steps: { action: string; status: string }[] }) => op.steps.map((s) => `${s.action}:${s.status}`);

/** Errors only: the controller's info and warnings would drown the test output. */
export const quietLog = { info: () => {}, warn: () => {}, error: (m: string, f?: object) => console.error(m, f) };

/**
 * For a test file: one controller in this thread for the whole file (leading before the first test), and
 * the lab pair of each test cleaned up after it. `labs.start()` starts a pair, `controller()` the handle.
 */
export function controllerSuite(opts: Pick<ControllerOptions, "afterStep"> = {}) {
  let controller: ControllerHandle | null = null;
  let lab: LabPair | null = null;
  beforeAll(async () => {
    controller = runController({ log: quietLog, databaseUrl: process.env.DATABASE_URL!, ...opts });
    await waitFor("leadership", async () => controller!.epoch !== null);
  });
  afterAll(async () => {
    await controller?.stop();
  });
  afterEach(async () => {
    await lab?.cleanup();
    lab = null;
  });
  return {
    controller: () => controller!,
    async start(o: LabPairOptions = {}): Promise<LabPair> {
      lab = await startLabPair(o);
      return lab;
    },
  };
}
