/**
 * Every audit action the server writes, with a short label and a group for the panel. The writer
 * (lib/audit.ts: AuditInput.action), the audit list's `action` filter (lib/validation/audit.ts) and the
 * Audit page's filter all use this one catalogue. Rows written before an action was added keep their
 * string; reading never assumes the catalogue is complete for old rows.
 * No imports beyond zod. The Audit page's server component passes AUDIT_ACTION_GROUPS to the client
 * component as a prop, so zod stays out of the browser bundle (importing it there would add ~24 kB gzip).
 */
import { z } from "zod";

export type AuditGroup = "Operations" | "Operation steps" | "Controller" | "Alarms" | "Configuration" | "Users and tokens" | "Access";

interface Entry {
  label: string;
  group: AuditGroup;
}

export const AUDIT_ACTIONS = {
  "operation.requested": { label: "Operation requested (switchover or override)", group: "Operations" },
  "operation.refused": { label: "Request refused (preflight)", group: "Operations" },
  "operation.decided": { label: "Automatic operation decided", group: "Operations" },
  "operation.started": { label: "Operation started", group: "Operations" },
  "operation.reconciled": { label: "Operation taken over by a new leader", group: "Operations" },
  "operation.finished": { label: "Operation finished", group: "Operations" },

  "operation.step.demote": { label: "Step: demote to backup", group: "Operation steps" },
  "operation.step.vip_disable": { label: "Step: disable the VIP", group: "Operation steps" },
  "operation.step.promote": { label: "Step: promote to primary", group: "Operation steps" },
  "operation.step.vip_enable": { label: "Step: enable the VIP", group: "Operation steps" },
  "operation.step.verify": { label: "Step: verify", group: "Operation steps" },
  "operation.step.start": { label: "Step: start the server", group: "Operation steps" },
  "operation.step.stop": { label: "Step: stop the server", group: "Operation steps" },
  /** An operator's restart (older databases also hold the controller's restarts as backup, before agents owned them). */
  "operation.step.restart": { label: "Step: restart the server", group: "Operation steps" },
  "operation.step.holddown_clear": { label: "Step: clear the hold-down", group: "Operation steps" },
  "operation.step.recover_demote": { label: "Recovery step: demote", group: "Operation steps" },
  "operation.step.recover_promote": { label: "Recovery step: promote", group: "Operation steps" },
  "operation.step.recover_verify": { label: "Recovery step: verify", group: "Operation steps" },

  decision: { label: "Controller decision (no action)", group: "Controller" },
  "server.now_primary": { label: "Server became primary", group: "Controller" },
  "server.now_backup": { label: "Server became backup", group: "Controller" },

  "alarm.raised": { label: "Alarm raised", group: "Alarms" },
  "alarm.cleared": { label: "Alarm cleared", group: "Alarms" },
  "alarm.ack": { label: "Alarm acknowledged", group: "Alarms" },

  "pair.create": { label: "Pair created", group: "Configuration" },
  "pair.update": { label: "Pair changed", group: "Configuration" },
  "pair.delete": { label: "Pair deleted", group: "Configuration" },
  "pair.maintenance": { label: "Maintenance switched on or off", group: "Configuration" },
  "maintenance.schedule": { label: "Maintenance window scheduled", group: "Configuration" },
  "maintenance.end": { label: "Maintenance window ended early", group: "Configuration" },
  "maintenance.cancel": { label: "Maintenance window cancelled", group: "Configuration" },
  /** Written by the demo and benchmark labs (bench/simlab.ts), which set their pairs up directly. */
  "pair.configure": { label: "Pair set up by the demo or a benchmark", group: "Configuration" },
  "host.create": { label: "Host created", group: "Configuration" },
  "host.update": { label: "Host changed", group: "Configuration" },
  "host.delete": { label: "Host deleted", group: "Configuration" },
  "notification.channel.create": { label: "Notification channel created", group: "Configuration" },
  "notification.channel.update": { label: "Notification channel changed", group: "Configuration" },
  "notification.channel.delete": { label: "Notification channel deleted", group: "Configuration" },
  "notification.rule.create": { label: "Notification rule created", group: "Configuration" },
  "notification.rule.update": { label: "Notification rule changed", group: "Configuration" },
  "notification.rule.delete": { label: "Notification rule deleted", group: "Configuration" },
  "notification.test": { label: "Test notification sent", group: "Configuration" },

  "user.bootstrap_admin": { label: "First admin created", group: "Users and tokens" },
  "user.create": { label: "User created", group: "Users and tokens" },
  "user.role": { label: "User role changed", group: "Users and tokens" },
  "user.delete": { label: "User deleted", group: "Users and tokens" },
  "token.create": { label: "API token created", group: "Users and tokens" },
  "token.delete": { label: "API token revoked", group: "Users and tokens" },

  "auth.login": { label: "Sign-in", group: "Access" },
  /** Failed and refused sign-ins of a username + address (or of an address) in one limiter window, summed. */
  "auth.login_failures": { label: "Failed sign-ins (summary of a window)", group: "Access" },
  "auth.logout": { label: "Sign-out", group: "Access" },
  "request.denied": { label: "Request refused (role or origin)", group: "Access" },
} as const satisfies Record<string, Entry>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export const AuditAction = z.enum(Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]], {
  message: "must be an audit action from the catalogue, e.g. operation.finished (docs/api.md)",
});

export interface AuditActionGroup {
  group: AuditGroup;
  actions: { action: AuditAction; label: string }[];
}

/** The catalogue in display order, grouped. */
export const AUDIT_ACTION_GROUPS: AuditActionGroup[] = (() => {
  const groups = new Map<AuditGroup, { action: AuditAction; label: string }[]>();
  for (const [action, { label, group }] of Object.entries(AUDIT_ACTIONS) as [AuditAction, Entry][]) {
    groups.set(group, [...(groups.get(group) ?? []), { action, label }]);
  }
  return [...groups].map(([group, actions]) => ({ group, actions }));
})();
