/**
 * Structured JSON logs: one line per entry on stdout with time, level, msg and fields.
 * Secrets never reach the log: any field whose key looks like a credential is replaced by "[redacted]".
 *
 *   log.info("pair created", { pairId });  const l = log.child({ requestId });  l.warn("denied");
 *
 * Used by the panel and by the host agent (agent/ is bundled with esbuild and shipped alone): keep this
 * module free of imports (no Next, Prisma or configuration libraries).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = object;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys (case-insensitive, also as part of a longer key like "newPassword" or "x-api-token") never logged. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential|api[-_]?key|session/i;
/** Keys that contain "token"/"session" but are not secrets themselves. */
const SAFE_KEYS = new Set(["tokenId", "tokenName", "tokenPrefix", "sessionId", "hasAgentToken", "prefix"]);

export function isSecretKey(key: string): boolean {
  return !SAFE_KEYS.has(key) && SECRET_KEY.test(key);
}

/** Copy of `value` with secret-looking keys redacted and errors turned into plain objects. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[depth]";
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSecretKey(k) ? "[redacted]" : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}

let levelOverride: LogLevel | null = null;

/**
 * Sets the level, overriding LOG_LEVEL (the agent sets its configuration's logLevel); null goes back to
 * LOG_LEVEL.
 */
export function setLogLevel(level: LogLevel | null) {
  if (level !== null && !isLogLevel(level)) throw new TypeError(`log level: expected debug, info, warn or error, got ${String(level)}`);
  levelOverride = level;
}

export function isLogLevel(s: unknown): s is LogLevel {
  return typeof s === "string" && Object.hasOwn(ORDER, s);
}

function threshold(): number {
  if (levelOverride) return ORDER[levelOverride];
  const lvl = (process.env.LOG_LEVEL ?? "info").toLowerCase() as LogLevel;
  return ORDER[lvl] ?? ORDER.info;
}

export type LogSink = (line: string) => void;
let sink: LogSink = (line) => process.stdout.write(line + "\n");

/** Tests can capture log lines. Returns a function that restores the previous sink. */
export function setLogSink(next: LogSink): () => void {
  const prev = sink;
  sink = next;
  return () => {
    sink = prev;
  };
}

function make(base: LogFields): Logger {
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < threshold()) return;
    const entry = { time: new Date().toISOString(), level, msg, ...(redact({ ...base, ...fields }) as LogFields) };
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ time: entry.time, level, msg, note: "fields not serialisable" });
    }
    sink(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => make({ ...base, ...fields }),
  };
}

export const log: Logger = make({});
