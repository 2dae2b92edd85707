/**
 * A controller in a process of its own (controller-main.ts under tsx), in its own process group so that
 * `kill()` ends tsx and the node process it runs together. For tests that kill a controller (-9) or run
 * two side by side.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { killGroup, repoRoot } from "../agent/helpers";

export interface ControllerProcess {
  p: ChildProcess;
  /** Everything it printed so far. */
  out: string[];
  /** When it exited (performance.timeOrigin-based ms), with its code or signal. */
  exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  kill(sig?: NodeJS.Signals): void;
}

const running = new Set<ControllerProcess>();

export function controllerProcess(env: Record<string, string> = {}): ControllerProcess {
  const p = spawn(path.join(repoRoot, "node_modules/.bin/tsx"), [path.join(repoRoot, "tests/integration/controller/controller-main.ts")], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const out: string[] = [];
  p.stdout!.on("data", (d) => out.push(String(d)));
  p.stderr!.on("data", (d) => out.push(String(d)));
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((r) =>
    p.on("exit", (code, signal) => {
      running.delete(c);
      r({ code, signal, at: performance.timeOrigin + performance.now() });
    }),
  );
  const c: ControllerProcess = { p, out, exited, kill: (sig = "SIGKILL") => killGroup(p.pid, sig) };
  running.add(c);
  return c;
}

/** Kills every controller process still running (afterEach/afterAll). */
export function killControllerProcesses() {
  for (const c of running) c.kill();
}
