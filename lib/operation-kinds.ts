/**
 * The words for each kind of operation: one place for the server (exports, audit sentences) and the panel
 * (Operations page, filters). A new kind adds one line here (the compiler asks for it: the table must
 * cover every `OperationKindName` of lib/controller/model.ts); a kind this file does not know yet (a newer
 * server's row read by an older panel) is humanised ("app_restart" → "App restart") rather than shown raw.
 * Pure, no imports at run time: safe in client components.
 */
import type { OperationKindName } from "./controller/model";

interface KindWords {
  /** As a title or table cell: "Manual switchover". */
  label: string;
  /** Started by the controller by itself (true) or requested by a person or a script. */
  automatic: boolean;
}

export const OPERATION_KINDS = {
  manual_switchover: { label: "Manual switchover", automatic: false },
  failover: { label: "Failover", automatic: true },
  disconnect_failover: { label: "Disconnect failover", automatic: true },
  split_brain_resolution: { label: "Split-brain resolution", automatic: true },
  vip_repair: { label: "VIP repair", automatic: true },
  /** History only: restarts belong to the host's agent now; older databases hold these rows. */
  restart: { label: "Restart", automatic: true },
  // An operator's overrides (docs/controller.md, "Overrides").
  promote: { label: "Promotion", automatic: false },
  app_start: { label: "Server start", automatic: false },
  app_stop: { label: "Server stop", automatic: false },
  app_restart: { label: "Server restart", automatic: false },
  clear_holddown: { label: "Hold-down release", automatic: false },
} as const satisfies Record<OperationKindName, KindWords>;

export type KnownOperationKind = keyof typeof OPERATION_KINDS;

/** Every kind this panel knows, in display order (the filter's choices). */
export const OPERATION_KIND_NAMES = Object.keys(OPERATION_KINDS) as KnownOperationKind[];

export function isKnownOperationKind(kind: string): kind is KnownOperationKind {
  return Object.prototype.hasOwnProperty.call(OPERATION_KINDS, kind);
}

/** "some_new_kind" → "Some new kind"; "vip_x" keeps the abbreviation: "VIP x". */
export function humaniseKind(kind: string): string {
  const words = kind
    .split(/[_\s.-]+/)
    .filter(Boolean)
    .map((w) => (/^(vip|sip|ip)$/i.test(w) ? w.toUpperCase() : w.toLowerCase()));
  if (!words.length) return "Operation";
  const s = words.join(" ");
  return s[0].toUpperCase() + s.slice(1);
}

/** The label of a kind: "Failover"; unknown kinds humanised. */
export function operationKindLabel(kind: string): string {
  return isKnownOperationKind(kind) ? OPERATION_KINDS[kind].label : humaniseKind(kind);
}

/** The label inside a sentence: "failover", "VIP repair", "split-brain resolution". */
export function operationKindPhrase(kind: string): string {
  const label = operationKindLabel(kind);
  return /^[A-Z]{2}/.test(label) ? label : label[0].toLowerCase() + label.slice(1);
}
