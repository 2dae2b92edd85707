/**
 * The audit chain's anchor outside the database: a key the database never sees, and checkpoints of the
 * chain written to a file the database cannot rewrite. lib/queries/audit-chain.ts uses both (append,
 * verify); docs/database.md says what they guarantee and what they do not.
 *
 *  - The key (AUDIT_KEY_FILE, default <data dir>/audit.key): 32 random bytes, hex, mode 600, created on
 *    first use. Every appended row stores mac = HMAC-SHA256(key, hash): whoever lacks the key can neither
 *    change a row and re-hash the rows after it nor write rows of their own.
 *  - The checkpoints (AUDIT_CHECKPOINT_FILE, default <data dir>/audit-checkpoints.log): one JSON line per
 *    checkpoint, { v, id, hash, at, kid, mac } — the newest row this writer committed, its hash, when,
 *    which key (kid, a fingerprint), and the HMAC over them. Appended and fsync'd at most once a second
 *    after commits (never inside one), at shutdown and when verify asks. Rows deleted from the end of the
 *    chain are named by the checkpoint that still records them.
 *
 * One anchor per thread (cached on globalThis: server.ts and Next's route handlers are separate module
 * graphs of one thread; the controller's thread has its own), each appending its own checkpoints to the
 * same file. The key is never logged, never sent to the database and never leaves this module but as
 * MACs.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { threadId } from "node:worker_threads";
import { loadConfig } from "@/lib/config";
import { log } from "@/lib/log";

/** At most one checkpoint a second per writer. */
export const CHECKPOINT_INTERVAL_MS = 1000;

export interface AuditKey {
  /** Fingerprint: 16 hex characters of a hash of the key (names the key, reveals nothing of it). */
  readonly id: string;
  /** Where it was read from. */
  readonly file: string;
  mac(domain: string, message: string): string;
}

function makeKey(bytes: Buffer, file: string): AuditKey {
  const id = createHash("sha256").update("switchyard-audit-key-id\0").update(bytes).digest("hex").slice(0, 16);
  return {
    id,
    file,
    mac: (domain, message) => createHmac("sha256", bytes).update(`switchyard-audit-${domain}\0v1\0${message}`, "utf8").digest("hex"),
  };
}

/** A key from bytes (tests). */
export function auditKeyFromBytes(bytes: Buffer, file = "(memory)"): AuditKey {
  return makeKey(Buffer.from(bytes), file);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------------------------------
// Rows and checkpoints (pure)

/** The MAC stored with a row: over its hash, which covers its content and, through prevHash, every row before it. */
export function rowMac(key: AuditKey, hash: string): string {
  return key.mac("row", hash);
}

export function rowMacValid(key: AuditKey, hash: string, mac: string): boolean {
  return sameHex(rowMac(key, hash), mac);
}

export interface Checkpoint {
  /** The row's id (decimal). */
  id: string;
  hash: string;
  /** When the checkpoint was written (ISO). */
  at: string;
  /** Fingerprint of the key that signed it. */
  kid: string;
}

const checkpointMessage = (c: Omit<Checkpoint, "kid">) => `${c.id}\0${c.hash}\0${c.at}`;

/** One line of the checkpoint file (without the newline). */
export function checkpointLine(key: AuditKey, c: { id: bigint | string; hash: string; at: Date }): string {
  const body = { id: c.id.toString(), hash: c.hash, at: c.at.toISOString() };
  return JSON.stringify({ v: 1, ...body, kid: key.id, mac: key.mac("checkpoint", checkpointMessage(body)) });
}

export type ParsedCheckpoint = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string; claimed?: Partial<Checkpoint> };

/** Parses and authenticates one line. */
export function parseCheckpointLine(key: AuditKey, line: string): ParsedCheckpoint {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: "not a checkpoint (unreadable)" };
  }
  const str = (k: string) => (typeof o?.[k] === "string" ? (o[k] as string) : undefined);
  const c = { id: str("id"), hash: str("hash"), at: str("at"), kid: str("kid") };
  const mac = str("mac");
  if (o?.v !== 1 || !c.id || !/^\d{1,20}$/.test(c.id) || !c.hash || !c.at || !c.kid || !mac) {
    return { ok: false, reason: "not a checkpoint (fields missing)", claimed: c };
  }
  if (c.kid !== key.id) {
    return { ok: false, reason: `signed with another key (key id ${c.kid}; AUDIT_KEY_FILE holds key id ${key.id})`, claimed: c };
  }
  if (!sameHex(key.mac("checkpoint", checkpointMessage({ id: c.id, hash: c.hash, at: c.at })), mac)) {
    return { ok: false, reason: "its signature does not verify (the line was altered)", claimed: c };
  }
  return { ok: true, checkpoint: c as Checkpoint };
}

// ---------------------------------------------------------------------------------------------------
// The key file

const KEY_TEXT = /^[0-9a-f]{64}$/;

/**
 * Reads the key, creating it (32 random bytes, mode 600) when the file does not exist. Two processes or
 * threads creating it at once end up with the same key (written aside, then linked into place: the link
 * fails for the loser, which reads the winner's). Synchronous: once per thread, before the first append.
 */
export function loadOrCreateAuditKey(file: string): AuditKey {
  const read = (): AuditKey => {
    const text = fs.readFileSync(file, "utf8").trim();
    if (!KEY_TEXT.test(text)) throw new Error(`${file} is not an audit key (expected 64 hex characters; restore the file or point AUDIT_KEY_FILE at it)`);
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) warnOnce(`key:${file}`, "audit: the key file is readable by other users; chmod 600 it", { file, mode: mode.toString(8) });
    return makeKey(Buffer.from(text, "hex"), file);
  };
  try {
    return read();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${threadId}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.writeSync(fd, randomBytes(32).toString("hex") + "\n");
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  let created = false;
  try {
    fs.linkSync(tmp, file);
    created = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  if (created) {
    syncDir(path.dirname(file));
    log.info("audit: key created (keep it, and a copy outside this machine: without it the chain no longer verifies)", { file });
  }
  return read();
}

function syncDir(dir: string) {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not every file system lets a directory be fsync'd; the file itself is
  }
}

const warned = new Set<string>();
function warnOnce(what: string, msg: string, fields: Record<string, unknown>) {
  if (warned.has(what)) return;
  warned.add(what);
  log.warn(msg, fields);
}

// ---------------------------------------------------------------------------------------------------
// The anchor: the key, and this writer's checkpoints

export interface AuditAnchorOptions {
  keyFile: string;
  checkpointFile: string;
}

/** Default locations: the variables, else next to the embedded Postgres's data (SWITCHYARD_DATA_DIR, else ./.data). */
export function auditAnchorPaths(env: Record<string, string | undefined> = process.env): AuditAnchorOptions {
  const c = loadConfig(env);
  const dir = path.resolve(c.SWITCHYARD_DATA_DIR || ".data");
  return {
    keyFile: path.resolve(c.AUDIT_KEY_FILE || path.join(dir, "audit.key")),
    checkpointFile: path.resolve(c.AUDIT_CHECKPOINT_FILE || path.join(dir, "audit-checkpoints.log")),
  };
}

export class AuditAnchor {
  readonly keyFile: string;
  readonly checkpointFile: string;
  private cachedKey: AuditKey | null = null;
  /** The newest row committed by this writer and not yet checkpointed. */
  private pending: { id: bigint; hash: string } | null = null;
  /** The newest row this writer has checkpointed. */
  private written = 0n;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;

  constructor(o: AuditAnchorOptions) {
    this.keyFile = o.keyFile;
    this.checkpointFile = o.checkpointFile;
  }

  key(): AuditKey {
    return (this.cachedKey ??= loadOrCreateAuditKey(this.keyFile));
  }

  /**
   * A row this writer committed (call after the commit). Cheap and synchronous: remembers it and makes
   * sure a checkpoint follows within CHECKPOINT_INTERVAL_MS.
   */
  committed(id: bigint, hash: string): void {
    if (id <= this.written || (this.pending && id <= this.pending.id)) return;
    this.pending = { id, hash };
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, CHECKPOINT_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes the pending checkpoint now (verify, shutdown). Resolves when it is on disk; never throws. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(() => this.writePending());
    return this.writing;
  }

  private take(): { id: bigint; hash: string } | null {
    const p = this.pending;
    if (!p || p.id <= this.written) return (this.pending = null);
    this.pending = null;
    return p;
  }

  private async writePending(): Promise<void> {
    const p = this.take();
    if (!p) return;
    try {
      const line = checkpointLine(this.key(), { ...p, at: new Date() }) + "\n";
      const existed = fs.existsSync(this.checkpointFile);
      if (!existed) await fs.promises.mkdir(path.dirname(this.checkpointFile), { recursive: true });
      const fh = await open(this.checkpointFile, "a", 0o600);
      try {
        await fh.appendFile(line, "utf8");
        await fh.datasync();
      } finally {
        await fh.close();
      }
      if (!existed) syncDir(path.dirname(this.checkpointFile));
      this.written = p.id;
      if (this.failing) log.info("audit: checkpoints are written again", { file: this.checkpointFile });
      this.failing = false;
    } catch (err) {
      // Keep it for the next attempt (the next commit or flush), unless something newer is waiting.
      if (!this.pending) this.pending = p;
      if (!this.failing) log.error("audit: could not write a checkpoint (the newest rows are not anchored)", { file: this.checkpointFile, err: (err as Error).message });
      this.failing = true;
    }
  }

  /** At process exit: the pending checkpoint, synchronously (the exit handler cannot wait). */
  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const p = this.take();
    if (!p) return;
    try {
      const fd = fs.openSync(this.checkpointFile, "a", 0o600);
      try {
        fs.writeSync(fd, checkpointLine(this.key(), { ...p, at: new Date() }) + "\n");
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      this.written = p.id;
    } catch {
      // exiting: nothing left to report to
    }
  }

  /** The checkpoint file's lines, in file order, each authenticated with the key (none when it does not exist). */
  async *checkpoints(): AsyncGenerator<{ line: number } & ParsedCheckpoint> {
    const key = this.key();
    let stream: fs.ReadStream;
    try {
      const fd = await open(this.checkpointFile, "r");
      stream = fd.createReadStream({ encoding: "utf8" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const text of lines) {
        n++;
        if (text.trim() === "") continue;
        yield { line: n, ...parseCheckpointLine(key, text) };
      }
    } finally {
      lines.close();
      stream.destroy();
    }
  }

  /** The key ids named by the first lines of the checkpoint file (to tell a wrong key from a forged row). */
  async checkpointKeyIds(maxLines = 20): Promise<Set<string>> {
    const ids = new Set<string>();
    let seen = 0;
    for await (const c of this.checkpoints()) {
      const kid = c.ok ? c.checkpoint.kid : c.claimed?.kid;
      if (kid) ids.add(kid);
      if (++seen >= maxLines) break;
    }
    return ids;
  }
}

const KEY = Symbol.for("switchyard.auditAnchor");
const EXIT_HOOK = Symbol.for("switchyard.auditAnchor.exitHook");
type Global = typeof globalThis & { [KEY]?: AuditAnchor; [EXIT_HOOK]?: true };
const g = globalThis as Global;

/** This thread's anchor (built on first use from the configuration; flushed at process exit). */
export function auditAnchor(): AuditAnchor {
  const existing = g[KEY];
  if (existing) return existing;
  const a = new AuditAnchor(auditAnchorPaths());
  g[KEY] = a;
  if (!g[EXIT_HOOK]) {
    g[EXIT_HOOK] = true;
    process.once("exit", () => g[KEY]?.flushSync());
  }
  return a;
}

/**
 * Flushes this thread's pending checkpoint, if an anchor exists (shutdown: lib/db closeDb calls it
 * before closing the pool).
 */
export async function flushAuditAnchor(): Promise<void> {
  await g[KEY]?.flush();
}

/**
 * Forgets this thread's anchor (its pending checkpoint is written first): the next use reads the
 * configuration again. For tests that switch files, and for a restart within one process.
 */
export async function resetAuditAnchor(): Promise<void> {
  const a = g[KEY];
  g[KEY] = undefined;
  await a?.flush();
}
