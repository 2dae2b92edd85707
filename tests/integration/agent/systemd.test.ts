/**
 * The agent under systemd (issue 11): Type=notify and WatchdogSec. systemd's notification socket is played
 * by a real unix datagram socket bound by python3 (what systemd binds: below the layer under test); the
 * agent sends through systemd's own systemd-notify (agent/systemd.ts): READY=1 once it listens, with its
 * MAINPID, WATCHDOG=1 every half of WATCHDOG_USEC, STOPPING=1 on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startAgent, tempDir, type RunningAgent } from "./helpers";

const hasTools = spawnSync("systemd-notify", ["--help"]).status === 0 && spawnSync("python3", ["-c", "import socket"]).status === 0;
let receiver: ChildProcess | null = null;
let agent: RunningAgent | null = null;

afterAll(async () => {
  await agent?.stop().catch(() => undefined);
  receiver?.kill();
});

describe("agent under systemd", () => {
  it("READY=1 with its pid once listening, WATCHDOG=1 every half period, STOPPING=1 on SIGTERM", async ({ skip }) => {
    if (!hasTools) skip("needs systemd-notify (Debian's systemd package) and python3");
    const sock = path.join(tempDir("notify-"), "notify.sock");
    // One line per datagram received, as JSON: {"t": ms, "msg": "..."}.
    receiver = spawn("python3", ["-u", "-c", `
import socket, json, time, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(${JSON.stringify(sock)})
print(json.dumps({"bound": True}), flush=True)
while True:
    m = s.recv(4096).decode()
    print(json.dumps({"t": time.time() * 1000, "msg": m}), flush=True)
`]);
    const got: { t: number; msg: string }[] = [];
    const bound = new Promise<void>((resolve) => {
      createInterface({ input: receiver!.stdout! }).on("line", (l) => {
        const j = JSON.parse(l) as { bound?: boolean; t: number; msg: string };
        if (j.bound) resolve();
        else got.push(j);
      });
    });
    await bound;
    agent = await startAgent({ config: {}, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: "400000" } });
    const pid = agent.proc.pid!;
    const until = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!pred()) throw new Error(`${what}: not received; got ${JSON.stringify(got.map((g) => g.msg))}`);
    };
    await until(() => got.some((g) => g.msg.includes("READY=1")), "READY=1");
    const ready = got.find((g) => g.msg.includes("READY=1"))!;
    expect(ready.msg).toContain(`MAINPID=${pid}`);
    expect(ready.msg).toMatch(/STATUS=listening on 127\.0\.0\.1:\d+/);
    await until(() => got.filter((g) => g.msg.includes("WATCHDOG=1")).length >= 4, "four WATCHDOG=1");
    const pings = got.filter((g) => g.msg.includes("WATCHDOG=1")).map((g) => g.t);
    const gaps = pings.slice(1).map((t, i) => t - pings[i]!);
    // Half of 400 ms: about 200 ms apart (a spawned systemd-notify each; bounds loose for a loaded machine).
    for (const g of gaps) expect(g).toBeGreaterThan(100);
    await agent.stop("SIGTERM");
    agent = null;
    await until(() => got.some((g) => g.msg.includes("STOPPING=1")), "STOPPING=1");
    // After STOPPING, no more pings.
    const n = got.filter((g) => g.msg.includes("WATCHDOG=1")).length;
    await new Promise((r) => setTimeout(r, 500));
    expect(got.filter((g) => g.msg.includes("WATCHDOG=1")).length).toBe(n);
  });
});
