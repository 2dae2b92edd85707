/**
 * The `linux` VIP driver for real, in network namespaces this test builds (prefix `sya`, addresses
 * 198.18.0.200-250 only; the lab uses `syl` and 198.18.0.1-199):
 *
 *   sya-br: bridge br0 ── sya-h1 (eth0 198.18.0.201/24, runs the agent)
 *                     ── sya-h2 (eth0 198.18.0.202/24, the neighbour that must see the gratuitous ARP)
 *                     ── root namespace veth sya-rt (198.18.0.250/32, host routes only, so that this test
 *                        process reaches the agent without adding a 198.18.0.0/24 route to the machine)
 *
 * VIP 198.18.0.210/24. Traffic goes only to addresses of these namespaces. Torn down in afterAll, and
 * leftovers from an interrupted run are removed first. Needs root (CI runs as root).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AgentClient, buildBundles, startAgent, tempDir, type RunningAgent } from "./helpers";
import { waitFor } from "../controller/lab";

const isRoot = process.getuid?.() === 0;
const NS = { br: "sya-br", h1: "sya-h1", h2: "sya-h2" };
const H1 = "198.18.0.201";
const H2 = "198.18.0.202";
const ROOT = "198.18.0.250";
const VIP = "198.18.0.210";
const VIP2 = "198.18.0.211";
const VIP3 = "198.18.0.212";
const REFUSE = path.join(tempDir("refuse-"), "refuse");

const sh = (args: string[], allowFail = false): string => {
  try {
    return execFileSync(args[0], args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (allowFail) return "";
    const err = e as { stderr?: string; message: string };
    throw new Error(`${args.join(" ")}: ${err.stderr || err.message}`);
  }
};
const ip = (...a: string[]) => sh(["ip", ...a]);

function teardown() {
  for (const ns of Object.values(NS)) {
    for (const pid of sh(["ip", "netns", "pids", ns], true).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
    sh(["ip", "netns", "del", ns], true);
  }
  sh(["ip", "link", "del", "sya-rt"], true);
  sh(["ip", "route", "del", `${H1}/32`], true);
}

function setup() {
  teardown();
  for (const ns of Object.values(NS)) ip("netns", "add", ns);
  ip("-n", NS.br, "link", "add", "br0", "type", "bridge");
  ip("-n", NS.br, "link", "set", "br0", "up");
  for (const [h, addr] of [
    [NS.h1, H1],
    [NS.h2, H2],
  ] as const) {
    const port = `p-${h}`;
    ip("-n", NS.br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h);
    ip("-n", NS.br, "link", "set", port, "master", "br0", "up");
    ip("-n", h, "link", "set", "lo", "up");
    ip("-n", h, "addr", "add", `${addr}/24`, "dev", "eth0");
    ip("-n", h, "link", "set", "eth0", "up");
  }
  // the root namespace joins the bridge with host routes only
  ip("link", "add", "sya-rt", "type", "veth", "peer", "name", "p-root", "netns", NS.br);
  ip("-n", NS.br, "link", "set", "p-root", "master", "br0", "up");
  ip("addr", "add", `${ROOT}/32`, "dev", "sya-rt");
  ip("link", "set", "sya-rt", "up");
  ip("route", "add", `${H1}/32`, "dev", "sya-rt", "src", ROOT);
  // host2 accepts gratuitous ARPs into its neighbour table, so we can see them arrive
  sh(["ip", "netns", "exec", NS.h2, "sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1"]);
}

const mac = (ns: string) => ip("-n", ns, "-o", "link", "show", "eth0").match(/link\/ether ([0-9a-f:]{17})/)![1];
const hasVip = (ns: string, vip = VIP) => new RegExp(`inet ${vip.replace(/\./g, "\\.")}/24`).test(ip("-n", ns, "-o", "addr", "show", "dev", "eth0"));

describe.skipIf(!isRoot)("linux VIP driver in network namespaces (skipped when not root: needs netns and ip addr)", () => {
  let agent: RunningAgent;
  let client: AgentClient;

  beforeAll(async () => {
    await buildBundles();
    setup();
    agent = await startAgent({
      wrap: ["ip", "netns", "exec", NS.h1],
      config: {
        listen: { host: H1, port: 4999 },
        metrics: { listen: { host: H1, port: 4998 } },
        vips: [
          {
            name: "vip",
            address: VIP,
            prefix: 24,
            interface: "eth0",
            driver: "linux",
            garp: { count: 3, intervalMs: 100 },
            dad: { enabled: true, intervalMs: 300, timeoutMs: 1000 },
            observeIntervalMs: 300,
          },
          { name: "vip2", address: VIP2, prefix: 24, interface: "eth0", driver: "linux", garp: { count: 1, intervalMs: 100 }, dad: { enabled: false }, observeIntervalMs: 300 },
          { name: "vip3", address: VIP3, prefix: 24, interface: "eth0", driver: "linux", garp: { count: 2, intervalMs: 100, mode: "both", refreshMs: 1000 }, dad: { enabled: false }, observeIntervalMs: 300 },
        ],
        apps: [
          {
            // a stand-in app: runs until killed; its mode hook confirms, or refuses primary while REFUSE exists
            name: "app",
            command: process.execPath,
            args: ["-e", "setInterval(() => {}, 1 << 30)"],
            modeHook: { type: "command", command: "/bin/sh", args: ["-c", `[ "$SWITCHYARD_MODE" = primary ] && [ -e ${REFUSE} ] && exit 1; echo "$SWITCHYARD_MODE"`], timeoutMs: 3000 },
            vip: "vip2",
          },
        ],
      },
    });
    client = new AgentClient(agent.url, { epoch: 1 });
    await client.ready();
  }, 30_000);

  afterAll(async () => {
    client?.close();
    await agent?.stop();
    teardown(); // kills every process in the namespaces, the stand-in app too
  });

  test("enable: address added, first gratuitous ARP sent before the ack, seen by the neighbour; disable removes it", async () => {
    const h1mac = mac(NS.h1);
    // host2 has a stale, wrong entry for the VIP (as after a failover): only a gratuitous ARP fixes it
    ip("-n", NS.h2, "neigh", "replace", VIP, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale");
    const t0 = performance.now();
    const ack = await client.command({ type: "vip.enable", vip: "vip" });
    const ms = performance.now() - t0;
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    console.log(`vip.enable (ip addr add + first ARP) acknowledged in ${ms.toFixed(1)} ms; runs: ${ack.runs.map((r) => `${r.action} ${r.durationMs} ms`).join(", ")}`);
    expect(ack.runs.map((r) => r.action)).toEqual(["enable", "arp"]);
    expect(ack.runs[1].stdout).toMatch(/ARPING/);
    // The agent's metrics count the burst's ARPs as they are sent (garp.count 3, 100 ms apart).
    await waitFor("the ARPs counted", async () => {
      const text = await (await fetch(`http://${H1}:4998/metrics`)).text();
      return /^switchyard_agent_gratuitous_arp_total\{vip="vip"\} 3$/m.test(text) && /^switchyard_agent_vip_actions_total\{vip="vip",action="enable",result="ok"\} 1$/m.test(text);
    }, 3000);
    expect(ack.snapshot.vips[0]).toMatchObject({ desired: "enabled", observed: "enabled" });
    expect(hasVip(NS.h1)).toBe(true);

    let neigh = "";
    for (let i = 0; i < 40 && !neigh.includes(h1mac); i++) {
      neigh = ip("-n", NS.h2, "neigh", "show", VIP, "dev", "eth0");
      if (!neigh.includes(h1mac)) await new Promise((r) => setTimeout(r, 25));
    }
    expect(neigh).toContain(h1mac);
    // the remaining ARPs are reported as runs too
    const arps = await client.waitEvent((e) => e.type === "vip.run" && e.run.action === "arp" && e.run.stdout.startsWith("[3/3]"), 3000);
    expect(arps.type === "vip.run" && arps.run.ok).toBe(true);

    const off = await client.command({ type: "vip.disable", vip: "vip" });
    expect(off.ok && off.snapshot.vips[0].observed).toBe("disabled");
    expect(hasVip(NS.h1)).toBe(false);
  });

  test("gratuitous ARP as request and reply (garp.mode both), refreshed every refreshMs while enabled, stopped by the disable", async () => {
    // host2 counts the ARP requests and replies whose sender is VIP3 (nft, arp family, in its namespace)
    const nft = (...a: string[]) => sh(["ip", "netns", "exec", NS.h2, "nft", ...a]);
    nft("add", "table", "arp", "sya_garp");
    nft("add", "chain", "arp", "sya_garp", "in", "{ type filter hook input priority 0; }");
    nft("add", "rule", "arp", "sya_garp", "in", "arp", "operation", "request", "arp", "saddr", "ip", VIP3, "counter");
    nft("add", "rule", "arp", "sya_garp", "in", "arp", "operation", "reply", "arp", "saddr", "ip", VIP3, "counter");
    const counts = () => {
      const out = nft("list", "chain", "arp", "sya_garp", "in");
      const n = (op: string) => Number(new RegExp(`operation ${op} .*counter packets (\\d+)`).exec(out)?.[1] ?? NaN);
      return { request: n("request"), reply: n("reply") };
    };
    const h1mac = mac(NS.h1);
    ip("-n", NS.h2, "neigh", "replace", VIP3, "lladdr", "02:00:00:00:00:97", "dev", "eth0", "nud", "stale");
    const ack = await client.command({ type: "vip.enable", vip: "vip3" });
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    expect(ack.runs.map((r) => r.action)).toEqual(["enable", "arp"]);
    expect(ack.runs[1].stdout).toMatch(/^\[1\/2 request\] sending/);
    // the burst: 2 requests and 2 replies; then one of each per refresh (1 s)
    await new Promise((r) => setTimeout(r, 600));
    const burst = counts();
    expect(burst).toEqual({ request: 2, reply: 2 });
    expect(ip("-n", NS.h2, "neigh", "show", VIP3, "dev", "eth0")).toContain(h1mac);
    await client.waitEvent((e) => e.type === "vip.run" && e.vip === "vip3" && e.run.stdout.startsWith("[refresh reply]"), 3000);
    const refreshed = counts();
    expect(refreshed.request).toBeGreaterThanOrEqual(3);
    expect(refreshed.reply).toBeGreaterThanOrEqual(3);
    const off = await client.command({ type: "vip.disable", vip: "vip3" });
    expect(off.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // more than a refresh interval: nothing more is sent
    const after = counts();
    await new Promise((r) => setTimeout(r, 1200));
    expect(counts()).toEqual(after);
    console.log(`garp.mode both + refreshMs 1000: burst ${JSON.stringify(burst)}, after the first refresh ${JSON.stringify(refreshed)}, none after the disable`);
  });

  test("disabling an absent VIP succeeds (idempotent: iproute2 6.1 says 'Address not found')", async () => {
    expect(hasVip(NS.h1)).toBe(false);
    const off = await client.command({ type: "vip.disable", vip: "vip" });
    expect(off.ok).toBe(true);
    if (!off.ok) return;
    expect(off.runs[0]).toMatchObject({ action: "disable", ok: true });
    // the real `ip addr del` ran and said the address was not there (exit 2), which counts as done
    expect(off.runs[0].exitCode).not.toBe(0);
    expect(off.runs[0].stderr).toMatch(/Address not found|Cannot assign requested address/i);
    expect(off.snapshot.vips[0]).toMatchObject({ desired: "disabled", observed: "disabled" });
    // and again after an enable whose address was removed behind the agent's back (the failover case)
    expect((await client.command({ type: "vip.enable", vip: "vip" })).ok).toBe(true);
    ip("-n", NS.h1, "addr", "del", `${VIP}/24`, "dev", "eth0");
    const again = await client.command({ type: "vip.disable", vip: "vip" });
    expect(again.ok && again.snapshot.vips[0].observed).toBe("disabled");
    expect(hasVip(NS.h1)).toBe(false);
  });

  test("promotion: ip addr add runs with the mode hook, the ARP waits for the app; a refusal removes the address again", async () => {
    const h1mac = mac(NS.h1);
    const st = await client.command({ type: "app.start", app: "app" });
    expect(st.ok).toBe(true);
    ip("-n", NS.h2, "neigh", "replace", VIP2, "lladdr", "02:00:00:00:00:98", "dev", "eth0", "nud", "stale");
    const t0 = performance.now();
    const p = await client.command({ type: "app.setMode", app: "app", mode: "primary" });
    const ms = performance.now() - t0;
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    console.log(`app.setMode primary (command hook ∥ ip addr add, then first ARP) acknowledged in ${ms.toFixed(1)} ms; runs: ${p.runs.map((r) => `${r.action} ${r.durationMs} ms`).join(", ")}`);
    // the runs read in order: mode hook, ip addr add, first ARP
    expect(p.runs.map((r) => `${r.kind}:${r.action}:${r.ok}`)).toEqual(["mode-hook:set-mode:true", "vip:enable:true", "vip:arp:true"]);
    expect(p.snapshot.apps[0].mode).toBe("primary");
    expect(hasVip(NS.h1, VIP2)).toBe(true);
    let neigh = "";
    for (let i = 0; i < 40 && !neigh.includes(h1mac); i++) {
      neigh = ip("-n", NS.h2, "neigh", "show", VIP2, "dev", "eth0");
      if (!neigh.includes(h1mac)) await new Promise((r) => setTimeout(r, 25));
    }
    expect(neigh).toContain(h1mac);

    const b = await client.command({ type: "app.setMode", app: "app", mode: "backup" });
    expect(b.ok && b.snapshot.vips[1].observed).toBe("disabled");
    expect(hasVip(NS.h1, VIP2)).toBe(false);

    // the app refuses primary: the address added in parallel is removed again, no gratuitous ARP is sent
    writeFileSync(REFUSE, "");
    ip("-n", NS.h2, "neigh", "replace", VIP2, "lladdr", "02:00:00:00:00:98", "dev", "eth0", "nud", "stale");
    const since = client.events.length;
    const r = await client.command({ type: "app.setMode", app: "app", mode: "primary" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("FAILED");
    expect(r.error.message).toMatch(/mode hook did not confirm primary/);
    expect(r.runs.map((x) => `${x.kind}:${x.action}:${x.ok}`)).toEqual(["mode-hook:set-mode:false", "vip:enable:true", "vip:disable:true"]);
    expect(hasVip(NS.h1, VIP2)).toBe(false);
    const s = await client.command({ type: "state.get" });
    expect(s.ok && s.snapshot.vips[1]).toMatchObject({ desired: "disabled", observed: "disabled" });
    expect(client.events.slice(since).some((e) => e.type === "vip.run" && e.vip === "vip2" && e.run.action === "arp")).toBe(false);
    expect(ip("-n", NS.h2, "neigh", "show", VIP2, "dev", "eth0")).not.toContain(h1mac);
    rmSync(REFUSE, { force: true });
  });

  test("observed state comes from the interface: an address added behind the agent's back is reported", async () => {
    const since = client.events.length;
    ip("-n", NS.h1, "addr", "add", `${VIP}/24`, "dev", "eth0");
    const ev = await client.waitEvent((e) => e.type === "vip.state" && e.observed === "enabled", 3000, since);
    expect(ev.type === "vip.state" && ev.desired).toBe("disabled");
    ip("-n", NS.h1, "addr", "del", `${VIP}/24`, "dev", "eth0");
    await client.waitEvent((e) => e.type === "vip.state" && e.observed === "disabled", 3000, since);
  });

  test("duplicate detected when both hosts hold the VIP", async () => {
    const h2mac = mac(NS.h2);
    const en = await client.command({ type: "vip.enable", vip: "vip" });
    expect(en.ok).toBe(true);
    const since = client.events.length;
    ip("-n", NS.h2, "addr", "add", `${VIP}/24`, "dev", "eth0");
    try {
      const dup = await client.waitEvent((e) => e.type === "vip.duplicate", 5000, since);
      expect(dup.type === "vip.duplicate" && dup.mac).toBe(h2mac);
      const s = await client.command({ type: "state.get" });
      expect(s.ok && s.snapshot.vips[0].duplicate).toMatchObject({ detected: true, mac: h2mac });
    } finally {
      ip("-n", NS.h2, "addr", "del", `${VIP}/24`, "dev", "eth0");
    }
    const off = await client.command({ type: "vip.disable", vip: "vip" });
    expect(off.ok && off.snapshot.vips[0].duplicate.detected).toBe(false);
  });

  test("resident helper (agent/vip/linux-helper.ts): one per linux VIP; killed, the agent falls back to direct spawns and restarts it", async () => {
    // The helper is `/bin/sh -c SCRIPT switchyard-vip-helper ...`; its background ARP subshells share its
    // command line, so the helpers are those whose parent is not one.
    const helpers = () => {
      const procs = sh(["ip", "netns", "pids", NS.h1]).split(/\s+/).filter(Boolean).flatMap((pid) => {
        try {
          if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("switchyard-vip-helper")) return [];
          return [{ pid, ppid: readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1] }];
        } catch {
          return []; // exited meanwhile
        }
      });
      const pids = new Set(procs.map((p) => p.pid));
      return procs.filter((p) => !pids.has(p.ppid)).map((p) => p.pid);
    };
    const before = helpers();
    expect(before).toHaveLength(3);
    for (const pid of before) process.kill(Number(pid), "SIGKILL");
    // at once (helper down or just restarting): the VIP still moves, with direct spawns if need be
    const en = await client.command({ type: "vip.enable", vip: "vip" });
    expect(en.ok && en.runs.map((r) => `${r.action}:${r.ok}`)).toEqual(["enable:true", "arp:true"]);
    expect(hasVip(NS.h1)).toBe(true);
    let after: string[] = [];
    for (let i = 0; i < 60 && after.length !== 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = helpers();
    }
    expect(after).toHaveLength(3);
    expect(after.some((p) => before.includes(p))).toBe(false);
    const off = await client.command({ type: "vip.disable", vip: "vip" });
    expect(off.ok && off.runs[0]).toMatchObject({ action: "disable", ok: true, exitCode: 0 });
    expect(hasVip(NS.h1)).toBe(false);
    const again = await client.command({ type: "vip.disable", vip: "vip" });
    expect(again.ok && again.runs[0].stderr).toMatch(/Address not found|Cannot assign requested address/i);
  });
});
