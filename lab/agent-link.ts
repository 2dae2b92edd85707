/**
 * A minimal client of the agent protocol (protocol/agent.ts) for the lab: connects to an agent, keeps its
 * latest snapshot up to date from events, sends commands with acknowledgements and heartbeats.
 * Used to drive agents directly (without the panel) and to measure the agent-only floor of a takeover.
 */
import { io, type Socket } from "socket.io-client";
import { randomUUID } from "node:crypto";
import {
  AGENT_NAMESPACE,
  AgentEvent,
  AgentSnapshot,
  CommandAck,
  PROTOCOL_VERSION,
  type AgentToController,
  type Command,
  type ControllerToAgent,
} from "../protocol/agent";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type CommandInput = DistributiveOmit<Command, "id" | "epoch">;

export class AgentLink {
  private socket: Socket<AgentToController, ControllerToAgent>;
  snapshot: AgentSnapshot | null = null;
  events: AgentEvent[] = [];
  private listeners = new Set<(e: AgentEvent) => void>();
  private hb?: NodeJS.Timeout;

  constructor(
    readonly url: string,
    token: string,
    readonly epoch = 1,
  ) {
    this.socket = io(url + AGENT_NAMESPACE, {
      auth: { token, protocol: PROTOCOL_VERSION, controllerId: `lab-${randomUUID().slice(0, 8)}`, epoch },
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    this.socket.on("snapshot", (s) => {
      this.snapshot = AgentSnapshot.parse(s);
    });
    this.socket.on("event", (raw) => {
      const e = AgentEvent.parse(raw);
      this.events.push(e);
      this.apply(e);
      for (const l of this.listeners) l(e);
    });
    this.hb = setInterval(() => {
      if (this.socket.connected) this.socket.emit("ping", { t: Date.now() }, () => {});
    }, 500);
  }

  private apply(e: AgentEvent) {
    const s = this.snapshot;
    if (!s) return;
    s.seq = e.seq;
    if (e.type === "app.state") {
      const a = s.apps.find((x) => x.name === e.app);
      if (a) {
        a.state = e.state;
        a.pid = e.pid;
        if (e.exit) a.lastExit = e.exit;
      }
    } else if (e.type === "app.mode") {
      const a = s.apps.find((x) => x.name === e.app);
      if (a) a.mode = e.mode;
    } else if (e.type === "vip.state") {
      const v = s.vips.find((x) => x.name === e.vip);
      if (v) {
        v.observed = e.observed;
        v.desired = e.desired;
      }
    } else if (e.type === "vip.duplicate") {
      const v = s.vips.find((x) => x.name === e.vip);
      if (v) v.duplicate = { detected: true, mac: e.mac, at: e.at };
    }
  }

  /** Resolves once connected and the first snapshot arrived. */
  async ready(timeoutMs = 10_000): Promise<AgentSnapshot> {
    const end = Date.now() + timeoutMs;
    while (!this.snapshot || !this.socket.connected) {
      if (Date.now() > end) throw new Error(`agent ${this.url}: no snapshot within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.snapshot;
  }

  onEvent(fn: (e: AgentEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Waits for the first event (from now on) that satisfies `pred`. */
  waitEvent<T extends AgentEvent>(pred: (e: AgentEvent) => e is T, timeoutMs: number): Promise<T>;
  waitEvent(pred: (e: AgentEvent) => boolean, timeoutMs: number): Promise<AgentEvent>;
  waitEvent(pred: (e: AgentEvent) => boolean, timeoutMs: number): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        off();
        reject(new Error(`agent ${this.url}: no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onEvent((e) => {
        if (pred(e)) {
          clearTimeout(t);
          off();
          resolve(e);
        }
      });
    });
  }

  command(c: CommandInput, timeoutMs = 15_000): Promise<CommandAck> {
    const cmd = { ...c, id: randomUUID(), epoch: this.epoch } as Command;
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit("command", cmd, (err: Error | null, ack: unknown) => {
        if (err) return reject(new Error(`agent ${this.url}: ${c.type} not acknowledged within ${timeoutMs} ms`));
        const a = CommandAck.parse(ack);
        if (a.ok) this.snapshot = a.snapshot;
        resolve(a);
      });
    });
  }

  close(): void {
    clearInterval(this.hb);
    this.socket.close();
  }
}
