// `npm run demo` as a user runs it: the whole demo (embedded Postgres, four agents, four simulated SIP
// Servers, the panel) as a child process of this test, then one signal to that process only. Asserts
// that ADMIN_PASSWORD is honoured and never printed, that the favicon and the 404 page (inside the
// panel's shell) are served, and that no process the demo started survives the signal.
// Needs a production build (the demo runs with --no-build here): see tests/integration/helpers/server.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, hasNextBuild, REPO_ROOT } from "../helpers/server";

/** Every live descendant of `root` (from /proc: pid → parent). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(d), ppid);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) if (pp === p) (out.push(pid), walk(pid));
  };
  walk(root);
  return out;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

interface Demo {
  proc: ChildProcess;
  url: string;
  password: string;
  output(): string;
  exited: Promise<number | null>;
  dataDir: string;
}

const started: Demo[] = [];

async function startDemo(how: "npm" | "node"): Promise<Demo> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-demo-test-"));
  chmodSync(dataDir, 0o755); // embedded Postgres runs as the postgres user when we are root
  const port = await freePort();
  const password = `demo-${randomBytes(9).toString("hex")}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ADMIN_PASSWORD: password, SWITCHYARD_DATA_DIR: path.join(dataDir, "data"), DEMO_DIR: path.join(dataDir, "demo"), DEMO_PORT_OFFSET: String(20_000 + Math.floor(Math.random() * 20_000)), NEXT_TELEMETRY_DISABLED: "1" };
  // Its own embedded Postgres and audit files, not the test run's database.
  for (const k of ["DATABASE_URL", "DATABASE_APP_URL", "AUDIT_KEY_FILE", "AUDIT_CHECKPOINT_FILE", "SWITCHYARD_JOURNAL_DIR", "NODE_ENV"]) delete env[k];
  // detached: a process group of its own, only for the clean-up after a failed test; the signal under test goes to the one process.
  const proc =
    how === "npm"
      ? spawn("npm", ["run", "--silent", "demo", "--", "--no-build"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts", "--no-build"], { cwd: REPO_ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const demo: Demo = { proc, url: `http://127.0.0.1:${port}`, password, output: () => out, exited, dataDir };
  started.push(demo);
  return demo;
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, ms: number, demo: Demo) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- demo output ---\n${demo.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every live process whose command line names `text` (the demo's own temp folder: its Postgres, agents, servers). */
function namedProcesses(text: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(text) && isAlive(Number(d))) out.push(`${d}: ${cmd.slice(0, 160)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * Sends `signal` to the demo's process only. Every descendant seen before or while it stops must be gone
 * afterwards, and so must every process naming the demo's temp folder (one that left the tree early).
 */
async function stopAndCheck(demo: Demo, signal: NodeJS.Signals, expected: RegExp[] = []) {
  const seen = new Set(descendants(demo.proc.pid!));
  const cmdlines = [...seen].map((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " "));
  for (const re of expected) expect(cmdlines.some((c) => re.test(c)), `a child matching ${re} among:\n${cmdlines.join("\n")}`).toBe(true);
  expect(seen.size).toBeGreaterThan(0);
  process.kill(demo.proc.pid!, signal);
  let exited = false;
  void demo.exited.then(() => (exited = true));
  const deadline = Date.now() + 45_000;
  while (!exited && Date.now() < deadline) {
    for (const p of descendants(demo.proc.pid!)) seen.add(p);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(exited, demo.output().slice(-3000)).toBe(true);
  // The demo exits after its children; give the kernel a moment to reap grandchildren of exited parents.
  await waitFor("every child to exit", () => [...seen].every((p) => !isAlive(p)) && namedProcesses(demo.dataDir).length === 0, 10_000, demo).catch(() => undefined);
  const survivors = [...seen].filter(isAlive).map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 160)}`);
  expect(survivors).toEqual([]);
  expect(namedProcesses(demo.dataDir)).toEqual([]);
}

afterEach(() => {
  for (const d of started.splice(0)) {
    try {
      process.kill(-d.proc.pid!, "SIGKILL");
    } catch {
      /* already gone */
    }
    rmSync(d.dataDir, { recursive: true, force: true });
  }
});

describe.skipIf(!hasNextBuild())("npm run demo", () => {
  it("honours ADMIN_PASSWORD without printing it, serves the favicon and a 404 in the shell, and stops every child on SIGTERM to npm", { timeout: 180_000 }, async () => {
    const demo = await startDemo("npm");
    await waitFor("the demo to announce itself", () => demo.output().includes("Switchyard demo is running"), 150_000, demo);
    expect(demo.output()).not.toContain(demo.password);
    expect(demo.output()).toContain("the one in ADMIN_PASSWORD");

    const login = await fetch(`${demo.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: demo.password }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

    const ico = await fetch(`${demo.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get("content-type")).toMatch(/icon/);
    const home = await (await fetch(`${demo.url}/`, { headers: { cookie } })).text();
    expect(home).toMatch(/<link rel="icon" href="\/icon\.svg/);
    expect((await fetch(`${demo.url}/icon.svg`)).status).toBe(200);

    const missing = await fetch(`${demo.url}/no/such/page`, { headers: { cookie } });
    expect(missing.status).toBe(404);
    const html = await missing.text();
    expect(html).toContain('data-testid="not-found"');
    expect(html).toContain('aria-label="Main"'); // the panel's navigation around it

    // The whole demo is below the npm process: the panel, the agents, their simulated SIP Servers, Postgres.
    await stopAndCheck(demo, "SIGTERM", [/server\.ts/, /agent\.mjs/, /sim\.mjs/, /postgres/]);
  });

  it("stops every child on SIGINT to its own process, also in the middle of the start-up", { timeout: 180_000 }, async () => {
    const demo = await startDemo("node");
    // As soon as the embedded Postgres and the first agent exist: the lab is half started.
    await waitFor("the lab to be starting", () => descendants(demo.proc.pid!).some((p) => /agent\.mjs/.test(readFileSync(`/proc/${p}/cmdline`, "utf8"))), 120_000, demo);
    await stopAndCheck(demo, "SIGINT");
  });
});
