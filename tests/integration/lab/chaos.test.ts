/**
 * Issue 13: the fault campaign, short (lab/chaos/campaign.ts; `npm run chaos` runs it for as long as asked).
 * A fixed seed, about 2.5 minutes of faults on the namespace lab: SIGKILL and SIGSTOP of the SIP Server,
 * the agent and the panel (restarted), link cuts, Postgres taken away, concurrent manual switchovers.
 * Asserts that every fault kind occurred, that no violation of the invariant fell outside the documented
 * windows, that no operation got stuck and that the audit chain verifies. Writes bench/results/chaos-short.{md,json}.
 *
 * Needs root, iproute2, iputils-arping, nftables, sip-tester and a production build (as lab.test.ts).
 * SY_CHAOS_SHORT_MINUTES / SY_CHAOS_SHORT_SEED change the length and the seed.
 */
import { describe, expect, it } from "vitest";
import { runCampaign } from "../../../lab/chaos/campaign";
import { FAULT_KINDS } from "../../../lab/chaos/schedule";
import { labSkipReason } from "../../../lab/harness";

const skipReason = labSkipReason("it creates network namespaces and signals processes in them", ["ip", "arping", "nft", "sipp", "flock"]);

const MINUTES = Number(process.env.SY_CHAOS_SHORT_MINUTES ?? 2.5);
const SEED = Number(process.env.SY_CHAOS_SHORT_SEED ?? 13);

describe.skipIf(skipReason !== null)(`fault campaign, short${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  it(
    `seed ${SEED}, ${MINUTES} min: every fault kind, no violation outside the documented windows, nothing stuck, the audit verifies`,
    async () => {
      const r = await runCampaign({ minutes: MINUTES, seed: SEED, out: "bench/results/chaos-short", log: (l) => process.stdout.write(l + "\n") });
      process.stdout.write(r.table);
      const s = r.summary;
      for (const k of [...FAULT_KINDS, "switchover"]) {
        const n = s.faultsByKind[k];
        expect(n && n.count - n.noop, `${k} occurred (and did something)`).toBeGreaterThan(0);
      }
      expect(
        s.unexpected.map((v) => `${new Date(v.start).toISOString()} ${v.kind} ${Math.round(v.durationMs)} ms (${Math.round(v.outsideMs)} outside): ${v.detail}; during ${v.during.join(", ")}`),
        "violations outside the documented windows",
      ).toEqual([]);
      expect(s.operationsStuck, "operations stuck").toBe(0);
      expect(s.auditOk, s.auditDetail).toBe(true);
    },
    (MINUTES * 60 + 300) * 1000,
  );
});
