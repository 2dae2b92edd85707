/**
 * An audit row in words an operator understands, e.g.
 *   "controller: failover on pair-a: sip-2 on host-a2 promoted after primary sip-1 exited with signal
 *    SIGKILL on host-a1 — succeeded in 21 ms"
 *   "alice acknowledged the critical alarm 'primary sip-1 exited with signal SIGKILL on host-a1' on pair-a"
 * One sentence per action of the catalogue (lib/audit-actions.ts), built from the row's own details (what
 * the writer recorded then, so the sentence of an old row stays true after a rename), plus the pair's
 * name, which rows carry only as an id (the caller looks it up; null for a deleted pair). Rows of an
 * action this file does not know, or with details missing, still get a plain sentence.
 * Pure, no imports at run time but the kind labels: safe in client components.
 */
import { operationKindPhrase } from "./operation-kinds";

/** The fields of an audit row the sentence reads (AuditSummary has them all). */
export interface SentenceInput {
  actor: string;
  action: string;
  outcome: string;
  durationMs: number | null;
  targetType: string | null;
  targetId: string | null;
  pairId: string | null;
  details: unknown;
}

export interface SentenceNames {
  /** The name of the row's pair (null or absent: unknown, e.g. deleted since). */
  pairName?: string | null;
}

type Details = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : typeof v === "number" ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Details => (v && typeof v === "object" && !Array.isArray(v) ? (v as Details) : {});

/** 21 ms, 1.4 s, 2 min 5 s. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m} min ${s} s` : `${m} min`;
}

const an = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
const quoted = (s: string) => `'${s}'`;
/** The first clause of a controller decision ("primary sip-1 exited …; promoting sip-2" → "primary sip-1 exited …"). */
const cause = (decision: string | null) => (decision ? decision.split("; ")[0] : null);

function pairOf(e: SentenceInput, names: SentenceNames, d: Details): string {
  return names.pairName ?? str(d.pairName) ?? (e.pairId ? "a deleted pair" : "no pair");
}

/** "on pair-a" when the row has a pair, else "". */
function onPair(e: SentenceInput, names: SentenceNames, d: Details): string {
  return e.pairId ? ` on ${pairOf(e, names, d)}` : "";
}

const STEP_PHRASES: Record<string, (target: string) => string> = {
  demote: (t) => `demote ${t} to backup`,
  promote: (t) => `promote ${t} to primary`,
  vip_disable: (t) => `disable the ${t}`,
  vip_enable: (t) => `enable the ${t}`,
  verify: (t) => `verify ${t}`,
  restart: (t) => `restart ${t}`,
  start: (t) => `start ${t}`,
  stop: (t) => `stop ${t}`,
  holddown_clear: () => "end the hold-down of the last automatic failover",
  recover_demote: (t) => `recovery: demote ${t} to backup`,
  recover_promote: (t) => `recovery: promote ${t} to primary`,
  recover_verify: (t) => `recovery: verify ${t}`,
};

/** "demote sip-1 on host-a1 to backup" for a step action and its target. */
export function stepPhrase(action: string, target: string): string {
  const f = STEP_PHRASES[action];
  return f ? f(target) : `${action.replace(/_/g, " ")} ${target}`.trim();
}

function stepResult(status: string | null, durationMs: number | null, error: string | null): string {
  if (status === "succeeded") return durationMs !== null ? `succeeded in ${humanDuration(durationMs)}` : "succeeded";
  if (status === "skipped") return error ? `skipped: ${error}` : "skipped";
  if (status === "failed") return error ? `failed: ${error}` : "failed";
  return status ?? "recorded";
}

/** The server a step acted on, without the VIP note a recovery's promote adds ("sip-1 on host-a1 (VIP …)"). */
const serverOfTarget = (target: string) => target.replace(/ \(VIP [^)]*\)$/, "");

function operationFinished(e: SentenceInput, names: SentenceNames, d: Details): string {
  const kind = str(d.kind) ?? "operation";
  const steps = arr(d.steps).map(obj);
  const done = (a: string) => steps.filter((s) => str(s.action) === a && str(s.status) === "succeeded").map((s) => serverOfTarget(str(s.target) ?? "?"));
  const demoted = [...done("demote"), ...done("recover_demote")];
  const promoted = [...done("promote"), ...done("recover_promote")];
  const decision = str(d.decision);
  const reason = str(d.reason);
  const parts: string[] = [];
  if (demoted.length) parts.push(`${demoted.at(-1)} demoted`);
  if (promoted.length) parts.push(`${promoted.at(-1)} promoted`);
  let body = parts.join(", ");
  const requester = decision?.match(/^manual switchover requested by (\S+)/)?.[1] ?? null;
  if (kind === "failover" || kind === "disconnect_failover") {
    const why = cause(decision);
    body = body ? (why ? `${body} after ${why}` : body) : (why ?? "nothing done");
  } else if (requester) {
    body = [body, `requested by ${requester}`].filter(Boolean).join(", ") + (reason ? ` (reason: ${reason})` : "");
  } else {
    const why = reason ?? cause(decision);
    body = body ? (why ? `${body} (${why})` : body) : (why ?? "nothing done");
  }
  const status = str(d.status) ?? (e.outcome === "success" ? "succeeded" : e.outcome === "failure" ? "failed" : null);
  const error = str(d.error);
  const result =
    status === "succeeded"
      ? `succeeded${e.durationMs !== null ? ` in ${humanDuration(e.durationMs)}` : ""}`
      : status === "failed"
        ? `failed${e.durationMs !== null ? ` after ${humanDuration(e.durationMs)}` : ""}${error ? `: ${error}` : ""}`
        : (status ?? e.outcome);
  return `${e.actor}: ${operationKindPhrase(kind)} on ${pairOf(e, names, d)}: ${body} — ${result}`;
}

function changesText(changes: Details): string {
  const words: Record<string, (v: unknown) => string> = {
    name: (v) => `renamed to ${v}`,
    maintenance: (v) => `maintenance ${v ? "on" : "off"}`,
    autoFailover: (v) => `automatic failover ${v ? "on" : "off"}`,
    holdDownSeconds: (v) => `hold-down ${v} s`,
    disconnectGraceSeconds: (v) => `disconnect grace ${v} s`,
    heartbeatTimeoutMs: (v) => `heartbeat timeout ${v} ms`,
    vipAddress: (v) => `VIP ${v}`,
    vipPrefix: (v) => `VIP prefix /${v}`,
    vipInterface: (v) => `VIP interface ${v}`,
    servers: () => "its servers",
    address: (v) => `address ${v}`,
    agentUrl: (v) => `agent URL ${v}`,
    agentTokenChanged: () => "a new agent token",
  };
  const list = Object.entries(changes).map(([k, v]) => (words[k] ? words[k](v) : `${k} ${typeof v === "object" ? JSON.stringify(v) : String(v)}`));
  return list.length ? list.join(", ") : "nothing";
}

/** A notification channel's change: its fields, and of its secret only that it was set or removed. */
function channelChanges(changes: Details): string {
  const list = Object.entries(changes).map(([k, v]) =>
    k === "secret" ? (v === "removed" ? "secret removed" : "a new secret") : k === "enabled" ? (v ? "enabled" : "disabled") : k === "name" ? `renamed to ${v}` : k === "config" ? `settings ${arr(v).map((x) => str(x) ?? "?").join(", ")}` : k,
  );
  return list.length ? list.join(", ") : "nothing";
}

/** The sentence of one audit row. */
export function auditSentence(e: SentenceInput, names: SentenceNames = {}): string {
  const d = obj(e.details);
  const who = e.actor;
  const pair = () => pairOf(e, names, d);
  const reasonOf = () => str(d.reason);
  const kind = () => operationKindPhrase(str(d.kind) ?? "operation");
  const severity = str(d.severity) ?? (["critical", "major", "minor", "warning"].includes(e.outcome) ? e.outcome : null);
  const message = str(d.message);

  switch (e.action) {
    case "operation.requested": {
      const target = obj(d.target);
      const name = str(target.name);
      const effect = str(d.effect);
      const to = str(d.kind) !== "manual_switchover" && effect ? `: ${effect.replace(/\.$/, "")}` : name ? `: make ${name}${str(target.hostName) ? ` on ${target.hostName}` : ""} primary` : "";
      return `${who} requested ${an(kind())} on ${pair()}${to}${reasonOf() ? ` (reason: ${reasonOf()})` : ""}`;
    }
    case "operation.refused": {
      const failed = arr(d.failed).map(obj).map((c) => str(c.detail) ?? str(c.label) ?? "?");
      const what = str(d.kind) && str(d.kind) !== "manual_switchover" ? kind() : "switchover";
      return `${who}'s ${what} on ${pair()} was refused by the preflight${failed.length ? `: ${failed.join("; ")}` : ""}`;
    }
    case "operation.decided":
      return `${who} decided ${an(kind())} on ${pair()}${reasonOf() ? `: ${reasonOf()}` : ""}`;
    case "operation.started":
      return `${who} started the ${kind()} on ${pair()}${reasonOf() ? `: ${reasonOf()}` : ""}`;
    case "operation.reconciled": {
      const stepsDone = d.stepsDone;
      const n = Array.isArray(stepsDone) ? stepsDone.length : num(stepsDone);
      return `${who}, as the new leader, took over the unfinished ${kind()} on ${pair()}${n !== null ? ` (${n} step${n === 1 ? "" : "s"} done before)` : ""}`;
    }
    case "operation.finished":
      return operationFinished(e, names, d);
    case "decision":
      return `${who} took no action${onPair(e, names, d)}: ${reasonOf() ?? "no reason recorded"}`;
    case "server.now_primary":
    case "server.now_backup": {
      const mode = e.action === "server.now_primary" ? "primary" : "backup";
      const code = str(d.code);
      return `${message ?? `server ${e.targetId ?? "?"} is now ${mode}`}${onPair(e, names, d)}${code ? ` (Genesys ${code})` : ""}`;
    }
    case "alarm.raised":
      return `${who} raised ${severity ? an(severity) + " alarm" : "an alarm"}${onPair(e, names, d)}: ${message ?? str(d.kind) ?? "?"}`;
    case "alarm.cleared":
      return `${who} cleared the ${severity ? `${severity} ` : ""}alarm${onPair(e, names, d)} (its condition ended): ${message ?? str(d.kind) ?? "?"}`;
    case "alarm.ack": {
      const comment = str(d.comment);
      return `${who} acknowledged the ${severity ? `${severity} ` : ""}alarm ${quoted(message ?? str(d.kind) ?? "?")}${onPair(e, names, d)}${comment ? ` with the comment ${quoted(comment)}` : ""}`;
    }
    case "pair.create": {
      const vip = str(d.vipAddress) ? ` (VIP ${d.vipAddress}${num(d.vipPrefix) !== null ? `/${d.vipPrefix}` : ""}${str(d.vipInterface) ? ` on ${d.vipInterface}` : ""})` : "";
      return `${who} created pair ${str(d.name) ?? pair()}${vip}`;
    }
    case "pair.update":
      return `${who} changed pair ${str(d.name) ?? pair()}: ${changesText(obj(d.changes))}`;
    case "pair.maintenance":
      return `${who} switched maintenance ${d.maintenance ? "on" : "off"} for pair ${str(d.name) ?? pair()}${reasonOf() ? ` (reason: ${reasonOf()})` : ""}`;
    case "maintenance.schedule":
      return `${who} scheduled maintenance of pair ${str(d.name) ?? pair()} from ${str(d.startsAt) ?? "?"} to ${str(d.endsAt) ?? "?"}${reasonOf() ? `: ${reasonOf()}` : ""}`;
    case "maintenance.end":
      return `${who} ended the maintenance window of pair ${str(d.name) ?? pair()} early (planned until ${str(d.endsAt) ?? "?"})`;
    case "maintenance.cancel":
      return `${who} cancelled the maintenance window of pair ${str(d.name) ?? pair()} planned from ${str(d.startsAt) ?? "?"}`;
    case "pair.delete":
      return `${who} deleted pair ${str(d.name) ?? pair()}${str(d.vipAddress) ? ` (VIP ${d.vipAddress})` : ""}`;
    case "pair.configure": {
      const hosts = arr(d.hosts).map((h) => str(h) ?? "?");
      return `${who} set up pair ${str(d.name) ?? pair()} for the demo or a benchmark${str(d.vip) ? ` (VIP ${d.vip}${hosts.length ? `, hosts ${hosts.join(" and ")}` : ""})` : ""}`;
    }
    case "host.create":
      return `${who} added host ${str(d.name) ?? "?"}${str(d.address) ? ` (${d.address}${str(d.agentUrl) ? `, agent ${d.agentUrl}` : ""})` : ""}`;
    case "host.update":
      return `${who} changed host ${str(d.name) ?? "?"}: ${changesText(obj(d.changes))}`;
    case "host.delete":
      return `${who} deleted host ${str(d.name) ?? "?"}`;
    case "notification.channel.create":
      return `${who} created the ${str(d.type) ?? ""} notification channel ${str(d.name) ?? "?"}${d.secret === "set" ? " (with a secret)" : ""}`.replace("the  ", "the ");
    case "notification.channel.update":
      return `${who} changed the notification channel ${str(d.name) ?? "?"}: ${channelChanges(obj(d.changes))}`;
    case "notification.channel.delete":
      return `${who} deleted the ${str(d.type) ?? ""} notification channel ${str(d.name) ?? "?"} with its rules and delivery log`.replace("the  ", "the ");
    case "notification.rule.create": {
      const events = arr(d.events).map((v) => str(v) ?? "?");
      return `${who} created the notification rule ${str(d.name) ?? "?"}: ${events.length ? events.join(", ") : "no event"} to ${str(d.channelName) ?? "a channel"}`;
    }
    case "notification.rule.update":
      return `${who} changed the notification rule ${str(d.name) ?? "?"}: ${Object.keys(obj(d.changes)).join(", ") || "nothing"}`;
    case "notification.rule.delete":
      return `${who} deleted the notification rule ${str(d.name) ?? "?"}${str(d.channelName) ? ` (to ${d.channelName})` : ""}`;
    case "notification.test":
      return `${who} sent a test notification to ${str(d.name) ?? "?"}${str(d.type) ? ` (${d.type})` : ""}`;
    case "user.bootstrap_admin":
      return `${who} created the first admin, ${str(d.username) ?? "?"}${d.passwordSource === "ADMIN_PASSWORD" ? " (password from ADMIN_PASSWORD)" : d.passwordSource === "generated" ? " (generated password, printed once)" : ""}`;
    case "user.create":
      return `${who} created user ${str(d.username) ?? "?"}${str(d.role) ? ` (${d.role})` : ""}`;
    case "user.role":
      return `${who} changed the role of ${str(d.username) ?? "?"} from ${str(d.from) ?? "?"} to ${str(d.to) ?? "?"}`;
    case "user.delete":
      return `${who} deleted user ${str(d.username) ?? "?"}${str(d.role) ? ` (${d.role})` : ""}`;
    case "token.create": {
      const expires = str(d.expiresAt);
      return `${who} created API token ${str(d.name) ?? "?"}${str(d.role) ? ` (${d.role}` : " ("}${str(d.tokenPrefix) ? `, ${d.tokenPrefix}…` : ""}${expires ? `, expires ${expires}` : ", no expiry"})`;
    }
    case "token.delete":
      return `${who} revoked API token ${str(d.name) ?? "?"}${str(d.tokenPrefix) ? ` (${d.tokenPrefix}…)` : ""}`;
    case "auth.login":
      return e.outcome === "success"
        ? `${who} signed in${str(d.ip) ? ` from ${d.ip}` : ""}`
        : `a sign-in as ${who}${str(d.ip) ? ` from ${d.ip}` : ""} failed: ${reasonOf() ?? "invalid credentials"}`;
    case "auth.login_failures": {
      const failures = num(d.failures) ?? 0;
      const refused = num(d.refused) ?? 0;
      const counts = `${failures} failed sign-in${failures === 1 ? "" : "s"}${refused ? ` and ${refused} refused (rate limit)` : ""}`;
      const window = str(d.from) && str(d.to) ? ` between ${d.from} and ${d.to}` : "";
      return d.scope === "address"
        ? `too many sign-in attempts from ${str(d.ip) ?? "?"}: ${counts}${window}`
        : `${counts} as ${who}${str(d.ip) ? ` from ${d.ip}` : ""}${window}`;
    }
    case "auth.logout":
      return `${who} signed out`;
    case "request.denied":
      return `${who} was refused ${str(d.method) ?? "a request"}${str(d.path) ? ` ${d.path}` : ""}${reasonOf() ? `: ${reasonOf()}` : ""}`;
  }
  if (e.action.startsWith("operation.step.")) {
    const action = str(d.step) ?? e.action.slice("operation.step.".length);
    const seq = num(d.seq);
    const status = str(d.status) ?? (e.outcome === "success" ? "succeeded" : e.outcome === "failure" ? "failed" : null);
    return `${who}${onPair(e, names, d)}: ${seq !== null ? `step ${seq}, ` : ""}${stepPhrase(action, str(d.target) ?? "")} — ${stepResult(status, e.durationMs, str(d.error))}`;
  }
  // An action this panel does not know yet: still a sentence, from the row's columns.
  const target = e.targetType ? ` (${e.targetType}${e.targetId ? ` ${e.targetId}` : ""})` : "";
  return `${who}: ${e.action.replace(/[._]/g, " ")}${onPair(e, names, d)}${target} — ${e.outcome}`;
}

/** The operation an audit row belongs to: operation.* rows name it (targetId, or details.operationId). */
export function auditOperationId(e: Pick<SentenceInput, "action" | "targetType" | "targetId" | "details">): string | null {
  if (!e.action.startsWith("operation.")) return null;
  if (e.targetType === "operation" && e.targetId) return e.targetId;
  return str(obj(e.details).operationId);
}
