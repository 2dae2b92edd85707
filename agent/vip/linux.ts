/**
 * The linux VIP driver: `ip addr add/del CIDR dev IF`, gratuitous ARPs with `arping -U`, duplicate address
 * detection with `arping -D`, the observed state from `ip -o addr show dev IF`.
 *
 * Hot path (enable): `ip addr add` → spawn the first gratuitous ARP at once (before any event, state file
 * write or re-read: the driver calls the Vip's record/saveSoon/settle only after the spawn) → resolve as
 * soon as arping announces it is sending (its stdout made line-buffered by preloading coreutils'
 * libstdbuf, without the extra exec of the `stdbuf` wrapper) → remaining ARPs in the background, every
 * garp.intervalMs. No sleeps and no polling before the first ARP.
 *
 * With a gate (a promotion: the agent runs the app's mode hook in parallel), the address is added at once
 * but the first ARP waits for the gate; a gate that resolves false removes the address again and no ARP is
 * sent (an address without an ARP moves no client: they keep the old holder's MAC).
 *
 * `ip addr add/del` and the first ARP go through a resident `/bin/sh` per VIP (./linux-helper.ts: a fixed
 * script, configuration values as arguments) so that the hot path does not fork the Node process; direct
 * spawns whenever the helper is not up, or always with `residentHelper: false` in the VIP's configuration.
 */
import { existsSync } from "node:fs";
import type { DriverRun } from "../../protocol/agent";
import { log } from "../../lib/log";
import type { VipConfig } from "../config";
import { boundText, nowIso, runCommand, syntheticRun } from "../util";
import { describeFailure, runVip, type ActionContext, type DadResult, type Observation, type VipDriver, type VipResult } from "./driver";
import { LinuxHelper } from "./linux-helper";

/**
 * `ip addr del` of an address that is not there: older iproute2 says "RTNETLINK answers: Cannot assign
 * requested address", iproute2 >= 5.x (Debian 12: 6.1) says "Error: ipv4: Address not found." or
 * "Error: ipv6: address not found." (exit 2). All mean the address is already absent.
 */
export const ADDRESS_ABSENT = /Cannot assign requested address|\bAddress not found\b/i;

/**
 * coreutils' libstdbuf (what `stdbuf -oL` preloads): arping's stdout to a pipe is block-buffered, so its
 * "ARPING ..." line, printed just before the first packet is sent, would only arrive when arping exits
 * (about 1 s after `-c 1`). Preloading the library directly makes it line-buffered without exec'ing the
 * `stdbuf` wrapper first (measured: first ARP on the wire ~2 ms earlier). Only as root: with file
 * capabilities and a non-root agent the loader ignores LD_PRELOAD (secure execution), so the first ARP is
 * then acknowledged when arping has been exec'd.
 */
const LIBSTDBUF =
  process.getuid?.() === 0
    ? (["/usr/libexec/coreutils/libstdbuf.so", "/usr/lib/coreutils/libstdbuf.so", "/usr/lib/x86_64-linux-gnu/coreutils/libstdbuf.so", "/usr/lib/aarch64-linux-gnu/coreutils/libstdbuf.so"].find((p) => existsSync(p)) ?? null)
    : null;

export class LinuxDriver implements VipDriver {
  readonly gated = true;
  readonly initialObserved = "unknown" as const;
  /** Resident shell running `ip addr add/del` and the first ARP (null: direct spawns only). */
  private readonly helper: LinuxHelper | null;
  private arpTimers: NodeJS.Timeout[] = [];
  private refreshTimer?: NodeJS.Timeout;

  constructor(private readonly cfg: VipConfig) {
    // The resident shell helper (./linux-helper.ts), unless the VIP's configuration turns it off.
    this.helper = cfg.residentHelper
      ? new LinuxHelper({ name: cfg.name, ip: cfg.commands.ip, arping: cfg.commands.arping, address: cfg.address, prefix: cfg.prefix, interface: cfg.interface, libstdbuf: LIBSTDBUF })
      : null;
  }

  start() {
    this.helper?.start();
  }

  close() {
    this.helper?.close();
    this.cancelArps();
  }

  async enable(ctx: ActionContext, gate?: Promise<boolean>): Promise<VipResult> {
    const runs: DriverRun[] = [];
    const add = await this.ipAddr("add", "enable");
    const already = !add.ok && /File exists|already assigned/i.test(add.stderr);
    if (already) add.ok = true;
    runs.push(add);
    if (!add.ok) {
      ctx.record(add);
      ctx.saveSoon();
      await ctx.settle(false, "enabled");
      return { ok: false, runs, error: describeFailure("ip addr add", add) };
    }
    if (gate && !(await gate)) return this.rollBack(ctx, add, runs);
    // The first gratuitous ARP is spawned here, synchronously, before anything else happens: the add's
    // vip.run event, the vip.state event and the state file write come after it.
    const first = this.firstArp(ctx);
    ctx.record(add);
    ctx.saveSoon(); // desired: enabled (kept for an agent restart)
    await ctx.settle(true, "enabled");
    const arp = await first;
    runs.push(arp);
    ctx.record(arp, false);
    return { ok: true, runs };
  }

  /** The gate of enable() said no: take the just-added address away again (no ARP was sent). */
  private async rollBack(ctx: ActionContext, add: DriverRun, runs: DriverRun[]): Promise<VipResult> {
    ctx.record(add);
    ctx.rolledBack();
    ctx.saveSoon();
    if (!ctx.current()) return { ok: false, runs, error: "VIP enable cancelled (the app did not confirm primary)" };
    const del = await this.del();
    runs.push(del);
    ctx.record(del);
    await ctx.settle(del.ok, "disabled", false);
    if (del.ok) return { ok: false, runs, error: "rolled back: the app did not confirm primary, the address was removed again" };
    log.error("VIP roll-back failed: the address may still be on the interface (no gratuitous ARP was sent)", { vip: this.cfg.name, stderr: del.stderr.slice(0, 200) });
    return { ok: false, runs, error: describeFailure("roll-back ip addr del", del) };
  }

  async disable(ctx: ActionContext): Promise<VipResult> {
    this.cancelArps();
    const runs: DriverRun[] = [];
    const del = await this.del();
    runs.push(del);
    ctx.record(del);
    ctx.saveSoon(); // desired: disabled (after the action: not on its path)
    if (!del.ok && !del.timedOut) {
      // A message we do not know: the interface decides. Absent there means disabled, whatever ip said.
      const { observed, run } = await this.read();
      if (run) runs.push(run);
      if (observed === "disabled") del.ok = true;
    }
    await ctx.settle(del.ok, "disabled");
    return del.ok ? { ok: true, runs } : { ok: false, runs, error: describeFailure("ip addr del", del) };
  }

  /** `ip addr del`; an address that is already absent counts as removed (idempotent disable). */
  private async del(): Promise<DriverRun> {
    const del = await this.ipAddr("del", "disable");
    if (!del.ok && !del.timedOut && ADDRESS_ABSENT.test(del.stderr)) del.ok = true;
    return del;
  }

  /** `ip addr add|del CIDR dev IF`: through the resident helper when it is up, else a direct spawn. */
  private async ipAddr(step: "add" | "del", action: "enable" | "disable"): Promise<DriverRun> {
    const c = this.cfg;
    const viaHelper = await this.helper?.ipAddr(step, action, 5000);
    if (viaHelper) return viaHelper;
    return runVip(c, action, c.commands.ip, ["addr", step, `${c.address}/${c.prefix}`, "dev", c.interface], 5000);
  }

  private cancelArps() {
    for (const t of this.arpTimers) clearTimeout(t);
    this.arpTimers = [];
    clearInterval(this.refreshTimer);
  }

  /** Starts the GARP burst; resolves when the first ARP is on its way (arping's header line, or its exit). */
  private firstArp(ctx: ActionContext): Promise<DriverRun> {
    const c = this.cfg;
    this.cancelArps();
    if (c.garp.count === 0)
      return Promise.resolve(syntheticRun({ kind: "vip", driver: "linux", action: "arp", target: c.name }, performance.now(), nowIso(), true, "gratuitous ARP disabled (garp.count 0)"));
    // garp.mode: ARP request (arping -U), ARP reply (arping -A), or both (the request first; some devices
    // take only one kind).
    const kinds: boolean[] = c.garp.mode === "both" ? [false, true] : [c.garp.mode === "reply"];
    const label = (i: number, reply: boolean) => (i < 0 ? "[refresh" : `[${i + 1}/${c.garp.count}`) + (c.garp.mode === "both" ? (reply ? " reply]" : " request]") : "]");
    const send = (i: number, reply: boolean, onLine?: (line: string) => void) => {
      const args = [reply ? "-A" : "-U", "-c", "1", "-I", c.interface, c.address];
      // The first burst through the resident helper (no Node fork on the hot path); the later ones, 100 ms
      // and more after, and any ARP while the helper is down, as direct spawns.
      const viaHelper = i === 0 ? this.helper?.arp("arp", 5000, onLine, reply) : null;
      const direct = () =>
        runVip(c, `arp`, c.commands.arping, args, 5000, (child) => {
          if (!onLine) return;
          child.stdout!.once("data", (b: Buffer) => onLine(String(b)));
          child.once("spawn", () => {
            if (!LIBSTDBUF) onLine("(spawned)");
          });
        }, LIBSTDBUF ? preloadEnv(LIBSTDBUF) : undefined);
      const p = viaHelper ? viaHelper.then((r) => r ?? direct()) : direct();
      return p.then((run) => {
        run.stdout = boundText(`${label(i, reply)} ${run.stdout}`);
        ctx.emitRun(run);
        if (!run.ok) log.warn("gratuitous ARP failed", { vip: c.name, exitCode: run.exitCode, stderr: run.stderr });
        return run;
      });
    };
    const t0 = performance.now();
    const startedAt = nowIso();
    const p = new Promise<DriverRun>((resolve) => {
      let done = false;
      const first = send(0, kinds[0]!, (line) => {
        if (done) return;
        done = true;
        resolve(syntheticRun({ kind: "vip", driver: "linux", action: "arp", target: c.name }, t0, startedAt, true, `${label(0, kinds[0]!)} sending: ${line.trim()}`, "", {}));
        // The other kind (mode both) right after, off the acknowledgement's path.
        for (const k of kinds.slice(1)) setImmediate(() => ctx.current() && void send(0, k));
      });
      first.then((run) => {
        if (done) return;
        done = true;
        resolve(run);
      });
    });
    for (let i = 1; i < c.garp.count; i++) {
      this.arpTimers.push(
        setTimeout(() => {
          // Only while this enable is still the VIP's latest action (a disable also cancels the timers).
          if (ctx.current()) for (const k of kinds) void send(i, k);
        }, i * c.garp.intervalMs),
      );
    }
    // garp.refreshMs: announce again periodically while this enable stands (a neighbour that missed the
    // burst, or whose entry went stale, learns the holder again); a disable or a newer action stops it.
    if (c.garp.refreshMs > 0) {
      this.refreshTimer = setInterval(() => {
        if (!ctx.current()) return clearInterval(this.refreshTimer);
        for (const k of kinds) void send(-1, k);
      }, c.garp.refreshMs);
      this.refreshTimer.unref();
    }
    return p;
  }

  async read(): Promise<Observation> {
    const c = this.cfg;
    const run = await runVip(c, "status", c.commands.ip, ["-o", "addr", "show", "dev", c.interface], 5000);
    if (!run.ok) return { observed: "unknown", run };
    const re = new RegExp(`\\binet ${c.address.replace(/\./g, "\\.")}/${c.prefix}\\b`);
    return { observed: re.test(run.stdout) ? "enabled" : "disabled", run };
  }

  /** `arping -D`: exit 1 with a reply means another host holds the address. */
  async dad(): Promise<DadResult> {
    const c = this.cfg;
    const w = String(Math.max(1, Math.ceil(c.dad.timeoutMs / 1000)));
    const run = await runCommand({
      kind: "vip",
      driver: "linux",
      action: "dad",
      target: c.name,
      file: c.commands.arping,
      args: ["-D", "-c", "2", "-w", w, "-I", c.interface, c.address],
      timeoutMs: c.dad.timeoutMs + 3000,
    });
    const mac = run.stdout.match(/reply from \S+ \[([0-9A-Fa-f:]{17})\]/)?.[1]?.toLowerCase() ?? null;
    return { duplicate: run.exitCode === 1 && mac !== null, mac, run };
  }
}

function preloadEnv(lib: string): Record<string, string> {
  const prev = process.env.LD_PRELOAD;
  return { LD_PRELOAD: prev ? `${lib}:${prev}` : lib, _STDBUF_O: "L" };
}
