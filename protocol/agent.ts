/**
 * The agent protocol: the versioned message catalogue spoken between the controller (socket.io client)
 * and a host agent (socket.io server, namespace AGENT_NAMESPACE, default port 4999).
 *
 * This module is shared by the panel's controller and by the agent. It must not import Next, React,
 * Prisma or anything else the agent cannot ship: only zod.
 *
 * Shape of a session:
 *  1. The controller connects with `auth: Handshake` (token checked in constant time by the agent).
 *  2. The agent emits `snapshot` (full AgentSnapshot) at once.
 *  3. The agent emits `event` (AgentEvent, monotonic `seq`) for every change after that.
 *  4. The controller emits `ping` every heartbeat interval; the agent acknowledges at once with `Pong`.
 *     Both sides keep a deadline: the controller drops a link whose pings go unanswered for the timeout,
 *     the agent drops a link that sends no ping for the timeout.
 *  5. The controller emits `command` (Command) with an acknowledgement callback (CommandAck).
 *     Every command carries the controller's epoch: the agent refuses any epoch lower than the highest
 *     it has seen (STALE_EPOCH). Commands name apps and VIPs from the agent's own configuration only.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
export const AGENT_NAMESPACE = "/controller";
export const DEFAULT_AGENT_PORT = 4999;
/**
 * The largest controller epoch an agent accepts. A controller's epoch grows by one per term (a billion terms
 * is unreachable); the bound keeps a forged epoch from fencing a cluster for good: a controller that finds
 * an agent above it moves its own term above that (lib/controller/leader.ts), which always fits.
 */
export const MAX_EPOCH = 2 ** 30;
const epoch = z.number().int().nonnegative().max(MAX_EPOCH, `at most ${MAX_EPOCH}`);

/** Largest frame the agent accepts from a controller (bytes). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Bounded stdout/stderr kept from a driver or hook run (bytes, each). */
export const MAX_OUTPUT_BYTES = 4096;

const name = z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, . _ - only");

export const Mode = z.enum(["primary", "backup"]);
export type Mode = z.infer<typeof Mode>;
/** What the application last confirmed; `unknown` until it has confirmed anything. */
export const ObservedMode = z.enum(["primary", "backup", "unknown"]);
export type ObservedMode = z.infer<typeof ObservedMode>;

export const AppState = z.enum(["starting", "running", "stopping", "stopped", "failed", "hung"]);
export type AppState = z.infer<typeof AppState>;

export const VipObserved = z.enum(["enabled", "disabled", "unknown"]);
export type VipObserved = z.infer<typeof VipObserved>;

/** One run of a VIP driver action, a mode hook or a probe command: always reported, for the audit. */
export const DriverRun = z.object({
  kind: z.enum(["vip", "mode-hook", "probe"]),
  driver: z.string(), // linux | script | simulated | http | command
  action: z.string(), // enable | disable | status | arp | dad | set-mode | get-mode
  target: z.string(), // VIP or app name
  startedAt: z.string(), // ISO time
  durationMs: z.number(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  ok: z.boolean(),
  stdout: z.string().max(MAX_OUTPUT_BYTES),
  stderr: z.string().max(MAX_OUTPUT_BYTES),
});
export type DriverRun = z.infer<typeof DriverRun>;

export const ExitInfo = z.object({
  code: z.number().int().nullable(),
  signal: z.string().nullable(),
  at: z.string(),
});
export type ExitInfo = z.infer<typeof ExitInfo>;

export const Health = z.object({
  status: z.enum(["ok", "failing", "unknown"]),
  consecutiveFailures: z.number().int(),
  lastError: z.string().nullable(),
  lastCheckedAt: z.string().nullable(),
});
export type Health = z.infer<typeof Health>;

/**
 * What the agent found and ended of an app's processes once its main process was gone (a forking server's
 * workers: its process group, its session, and descendants that left both). See docs/agent.md.
 */
export const GroupCleanup = z.object({
  /** The main process that exited (the group and session id). */
  pid: z.number().int(),
  /** exit: the main process died by itself (or was killed by someone else); stop: a stop or restart. */
  trigger: z.enum(["exit", "stop"]),
  /** killed: SIGTERM, SIGKILL after the stop timeout; reported: listed only (`group.cleanup: report`). */
  action: z.enum(["killed", "reported"]),
  processes: z.array(z.object({ pid: z.number().int(), comm: z.string(), via: z.enum(["group", "session", "descendant"]) })).max(1000),
  count: z.number().int(),
  /** Still alive at the stop timeout: sent SIGKILL. */
  sigkilled: z.array(z.number().int()),
  /** Still alive after SIGKILL (or not signalled, with action "reported"). */
  survivors: z.array(z.number().int()),
  at: z.string(),
  durationMs: z.number(),
});
export type GroupCleanup = z.infer<typeof GroupCleanup>;

export const AppSnapshot = z.object({
  name,
  state: AppState,
  pid: z.number().int().nullable(),
  mode: ObservedMode,
  /** Name of the VIP (in the agent's config) that follows this app's mode, if any. */
  vip: name.nullable(),
  health: Health,
  lastExit: ExitInfo.nullable(),
  restarts: z.number().int(),
  crashLoop: z.boolean(),
  startedAt: z.string().nullable(),
  /** The last clean-up of leftover processes (absent from older agents, null until one happened). */
  lastGroup: GroupCleanup.nullable().optional(),
});
export type AppSnapshot = z.infer<typeof AppSnapshot>;

export const VipSnapshot = z.object({
  name,
  address: z.string(),
  prefix: z.number().int(),
  interface: z.string(),
  driver: z.enum(["linux", "script", "simulated"]),
  desired: z.enum(["enabled", "disabled"]),
  observed: VipObserved,
  duplicate: z.object({ detected: z.boolean(), mac: z.string().nullable(), at: z.string().nullable() }),
  lastRun: DriverRun.nullable(),
  /** Self-fencing configured for this VIP (agent config `vips[].fence`); absent from older agents: on. */
  fence: z.boolean().optional(),
});
export type VipSnapshot = z.infer<typeof VipSnapshot>;

export const AgentSnapshot = z.object({
  protocol: z.number().int(),
  agentId: z.string(),
  version: z.string(),
  /** Random per agent process start: a new bootId means the agent restarted. */
  bootId: z.string(),
  seq: z.number().int(),
  epoch: z.number().int(),
  at: z.string(),
  apps: z.array(AppSnapshot),
  vips: z.array(VipSnapshot),
});
export type AgentSnapshot = z.infer<typeof AgentSnapshot>;

const ev = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), seq: z.number().int(), at: z.string(), ...shape });

export const AgentEvent = z.discriminatedUnion("type", [
  ev("app.state", {
    app: name,
    state: AppState,
    previous: AppState,
    pid: z.number().int().nullable(),
    exit: ExitInfo.nullable(),
    reason: z.string(),
  }),
  ev("app.mode", { app: name, mode: ObservedMode, run: DriverRun.nullable() }),
  ev("app.health", { app: name, health: Health }),
  /** Processes of the app left after its main process was gone, and what the agent did to them. */
  ev("app.group", { app: name, cleanup: GroupCleanup }),
  ev("app.crashloop", { app: name, restarts: z.number().int(), reason: z.string() }),
  ev("vip.state", { vip: name, observed: VipObserved, desired: z.enum(["enabled", "disabled"]) }),
  ev("vip.run", { vip: name, run: DriverRun }),
  ev("vip.duplicate", { vip: name, mac: z.string().nullable(), run: DriverRun.nullable() }),
  /** The highest controller epoch this agent has seen rose (a handshake of a newer term, or a forged one). */
  ev("agent.epoch", { epoch: z.number().int() }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;

export const Handshake = z.object({
  token: z.string().min(1).max(512),
  protocol: z.number().int(),
  controllerId: z.string().min(1).max(128),
  epoch,
  /**
   * The controller's cluster (its database's identity). An agent binds to the first cluster that connects
   * and refuses another's (FOREIGN_CLUSTER), so a second Switchyard given the same token cannot fence the
   * real one. Absent from older controllers.
   */
  cluster: z.uuid().optional(),
});
export type Handshake = z.infer<typeof Handshake>;

const cmd = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), id: z.string().min(1).max(64), epoch, ...shape }).strict();

export const Command = z.discriminatedUnion("type", [
  cmd("state.get", {}),
  cmd("app.start", { app: name, mode: Mode.optional() }),
  cmd("app.stop", { app: name }),
  cmd("app.restart", { app: name, mode: Mode.optional() }),
  /** Tell the app its mode; primary also enables its VIP (then gratuitous ARP), backup disables it. */
  cmd("app.setMode", { app: name, mode: Mode }),
  cmd("vip.enable", { vip: name }),
  cmd("vip.disable", { vip: name }),
  /** A controller stopping cleanly (a restart, a hand-over): do not fence for holdMs, or until pinged again. */
  cmd("fence.hold", { holdMs: z.number().int().min(0).max(3_600_000) }),
]);
export type Command = z.infer<typeof Command>;
export type CommandType = Command["type"];

export const ErrorCode = z.enum([
  "INVALID", // malformed or oversized frame
  "STALE_EPOCH", // epoch lower than the highest the agent has seen
  "UNKNOWN_APP",
  "UNKNOWN_VIP",
  "NOT_RUNNING", // e.g. setMode on a stopped app
  "FAILED", // the action ran and failed (see runs)
  "TIMEOUT",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const CommandAck = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    id: z.string(),
    /** Every hook/driver run the command caused, in order (mode hook, ip addr, arping ...). */
    runs: z.array(DriverRun),
    snapshot: AgentSnapshot,
  }),
  z.object({
    ok: z.literal(false),
    id: z.string().nullable(),
    error: z.object({ code: ErrorCode, message: z.string() }),
    runs: z.array(DriverRun),
    highestEpoch: z.number().int().optional(),
  }),
]);
export type CommandAck = z.infer<typeof CommandAck>;

/**
 * `fenceAfterMs`: "if no controller pings you for this long, take your VIPs down" — the pair's heartbeat
 * timeout plus its disconnect grace, i.e. about when the controller promotes the other host (absent from
 * older controllers: no fencing).
 */
export const Ping = z.object({ t: z.number(), fenceAfterMs: z.number().int().min(200).max(3_600_000).optional() });
export const Pong = z.object({ t: z.number(), agentTime: z.number(), seq: z.number().int() });
export type Pong = z.infer<typeof Pong>;

/** The typed socket.io event maps for both ends (agent = server, controller = client). */
export interface AgentToController {
  snapshot: (s: AgentSnapshot) => void;
  event: (e: AgentEvent) => void;
  /** Sent when the agent refuses a frame (malformed, oversized); the link is dropped after repeated ones. */
  protocolError: (e: { code: ErrorCode; message: string }) => void;
}
export interface ControllerToAgent {
  command: (c: Command, ack: (a: CommandAck) => void) => void;
  ping: (p: { t: number }, ack: (p: Pong) => void) => void;
}
