/**
 * `npm run chaos` (root only): the fault campaign of issue 13 on the namespace lab. For N minutes, a
 * seeded random schedule of faults — SIGKILL and SIGSTOP/SIGCONT of the SIP Server, of the agent and of the
 * panel (restarted after a kill), cuts and restores of each host's link to the panel, Postgres taken away
 * and given back — and seeded concurrent manual switchovers through the API, while a checker samples the
 * invariant (exactly one VIP holder, a SIP 200 through the VIP, the panel shows that primary, no operation
 * stuck); at the end the audit chain is verified. Prints the table and writes <out>.md and <out>.json.
 *
 *   sudo npm run chaos -- --minutes 30 --seed 1 [--out bench/results/chaos]
 *
 * The same seed gives the same fault schedule. Violations inside the documented window of a fault are
 * expected and counted apart (lab/chaos/analysis.ts, docs/testing.md "The fault campaign"); the exit
 * status is 0 only with no violation outside every window, no operation stuck and the audit verified.
 *
 * Database: the server of DATABASE_URL (local only; a throwaway database is created and dropped), else a
 * throwaway embedded Postgres. Environment: SY_CHAOS_SERVER_LOG_LEVEL (the panel's LOG_LEVEL, default warn),
 * SY_LAB_SESSION_LOCK (waits up to 30 min for another lab session).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { startEmbeddedPostgres, type EmbeddedHandle } from "../lib/db/embedded";
import { adminUrlFor, assertLocalDatabase } from "../tests/integration/helpers/db";
import { runCampaign } from "./chaos/campaign";
import { exec } from "./harness";

const Args = z.object({
  minutes: z.coerce.number({ message: "a number of minutes" }).positive("more than 0").max(24 * 60, "at most 1440 (a day)"),
  seed: z.coerce.number({ message: "an integer" }).int("an integer").min(0, "0 or more").max(2 ** 32 - 1, "below 2^32"),
  out: z
    .string()
    .min(1)
    .regex(/^[\w./-]+$/, "a path of letters, digits, . _ / -")
    .default("bench/results/chaos"),
});

const usage = "usage: npm run chaos -- --minutes N --seed S [--out bench/results/chaos]";
const err = (msg: string) => process.stderr.write(`npm run chaos: ${msg}\n`);

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options: { minutes: { type: "string" }, seed: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true }));
  } catch (e) {
    err(`${(e as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  for (const k of ["minutes", "seed"]) if (values[k] === undefined) {
    err(`--${k} is required\n${usage}`);
    return 2;
  }
  const parsed = Args.safeParse(values);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    err(`--${String(i.path[0])}: ${i.message}\n${usage}`);
    return 2;
  }
  const args = parsed.data;
  if (process.getuid?.() !== 0) {
    err("needs root: it builds network namespaces, moves an IP address between them and signals processes in them (sudo npm run chaos ...)");
    return 1;
  }
  for (const tool of ["ip", "arping", "nft", "flock"])
    if ((await exec("sh", ["-c", `command -v ${tool}`])).code !== 0) {
      err(`${tool} not found: apt-get install -y iproute2 iputils-arping nftables sip-tester util-linux`);
      return 1;
    }

  let embedded: EmbeddedHandle | undefined;
  let tmp: string | undefined;
  if (!process.env.SWITCHYARD_TEST_ADMIN_URL) {
    const given = process.env.DATABASE_URL?.trim();
    if (given) {
      assertLocalDatabase(given);
      process.env.SWITCHYARD_TEST_ADMIN_URL = adminUrlFor(given);
    } else {
      tmp = await mkdtemp(path.join(os.tmpdir(), "switchyard-chaos-pg-"));
      const quiet = { info: () => undefined, warn: (msg: string) => err(`postgres: ${msg}`) };
      embedded = await startEmbeddedPostgres({ dataDir: tmp, log: quiet, persistent: false, database: "postgres" });
      process.env.SWITCHYARD_TEST_ADMIN_URL = embedded.adminUrl;
    }
  }
  const abort = new AbortController();
  let signals = 0;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      if (++signals > 1) process.exit(130);
      abort.abort();
    });
  try {
    const r = await runCampaign({
      minutes: args.minutes,
      seed: args.seed,
      out: args.out,
      log: (l) => process.stdout.write(l + "\n"),
      sessionLockWaitMs: 30 * 60_000,
      signal: abort.signal,
    });
    process.stdout.write(`\n${r.table}\nWritten: ${args.out}.md, ${args.out}.json\n`);
    const s = r.summary;
    const bad = s.unexpected.length > 0 || s.operationsStuck > 0 || s.auditOk !== true;
    return bad ? 1 : 0;
  } finally {
    if (embedded) await embedded.stop().catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    err((e as Error).stack ?? String(e));
    process.exit(1);
  },
);
