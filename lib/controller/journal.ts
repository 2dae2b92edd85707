/**
 * The controller's journal: every record it must write while the database cannot be reached, in order,
 * appended to a file (JSON lines) so that a panel killed meanwhile loses nothing. It survives the death of
 * the process (the data is in the kernel's page cache at once); an OS crash may lose the last records (no
 * fsync: the file is on the failover's hot path). writes.ts writes the records to the database in the
 * same order when it is back, marking each one done, then removes the file.
 *
 * One file per controller (`controller-<host>-<pid>-<thread>-<random>.jsonl`), open while it holds
 * records: a controller that starts takes over the files no live process holds open (a panel killed
 * during a database outage, a controller thread that died) and writes their records first.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { threadId } from "node:worker_threads";
import type { AlarmSpec } from "@/lib/queries/alarms";
import type { NewOperation } from "@/lib/queries/operations";
import type { ModeChange } from "@/lib/queries/status";
import type { OperationRecord, PlannedStep, StepRecord } from "./model";
import type { StateSummary } from "./view";

export type FinishEnd = { status: "succeeded" | "failed"; error: string | null; finishedAt: number; epoch: number; before: StateSummary | null; after: StateSummary | null; skipReason?: string };

/** A record the controller writes, as data (the arguments of its lib/queries function). */
export type JournalRecord =
  | { t: "insertOperation"; row: NewOperation & { id: string; at: number } }
  | { t: "insertRequested"; row: NewOperation & { id: string; at: number }; request: { target: { id: string; name: string; hostName: string } | null } }
  | { t: "operationEvent"; op: OperationRecord; action: "operation.decided" | "operation.started" | "operation.reconciled"; details: Record<string, unknown> }
  | { t: "step"; op: OperationRecord; step: StepRecord; epoch: number }
  | { t: "addedSteps"; op: OperationRecord; steps: PlannedStep[] }
  | { t: "finish"; op: OperationRecord; end: FinishEnd }
  | { t: "noAction"; pairId: string; reason: string; epoch: number }
  | { t: "raiseAlarm"; spec: AlarmSpec }
  | { t: "clearAlarm"; key: string }
  | { t: "modes"; modes: ModeChange[]; epoch: number };

export type JournalEntry = JournalRecord & { seq: number; at: number };

const FILE = /^controller-.+\.jsonl$/;

function readEntries(file: string): JournalEntry[] {
  const done = new Set<number>();
  const entries: JournalEntry[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const x = JSON.parse(line) as JournalEntry | { done: number };
      if ("done" in x) done.add(x.done);
      else entries.push(x);
    } catch {
      // a line cut by a crash in the middle of a write: the record was not acted on after it either
    }
  }
  return entries.filter((e) => !done.has(e.seq));
}

export class Journal {
  readonly file: string;
  private entries: JournalEntry[] = [];
  private seq = 0;
  /** Open while records are pending: a live journal's file is open, an orphan's is not (see isOrphan). */
  private fd: number | null = null;

  constructor(readonly dir: string) {
    this.file = path.join(dir, `controller-${hostname()}-${process.pid}-${threadId}-${randomBytes(3).toString("hex")}.jsonl`);
  }

  get pending(): number {
    return this.entries.length;
  }

  /** When the oldest record not yet written was made (ms), or null. */
  get since(): number | null {
    return this.entries[0]?.at ?? null;
  }

  append(rec: JournalRecord, at = Date.now()): JournalEntry {
    const e = { ...rec, seq: ++this.seq, at } as JournalEntry;
    this.write(JSON.stringify(e));
    this.entries.push(e);
    return e;
  }

  /** The oldest record not yet written. */
  next(): JournalEntry | undefined {
    return this.entries[0];
  }

  /** The oldest record was written to the database. */
  done(seq: number) {
    if (this.entries[0]?.seq !== seq) return;
    this.entries.shift();
    if (this.entries.length > 0) return this.write(JSON.stringify({ done: seq }));
    this.close();
    rmSync(this.file, { force: true });
  }

  /** Closes the file (the controller stops); records still pending stay in it for the next controller. */
  close() {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private write(line: string) {
    if (this.fd === null) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.fd = openSync(this.file, "a", 0o600);
    }
    writeSync(this.fd, line + "\n");
  }

  /**
   * The records left by controllers that are gone (a panel killed during an outage, a controller thread
   * that died), oldest first; their files are taken over (removed once their records joined this journal).
   */
  adoptOrphans(): number {
    if (!existsSync(this.dir)) return 0;
    const files = readdirSync(this.dir)
      .filter((f) => FILE.test(f))
      .map((f) => path.join(this.dir, f))
      .filter((f) => f !== this.file && isOrphan(f))
      .map((file) => ({ file, entries: readEntries(file) }))
      .sort((a, b) => (a.entries[0]?.at ?? 0) - (b.entries[0]?.at ?? 0));
    let n = 0;
    for (const { file, entries } of files) {
      for (const e of entries) {
        const { seq: _s, at, ...rec } = e;
        this.append(rec as JournalRecord, at); // keeps when it happened
        n++;
      }
      rmSync(file, { force: true });
    }
    return n;
  }
}

/**
 * No live process has the file open. Linux tells us exactly (/proc/<pid>/fd, every thread of the
 * process included: a controller thread restarted by thread.ts adopts its dead predecessor's file,
 * never a live controller's). Without /proc: the process named in the file is gone.
 */
function isOrphan(file: string): boolean {
  const m = /^controller-(.+)-(\d+)-\d+-[0-9a-f]+\.jsonl$/.exec(path.basename(file));
  if (!m) return false; // not a name this code writes: leave it alone
  if (m[1] !== hostname()) return false; // a directory shared with another host: its processes are not ours to judge
  const pid = Number(m[2]);
  if (!alive(pid)) return true;
  const fds = `/proc/${pid}/fd`;
  let links: string[];
  try {
    links = readdirSync(fds).map((fd) => {
      try {
        return readlinkSync(path.join(fds, fd));
      } catch {
        return "";
      }
    });
  } catch {
    return false; // no /proc (or not ours to read): the process lives, so its journal may
  }
  const real = realpathSync(file);
  return !links.includes(real);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
