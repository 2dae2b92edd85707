/**
 * The agent-only floor (root): the same namespace lab, agents and SIP Servers as the lab tests, but driven
 * directly through the agent protocol (no panel, no database), so that the panel's own cost in a
 * switchover can be told apart from the agent's and the network's.
 *
 *   npm run lab:floor -- [--runs 10]        (root; writes bench/results/floor.json)
 *
 * Manual: set-mode backup on the primary's agent, then set-mode primary on the backup's (the source
 * document's order), timed from the first command to the client's first 200 from the new primary.
 * Failover: kill -9 of the primary SIP Server; the exit event from its agent triggers set-mode primary on
 * the backup's agent at once; timed from the kill to the client's first 200 from the backup.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { AgentLink } from "./agent-link";
import { Lab, REPO, now, randomPrefix, randomToken, stats, waitFor, type HostNode } from "./harness";

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write("lab/floor.ts needs root (network namespaces)\n");
    return 1;
  }
  const { values } = parseArgs({ options: { runs: { type: "string" } } });
  const runs = Number(values.runs ?? 10);
  if (!Number.isInteger(runs) || runs < 1 || runs > 200) {
    process.stderr.write("--runs: a whole number from 1 to 200\n");
    return 2;
  }
  const lab = await Lab.setup({ prefix: randomPrefix(), sessionLockWaitMs: 300_000 });
  const links: AgentLink[] = [];
  let prober: ReturnType<Lab["startProber"]> | undefined;
  const stop = () => void lab.teardown().then(() => process.exit(130));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const token = randomToken();
    const [a1, a2] = await Promise.all([
      lab.startAgent({ host: "host1", token, autostartMode: "primary" }),
      lab.startAgent({ host: "host2", token, autostartMode: "backup" }),
    ]);
    const link: Record<HostNode, AgentLink> = { host1: new AgentLink(a1.url, token), host2: new AgentLink(a2.url, token) };
    links.push(link.host1, link.host2);
    await Promise.all(links.map((l) => l.ready()));
    await waitFor("host1 to hold the VIP", async () => (await lab.vipHolders()).join() === "host1", 20_000);
    prober = lab.startProber();
    const vip = `${lab.addr.vip}:5060`;
    await prober.ready(vip);
    const other = (h: HostNode): HostNode => (h === "host1" ? "host2" : "host1");

    const manual: number[] = [];
    // Durations of the agent's own runs (mode hook, ip addr del/add, first gratuitous ARP) from the acks.
    const runMs: Record<string, number[]> = {};
    const collect = (prefix: string, ack: { runs: { action: string; durationMs: number }[] }) => {
      for (const r of ack.runs) (runMs[`${prefix} ${r.action}`] ??= []).push(r.durationMs);
    };
    let primary: HostNode = "host1";
    for (let i = 0; i < runs; i++) {
      const to = other(primary);
      const u = prober.until(vip, { host: to }, { maxMs: 10_000 });
      await u.started;
      const t0 = now();
      const d = await link[primary].command({ type: "app.setMode", app: "sip", mode: "backup" });
      const p = await link[to].command({ type: "app.setMode", app: "sip", mode: "primary" });
      const r = await u.result;
      if (!d.ok || !p.ok || !r.matched) throw new Error(`manual run ${i + 1} failed: ${JSON.stringify({ d: d.ok, p: p.ok, r: r.error })}`);
      collect("demote", d);
      collect("promote", p);
      manual.push(r.matchedAt! - t0);
      primary = to;
    }

    const failover: number[] = [];
    for (let i = 0; i < runs; i++) {
      const to = other(primary);
      const pid = await lab.simPid(primary);
      if (!pid) throw new Error(`no SIP Server in ${primary}`);
      const failed = link[primary].waitEvent((e) => e.type === "app.state" && e.state === "failed", 10_000);
      const u = prober.until(vip, { host: to }, { maxMs: 10_000 });
      await u.started;
      const t0 = now();
      process.kill(pid, "SIGKILL");
      await failed;
      const p = await link[to].command({ type: "app.setMode", app: "sip", mode: "primary" });
      collect("failover promote", p);
      const r = await u.result;
      if (!r.matched) throw new Error(`failover run ${i + 1}: ${r.error}`);
      failover.push(r.matchedAt! - t0);
      // Restart the failed one (the SIP Server starts in backup mode; its VIP was already removed on failure).
      const s = await link[primary].command({ type: "app.start", app: "sip" });
      if (!s.ok) throw new Error(`restart of ${primary}: ${s.error.message}`);
      primary = to;
    }
    const result = {
      generatedAt: new Date().toISOString(),
      machine: { kernel: os.release(), cpus: os.cpus().length, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
      method: "agents driven directly over the agent protocol (no panel, no database); client probes the VIP every 2 ms",
      manualSwitchover: { ...stats(manual), samples: manual.map((x) => Math.round(x * 10) / 10) },
      failover: { ...stats(failover), samples: failover.map((x) => Math.round(x * 10) / 10) },
      agentRunsMedianMs: Object.fromEntries(Object.entries(runMs).map(([k, v]) => [k, stats(v).median])),
    };
    const dir = path.join(REPO, "bench", "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "floor.json"), JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(
      `agent-only floor: manual switchover median ${result.manualSwitchover.median} ms (worst ${result.manualSwitchover.worst}); ` +
        `failover median ${result.failover.median} ms (worst ${result.failover.worst}); n=${runs} -> bench/results/floor.json\n` +
        `agent runs (median ms): ${Object.entries(result.agentRunsMedianMs).map(([k, v]) => `${k} ${v}`).join(", ")}\n`,
    );
    return 0;
  } finally {
    prober?.close();
    for (const l of links) l.close();
    await lab.teardown();
  }
}

main().then(
  (c) => process.exit(c),
  (e) => {
    process.stderr.write(`lab/floor.ts: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
