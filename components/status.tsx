/**
 * Status vocabulary: every status is an icon shape + a word + a colour, never colour alone.
 */
import type { OperationSummary, PairHealth } from "@/lib/views";
import { isActive, operationRunning } from "./format";

export type Tone = "ok" | "warn" | "bad" | "info" | "idle";

const TONE: Record<Tone, string> = {
  ok: "text-ok bg-ok-bg border-ok/40",
  warn: "text-warn bg-warn-bg border-warn/40",
  bad: "text-bad bg-bad-bg border-bad/40",
  info: "text-info bg-info-bg border-info/40",
  idle: "text-idle bg-idle-bg border-idle/40",
};

export function toneClass(t: Tone) {
  return TONE[t];
}

type IconName = "check" | "warn" | "swap" | "split" | "question" | "x" | "dot" | "link" | "unlink" | "up" | "down" | "clock";

export function Icon({ name, className = "size-4" }: { name: IconName; className?: string }) {
  const common = { className, viewBox: "0 0 16 16", fill: "none", stroke: "currentColor", strokeWidth: 1.8, strokeLinecap: "round" as const, strokeLinejoin: "round" as const, "aria-hidden": true };
  switch (name) {
    case "check":
      return (<svg {...common}><circle cx="8" cy="8" r="6.5" /><path d="M5 8.2l2 2 4-4.4" /></svg>);
    case "warn":
      return (<svg {...common}><path d="M8 1.8l6.5 12H1.5z" /><path d="M8 6.5v3.2M8 11.8v.1" /></svg>);
    case "swap":
      return (<svg {...common}><path d="M2.5 5h10l-2.5-2.5M13.5 11h-10l2.5 2.5" /></svg>);
    case "split":
      return (<svg {...common}><path d="M5.2 1.5h5.6l3.7 3.7v5.6l-3.7 3.7H5.2l-3.7-3.7V5.2z" /><path d="M5.8 5.8l4.4 4.4M10.2 5.8l-4.4 4.4" /></svg>);
    case "question":
      return (<svg {...common}><circle cx="8" cy="8" r="6.5" /><path d="M6.2 6.2a1.9 1.9 0 1 1 2.6 1.8c-.6.3-.8.7-.8 1.3M8 11.6v.1" /></svg>);
    case "x":
      return (<svg {...common}><circle cx="8" cy="8" r="6.5" /><path d="M5.7 5.7l4.6 4.6M10.3 5.7l-4.6 4.6" /></svg>);
    case "dot":
      return (<svg {...common}><circle cx="8" cy="8" r="3.5" fill="currentColor" /></svg>);
    case "link":
      return (<svg {...common}><path d="M6.5 9.5l3-3M7 4.5l1-1a2.5 2.5 0 0 1 3.5 3.5l-1 1M9 11.5l-1 1A2.5 2.5 0 0 1 4.5 9l1-1" /></svg>);
    case "unlink":
      return (<svg {...common}><path d="M7 4.5l1-1a2.5 2.5 0 0 1 3.5 3.5l-1 1M9 11.5l-1 1A2.5 2.5 0 0 1 4.5 9l1-1M2 2l12 12" /></svg>);
    case "up":
      return (<svg {...common}><path d="M8 13V3M4 7l4-4 4 4" /></svg>);
    case "down":
      return (<svg {...common}><path d="M8 3v10M4 9l4 4 4-4" /></svg>);
    case "clock":
      return (<svg {...common}><circle cx="8" cy="8" r="6.5" /><path d="M8 4.5V8l2.5 1.5" /></svg>);
  }
}

export function Badge({ tone, icon, children, className = "", title }: { tone: Tone; icon?: IconName; children: React.ReactNode; className?: string; title?: string }) {
  return (
    <span title={title} className={`inline-flex items-center gap-1 whitespace-nowrap rounded border px-1.5 py-0.5 text-xs font-semibold ${TONE[tone]} ${className}`}>
      {icon && <Icon name={icon} className="size-3.5 shrink-0" />}
      {children}
    </span>
  );
}

export const HEALTH: Record<PairHealth, { label: string; tone: Tone; icon: IconName }> = {
  healthy: { label: "Healthy", tone: "ok", icon: "check" },
  degraded: { label: "Degraded", tone: "warn", icon: "warn" },
  not_serving: { label: "Not serving", tone: "bad", icon: "warn" },
  switching_over: { label: "Switching over", tone: "info", icon: "swap" },
  // An automatic operation running: the badge names its kind when it knows it ("Repairing the VIP" …).
  failing_over: { label: "Failing over", tone: "info", icon: "swap" },
  split_brain: { label: "Split brain", tone: "bad", icon: "split" },
  unknown: { label: "Unknown", tone: "idle", icon: "question" },
};

/** The pair's status; while an operation runs, its kind in words ("Switching over", "Failing over", …). */
export function HealthBadge({ status, operation, large = false }: { status: PairHealth; operation?: OperationSummary | null; large?: boolean }) {
  const h = HEALTH[status] ?? HEALTH.unknown;
  const label = (status === "failing_over" || status === "switching_over") && operation && isActive(operation) ? operationRunning(operation.kind) : h.label;
  return (
    <span
      data-testid="pair-status"
      data-status={status}
      className={`inline-flex items-center gap-1.5 whitespace-nowrap rounded-md border font-bold ${TONE[h.tone]} ${large ? "px-3 py-1 text-base" : "px-2 py-0.5 text-sm"}`}
    >
      <Icon name={h.icon} className={`${large ? "size-5" : "size-4"} shrink-0 ${status === "failing_over" || status === "switching_over" ? "sy-pulse" : ""}`} />
      {label}
    </span>
  );
}

export function ModeBadge({ mode }: { mode: string }) {
  if (mode === "primary") return <Badge tone="ok" icon="up">PRIMARY</Badge>;
  if (mode === "backup") return <Badge tone="idle" icon="down">BACKUP</Badge>;
  return <Badge tone="warn" icon="question">MODE ?</Badge>;
}

export function ProcessBadge({ state }: { state: string }) {
  const tone: Tone = state === "running" ? "ok" : state === "starting" || state === "stopping" ? "info" : state === "unknown" ? "idle" : "bad";
  const icon: IconName = state === "running" ? "check" : state === "unknown" ? "question" : state === "starting" || state === "stopping" ? "clock" : "x";
  return <Badge tone={tone} icon={icon}>{state}</Badge>;
}

export function AgentBadge({ connected, host }: { connected: boolean; host?: string }) {
  return connected ? (
    <Badge tone="idle" icon="link" title={host ? `Agent on ${host} connected` : undefined}>agent up</Badge>
  ) : (
    <Badge tone="bad" icon="unlink" title={host ? `Agent on ${host} not connected` : undefined}>agent down</Badge>
  );
}

export function VipBadge({ observed }: { observed: string }) {
  if (observed === "enabled") return <Badge tone="ok" icon="dot">VIP on</Badge>;
  if (observed === "disabled") return <Badge tone="idle">VIP off</Badge>;
  return <Badge tone="warn" icon="question">VIP ?</Badge>;
}

export const SEVERITY: Record<string, { tone: Tone; icon: IconName }> = {
  critical: { tone: "bad", icon: "split" },
  major: { tone: "bad", icon: "warn" },
  minor: { tone: "warn", icon: "warn" },
  warning: { tone: "info", icon: "question" },
};

export function SeverityBadge({ severity }: { severity: string }) {
  const s = SEVERITY[severity] ?? { tone: "idle" as Tone, icon: "question" as IconName };
  return <Badge tone={s.tone} icon={s.icon}>{severity}</Badge>;
}

export function OutcomeBadge({ outcome }: { outcome: string }) {
  const o = outcome.toLowerCase();
  // alarm.raised rows carry the alarm's severity as their outcome.
  if (SEVERITY[o]) return <SeverityBadge severity={o} />;
  if (["success", "succeeded", "ok"].includes(o)) return <Badge tone="ok" icon="check">{outcome}</Badge>;
  if (["failure", "failed", "error", "denied", "refused"].includes(o)) return <Badge tone="bad" icon="x">{outcome}</Badge>;
  if (["pending", "running", "started", "accepted"].includes(o)) return <Badge tone="info" icon="clock">{outcome}</Badge>;
  return <Badge tone="idle">{outcome}</Badge>;
}

export function OpStatusBadge({ status }: { status: string }) {
  if (status === "succeeded") return <Badge tone="ok" icon="check">succeeded</Badge>;
  if (status === "failed") return <Badge tone="bad" icon="x">failed</Badge>;
  if (status === "running") return <Badge tone="info" icon="clock"><span className="sy-pulse">running</span></Badge>;
  if (status === "skipped") return <Badge tone="idle">skipped</Badge>;
  return <Badge tone="idle" icon="clock">{status}</Badge>;
}
