/**
 * Refused handshakes, logged as counts (issue 13: one line per refusal wrote 8.6 MB in 30 s of flooding).
 * The first refusal after a quiet interval is logged at once, with its reason and address, so that a
 * single misconfigured controller shows up immediately; the refusals that follow are counted and written
 * as one line per interval: how many, by reason and by remote address (the busiest MAX_REMOTES, the rest
 * summed). An interval without refusals ends the series: the next refusal is logged at once again.
 * Memory is bounded too: at most MAX_TRACKED addresses are told apart per interval.
 */
import type { Logger } from "../lib/log";

export const REFUSAL_INTERVAL_MS = 10_000;
const MAX_REMOTES = 20;
const MAX_TRACKED = 1000;

export class HandshakeRefusals {
  private timer: NodeJS.Timeout | null = null;
  private total = 0;
  private byReason = new Map<string, number>();
  private byRemote = new Map<string, number>();
  /** Refusals from addresses beyond the MAX_TRACKED told apart in this interval. */
  private untracked = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = REFUSAL_INTERVAL_MS,
  ) {}

  /**
   * One refused handshake; `reason` is the code the controller was answered (INVALID, UNAUTHORIZED,
   * PROTOCOL: not words such as "token", which the logger would take for a secret's key and redact).
   * `fields` are logged with the first refusal of a series only.
   */
  refused(reason: string, remote: string, fields: Record<string, unknown> = {}): void {
    if (!this.timer) {
      this.log.warn("handshake refused", { why: reason, remote, ...fields, next: `further refusals are counted and logged every ${this.intervalMs / 1000} s` });
      this.timer = setInterval(() => this.flush(), this.intervalMs);
      this.timer.unref();
      return;
    }
    this.total++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.byRemote.has(remote) || this.byRemote.size < MAX_TRACKED) this.byRemote.set(remote, (this.byRemote.get(remote) ?? 0) + 1);
    else this.untracked++;
  }

  /** Writes the interval's counts, or ends the series after a quiet interval. */
  private flush(): void {
    if (this.total === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const remotes = [...this.byRemote].sort((a, b) => b[1] - a[1]);
    const others = remotes.slice(MAX_REMOTES).reduce((n, [, c]) => n + c, this.untracked);
    this.log.warn("handshakes refused", {
      count: this.total,
      intervalMs: this.intervalMs,
      byReason: Object.fromEntries(this.byReason),
      byRemote: Object.fromEntries(remotes.slice(0, MAX_REMOTES)),
      ...(others ? { fromOtherRemotes: others } : {}),
    });
    this.total = 0;
    this.untracked = 0;
    this.byReason.clear();
    this.byRemote.clear();
  }
}
