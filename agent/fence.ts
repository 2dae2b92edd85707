/**
 * Self-fencing: a host cut off from its controller takes its VIPs down at about the moment the controller
 * promotes the other host, instead of holding the VIP with the new primary until the link comes back.
 *
 * Every controller ping says how long to wait (`fenceAfterMs`: the pair's heartbeat timeout + disconnect
 * grace). Each ping re-arms one timer; when it fires, every enabled VIP whose configuration allows it
 * (`fence`, default on) is disabled, and the agent says so. A controller stopping cleanly sends
 * `fence.hold` first (a restart or a hand-over is not a cut); the next ping ends the hold. An agent that
 * no controller has ever pinged (or one that sends no fenceAfterMs) never fences.
 *
 * The trade-off (docs/agent.md): a controller that crashes, or a network that separates every host from
 * it while they still reach their clients, takes the VIP down after that time, and SIP is unanswered
 * until a controller is back and puts it back (vip_repair). Turn `fence` off for a VIP to prefer that
 * the VIP stays up through a controller outage, accepting that a cut host keeps it with the new primary.
 */
import { log } from "../lib/log";

export class Fence {
  private timer: NodeJS.Timeout | null = null;
  private holdUntil = 0;
  private closed = false;

  constructor(private readonly fence: (reason: string) => void) {}

  /** A controller pinged; `afterMs` from its ping (undefined: an older controller, no fencing). */
  heard(afterMs: number | undefined) {
    if (this.closed) return;
    this.holdUntil = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (afterMs === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (Date.now() < this.holdUntil) return;
      this.fence(`no controller for ${afterMs} ms (its heartbeat timeout + disconnect grace): the other host is being promoted`);
    }, afterMs);
    this.timer.unref();
  }

  /** A controller is stopping cleanly: no fencing for `ms` (or until the next ping). */
  hold(ms: number) {
    this.holdUntil = Date.now() + ms;
    log.info("fencing on hold: the controller is stopping cleanly", { holdMs: ms });
  }

  close() {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
