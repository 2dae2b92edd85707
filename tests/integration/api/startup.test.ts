/** A bad setting stops the real server at start-up, naming the variable (before it touches anything). */
import { spawn } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../agent/helpers";

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(path.join(repoRoot, "node_modules/.bin/tsx"), ["server.ts"], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr!.on("data", (d) => (stderr += String(d)));
    p.on("exit", (code) => resolve({ code, stderr }));
  });
}

it("refuses to start with a bad value, naming the variable and what it expects (exit 78)", async () => {
  const r = await start({ SESSION_TTL: "forever", REALTIME_ADAPTER: "redis", PORT: "3000" });
  expect(r.code).toBe(78);
  expect(r.stderr).toContain('SESSION_TTL="forever": expected a duration such as 30m, 12h, 2d or a number of seconds');
  expect(r.stderr).toContain('REALTIME_ADAPTER="redis"');
  expect(r.stderr).toContain("docs/configuration.md");
});
