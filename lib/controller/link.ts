/**
 * One link to a host's agent (socket.io client, namespace /controller). Validates everything that comes
 * in with the protocol's zod schemas, keeps the liveness deadline on the controller side (an application
 * ping with acknowledgement every timeout/3; a missed deadline drops the link, TCP alone would not
 * notice), reconnects by itself, and sends commands stamped with the controller's epoch.
 */
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { io as connect, type Socket } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  AgentEvent,
  AgentSnapshot,
  CommandAck,
  PROTOCOL_VERSION,
  Pong,
  type AgentToController,
  type ControllerToAgent,
} from "../../protocol/agent";
import type { HostCfg } from "./model";
import type { CommandBody } from "./steps";

export interface LinkLog {
  info(msg: string, f?: object): void;
  warn(msg: string, f?: object): void;
}

export interface LinkEvents {
  snapshot: [AgentSnapshot];
  event: [AgentEvent];
  down: [string];
  pong: [number];
  staleEpoch: [number];
  /** The agent refuses this controller (it belongs to another cluster). */
  refused: [string];
  /** The snapshot carried by a command's acknowledgement (emitted before command() resolves). */
  ackSnapshot: [AgentSnapshot];
}

export const COMMAND_TIMEOUT_MS = 8000;

export class AgentLink extends EventEmitter<LinkEvents> {
  private socket: Socket<AgentToController, ControllerToAgent> | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private up = false;
  private closed = false;

  constructor(
    readonly host: HostCfg,
    private readonly opts: { controllerId: string; epoch: number; clusterId?: string; heartbeatTimeoutMs: number; fenceAfterMs?: number; log: LinkLog },
  ) {
    super();
  }

  get connected(): boolean {
    return this.up;
  }

  setHeartbeatTimeout(ms: number, fenceAfterMs?: number) {
    this.opts.fenceAfterMs = fenceAfterMs;
    if (ms !== this.opts.heartbeatTimeoutMs) {
      this.opts.heartbeatTimeoutMs = ms;
      if (this.up) this.startHeartbeat();
    }
  }

  start(): void {
    const url = new URL(AGENT_NAMESPACE, this.host.agentUrl).toString();
    const s: Socket<AgentToController, ControllerToAgent> = connect(url, {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.2,
      timeout: 3000,
      auth: { token: this.host.agentToken, protocol: PROTOCOL_VERSION, controllerId: this.opts.controllerId, epoch: this.opts.epoch, ...(this.opts.clusterId ? { cluster: this.opts.clusterId } : {}) },
    });
    this.socket = s;
    s.on("snapshot", (raw) => {
      const p = AgentSnapshot.safeParse(raw);
      if (!p.success) return this.opts.log.warn("agent snapshot refused", { host: this.host.name, issue: p.error.issues[0]?.message });
      if (!this.up) {
        this.up = true;
        this.startHeartbeat();
      }
      this.emit("snapshot", p.data);
    });
    s.on("event", (raw) => {
      const p = AgentEvent.safeParse(raw);
      if (!p.success) return this.opts.log.warn("agent event refused", { host: this.host.name, issue: p.error.issues[0]?.message });
      if (this.up) this.emit("event", p.data);
    });
    s.on("protocolError", (e) => this.opts.log.warn("agent reported a protocol error", { host: this.host.name, error: e }));
    s.on("disconnect", (reason) => this.markDown(`link closed (${reason})`));
    s.on("connect_error", (err) => {
      if (err.message.startsWith("FOREIGN_CLUSTER")) this.emit("refused", err.message);
      this.markDown(`cannot connect: ${err.message}`, true);
    });
  }

  private startHeartbeat() {
    this.stopHeartbeat();
    const every = Math.max(50, Math.floor(this.opts.heartbeatTimeoutMs / 3));
    this.armDeadline();
    this.pingTimer = setInterval(() => this.ping(), every);
    this.ping();
  }

  private armDeadline() {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      this.opts.log.warn("agent missed its heartbeat deadline", { host: this.host.name, timeoutMs: this.opts.heartbeatTimeoutMs });
      this.markDown(`no heartbeat for ${this.opts.heartbeatTimeoutMs} ms`);
      // Drop the transport: socket.io reconnects by itself and the agent sends a fresh snapshot.
      this.socket?.io.engine?.close();
    }, this.opts.heartbeatTimeoutMs);
  }

  private ping() {
    const s = this.socket;
    if (!s || !this.up) return;
    const t = Date.now();
    const ping = this.opts.fenceAfterMs === undefined ? { t } : { t, fenceAfterMs: this.opts.fenceAfterMs };
    s.timeout(this.opts.heartbeatTimeoutMs).emit("ping", ping, (err: Error | null, raw?: unknown) => {
      if (err || !this.up) return;
      const p = Pong.safeParse(raw);
      if (!p.success) return;
      this.armDeadline();
      this.emit("pong", Date.now() - t);
    });
  }

  private stopHeartbeat() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.deadline) clearTimeout(this.deadline);
    this.pingTimer = this.deadline = null;
  }

  private markDown(reason: string, quietIfDown = false) {
    this.stopHeartbeat();
    if (!this.up) {
      if (!quietIfDown) return;
      this.emit("down", reason); // first failed attempt: still tell the controller (disconnected since now)
      return;
    }
    this.up = false;
    if (!this.closed) this.emit("down", reason);
  }

  async command(body: CommandBody, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandAck> {
    const s = this.socket;
    if (!s || !this.up) throw new Error(`agent of ${this.host.name} is not connected`);
    const cmd = { ...body, id: randomUUID(), epoch: this.opts.epoch };
    let raw: unknown;
    try {
      raw = await s.timeout(timeoutMs).emitWithAck("command", cmd as never);
    } catch {
      throw new Error(`agent of ${this.host.name} did not acknowledge ${body.type} within ${timeoutMs} ms`);
    }
    const p = CommandAck.safeParse(raw);
    if (!p.success) throw new Error(`agent of ${this.host.name} sent an invalid acknowledgement: ${p.error.issues[0]?.message}`);
    if (!p.data.ok && p.data.error.code === "STALE_EPOCH") this.emit("staleEpoch", p.data.highestEpoch ?? -1);
    if (p.data.ok) this.emit("ackSnapshot", p.data.snapshot);
    return p.data;
  }

  close(): void {
    this.closed = true;
    this.stopHeartbeat();
    this.up = false;
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.removeAllListeners();
  }
}
