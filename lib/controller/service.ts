/**
 * The controller's side of the web ↔ controller channel (messages.ts): says who leads in this process,
 * and answers the requests addressed to it from the current term (preflight, a person's request, views).
 */
import { BroadcastChannel } from "node:worker_threads";
import type { Logger } from "@/lib/log";
import { CONTROLLER_CHANNEL, NOT_LEADER, ToController, type FromController } from "./messages";
import type { ControllerMetrics } from "./metrics";
import type { Term } from "./term";

export class ControllerService {
  private readonly channel = new BroadcastChannel(CONTROLLER_CHANNEL);
  private closed = false;

  constructor(
    private readonly controllerId: string,
    /** The term that may answer: set once it is ready, null while standing by. */
    private readonly term: () => Term | null,
    /** This controller's metrics: answered whether it leads or not (switchyard_leader says which). */
    private readonly metrics: ControllerMetrics,
    /** Records waiting in the journal (the database cannot be reached), or null. */
    private readonly journal: () => { pending: number; since: number | null } | null,
    private readonly log: Pick<Logger, "warn" | "error">,
  ) {
    this.channel.unref();
    this.channel.onmessage = (e) => void this.receive((e as { data: unknown }).data);
  }

  /** Tells every web module of this process whether this controller leads now. */
  announce() {
    const epoch = this.term()?.epoch ?? null;
    this.post({ type: "here", controllerId: this.controllerId, epoch, journal: epoch === null ? null : this.journal() });
  }

  private post(m: FromController) {
    if (!this.closed) this.channel.postMessage(m);
  }

  private async receive(raw: unknown) {
    const p = ToController.safeParse(raw);
    if (!p.success) return; // replies and announcements of other controllers travel on the same channel
    const m = p.data;
    if (m.type === "who") return this.announce();
    if (m.to !== this.controllerId) return;
    const term = this.term();
    let result: unknown = NOT_LEADER;
    try {
      if (m.type === "metrics") result = await this.metrics.text();
      else if (term) {
        if (m.type === "preflight") result = term.preflight(m.pairId, m.request, m.confirmMaintenance);
        else if (m.type === "views") result = term.views();
        else result = await term.request(m.pairId, { actor: m.actor, reason: m.reason, request: m.request, confirmMaintenance: m.confirmMaintenance });
      }
    } catch (err) {
      this.log.error("controller: request failed", { err, request: m.type });
      result = { kind: "error", message: (err as Error).message };
    }
    this.post({ type: "reply", id: m.id, result });
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.channel.close();
  }
}
