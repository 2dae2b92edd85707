import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Journal, type JournalRecord } from "@/lib/controller/journal";

const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), "switchyard-journal-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rec = (key: string): JournalRecord => ({ t: "clearAlarm", key });
/** A pid that existed and is gone. */
const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;

describe("controller journal", () => {
  it("keeps records in order in its file, marks them done, removes the file when empty", () => {
    const j = new Journal(newDir());
    j.append(rec("a"), 1000);
    j.append(rec("b"), 2000);
    expect(j.pending).toBe(2);
    expect(j.since).toBe(1000);
    expect(readFileSync(j.file, "utf8").trim().split("\n")).toHaveLength(2);
    j.done(j.next()!.seq);
    expect(j.next()).toMatchObject({ key: "b" });
    expect(readFileSync(j.file, "utf8")).toContain('{"done":1}');
    j.done(2);
    expect(j.pending).toBe(0);
    expect(readdirSync(j.dir)).toEqual([]);
  });

  it("adopts the files nobody holds open (a dead process; a closed journal of this one), oldest first, without the done ones", () => {
    const dir = newDir();
    // A controller process that died with two records, one of them written already.
    const dead = path.join(dir, `controller-${hostname()}-${deadPid()}-0-abcdef.jsonl`);
    writeFileSync(dead, [JSON.stringify({ ...rec("old-1"), seq: 1, at: 100 }), JSON.stringify({ ...rec("old-2"), seq: 2, at: 200 }), JSON.stringify({ done: 1 }), '{"t":"clearAl'].join("\n") + "\n");
    // A journal of this process that was closed (a controller thread that ended) with one record.
    const closed = new Journal(dir);
    closed.append(rec("closed"), 50);
    closed.close();
    // A live journal of this process (open): not an orphan.
    const live = new Journal(dir);
    live.append(rec("live"), 10);

    const j = new Journal(dir);
    expect(j.adoptOrphans()).toBe(2);
    expect([j.next(), (j.done(j.next()!.seq), j.next())].map((e) => (e as { key: string }).key)).toEqual(["closed", "old-2"]);
    expect(j.since).toBe(200); // the adopted records keep when they happened
    const left = readdirSync(dir).sort();
    expect(left).toContain(path.basename(live.file));
    expect(left).not.toContain(path.basename(dead));
    expect(left).not.toContain(path.basename(closed.file));
    live.close();
  });

  it("leaves alone files of another host and names it does not write", () => {
    const dir = newDir();
    writeFileSync(path.join(dir, `controller-elsewhere.example-${deadPid()}-0-abcdef.jsonl`), JSON.stringify({ ...rec("x"), seq: 1, at: 1 }) + "\n");
    writeFileSync(path.join(dir, "notes.jsonl"), "{}\n");
    appendFileSync(path.join(dir, "controller-garbage.jsonl"), "{}\n");
    expect(new Journal(dir).adoptOrphans()).toBe(0);
    expect(readdirSync(dir)).toHaveLength(3);
  });
});
