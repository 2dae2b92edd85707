/**
 * Set-mode latency of the agent's mode hooks against a real Kamailio (examples/kamailio/kamailio.cfg on
 * 127.0.0.1, its mode in $shv(mode)): the `jsonrpc` hook (HTTP POST to jsonrpcs/xhttp over a kept-alive
 * connection, no program started) against `command` hooks that start kamcmd (the ctl module), directly and
 * through examples/kamailio/mode-hook.sh. The agent's own code (agent/hooks.ts runModeHook) is what is
 * timed; the modes alternate primary/backup so every call changes the value. Every result is checked
 * with a get-mode.
 *
 *   npx tsx bench/mode-hook.ts [--runs 200]      # needs kamailio and kamcmd (apt-get install kamailio)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppConfig, type ModeHook } from "../agent/config";
import { runModeHook } from "../agent/hooks";
import { endGroup } from "../agent/proc";
import { sipOptions } from "../protocol/sip";
import { freePort } from "../tests/integration/agent/helpers";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 200) || 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sy-bench-kam-"));
  const [sip, rpc, ctl] = [await freePort(), await freePort(), await freePort()];
  const kam = spawn(
    "kamailio",
    ["-f", path.join(repo, "examples/kamailio/kamailio.cfg"), "-DD", "-E", "-m", "32", "-M", "8", "-Y", dir,
      "-l", `udp:127.0.0.1:${sip}`, "-l", `tcp:127.0.0.1:${rpc}`, "-A", 'SY_HOST="bench"', "-A", `RPC_PORT=${rpc}`,
      "-A", "WITH_CTL", "-A", `CTL_SOCK="tcp:127.0.0.1:${ctl}"`],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let err = "";
  kam.stderr!.on("data", (d) => (err += d));
  const stop = async () => {
    if (kam.pid) {
      try {
        process.kill(-kam.pid, "SIGTERM");
      } catch {}
      await endGroup(kam.pid, { deadline: performance.now() + 2000, kill: true });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = Date.now();
    for (;;) {
      try {
        await sipOptions({ host: "127.0.0.1", port: sip, timeoutMs: 200 });
        break;
      } catch {
        if (Date.now() - t0 > 10_000 || kam.exitCode !== null) throw new Error(`kamailio did not start:\n${err.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const app = AppConfig.parse({ name: "kamailio", command: "kamailio" });
    const direct = (mode: string): ModeHook => ({ type: "command", command: "kamcmd", args: ["-s", `tcp:127.0.0.1:${ctl}`, "pv.shvSet", "mode", "str", mode], timeoutMs: 5000 });
    const hooks: [string, ModeHook | ((mode: string) => ModeHook)][] = [
      ["jsonrpc (HTTP POST, kept-alive)", { type: "jsonrpc", url: `http://127.0.0.1:${rpc}/RPC`, setMethod: "pv.shvSet", setParams: ["mode", "str", "{mode}"], getMethod: "pv.shvGet", getParams: ["mode"], headers: {}, timeoutMs: 2000 }],
      ["command: kamcmd (direct, fixed args)", direct],
      ["command: kamcmd via mode-hook.sh", { type: "command", command: path.join(repo, "examples/kamailio/mode-hook.sh"), args: [], timeoutMs: 5000 }],
    ];
    process.env.KAMCMD_SOCK = `tcp:127.0.0.1:${ctl}`;
    const results: Record<string, number[]> = {};
    // warm up each (the jsonrpc hook's connection, the page cache of kamcmd)
    const rpcHook = hooks[0][1] as ModeHook;
    for (const [, h] of hooks) await runModeHook(app, typeof h === "function" ? h("backup") : h, typeof h === "function" ? "backup" : null);
    for (let i = 0; i < runs; i++) {
      const mode = i % 2 ? "backup" : "primary";
      // rotate which hook goes first, so none always follows another
      for (const [name, h] of [...hooks.slice(i % hooks.length), ...hooks.slice(0, i % hooks.length)]) {
        const r = await runModeHook(app, typeof h === "function" ? h(mode) : h, mode);
        if (!r.run.ok || r.confirmed !== mode) throw new Error(`${name}: set ${mode} failed: ${r.run.stdout} ${r.run.stderr}`);
        (results[name] ??= []).push(r.run.durationMs);
        const g = await runModeHook(app, rpcHook, null);
        if (g.confirmed !== mode) throw new Error(`${name}: Kamailio says ${g.confirmed} after set ${mode}`);
      }
    }
    console.log(`set-mode latency against Kamailio ${kam.pid} on 127.0.0.1, ${runs} calls each (ms), load ${os.loadavg()[0].toFixed(2)}`);
    for (const [name, xs] of Object.entries(results))
      console.log(`${name.padEnd(36)} median ${pct(xs, 50).toFixed(2)}  p90 ${pct(xs, 90).toFixed(2)}  p99 ${pct(xs, 99).toFixed(2)}  min ${Math.min(...xs).toFixed(2)}`);
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
