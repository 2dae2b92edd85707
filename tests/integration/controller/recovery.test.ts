/**
 * The failure policy of a manual switchover (README, docs/controller.md): stop at the failed step, then
 * bring the pair back to exactly one primary holding the VIP — the old primary re-promoted when it still
 * runs on a connected host (the other demoted first), otherwise the other server promoted — recorded as
 * extra steps of the same operation, which ends `failed`. Real agents with the script VIP driver (a VIP
 * control script that fails on demand, and a journal of every VIP change on both hosts), real simulated
 * SIP Servers; the controller runs in this thread with a test hook between steps.
 */
import { expect, it } from "vitest";
import type { StepRecord } from "@/lib/controller/model";
import { killGroup } from "../agent/helpers";
import { alarmsOf, controllerSuite, pairView, steps, waitFor, waitHealthy, waitOperationDone, type LabPair } from "./lab";
import { switchover } from "./api";
import { vipJournal, type VipJournal } from "./vip-journal";

/** Called by the controller after every finished step (the runner waits for it); set by a test. */
let afterStep: ((s: StepRecord) => Promise<void>) | null = null;
const suite = controllerSuite({ afterStep: (s) => afterStep?.(s) });

async function scriptLab(): Promise<{ lab: LabPair; vips: VipJournal }> {
  afterStep = null;
  const vips = vipJournal();
  const l = await suite.start({ agentConfig: (i, config) => (config.vips = [vips.vipConfig(`h${i + 1}`, String((config.vips[0] as { address: string }).address))]) });
  return { lab: l, vips };
}

it("a failed VIP script on the new primary: the old primary is re-promoted, the other demoted first; one operation, failed", async () => {
  const s = await scriptLab();
  const lab = s.lab;
  await waitHealthy(lab, 0);
  s.vips.failNextEnable("h2");
  const r = await switchover(lab.pairId, { reason: "patch host 1" });
  expect(r.status).toBe(202);
  const op = await waitOperationDone(lab.pairId, "manual_switchover");
  expect(op.status).toBe("failed");
  expect(steps(op)).toEqual([
    "demote:succeeded",
    "vip_disable:succeeded",
    "promote:succeeded",
    "vip_enable:failed",
    "verify:skipped",
    "recover_demote:succeeded",
    "recover_promote:succeeded",
    "recover_verify:succeeded",
  ]);
  expect(op.steps[3].error).toMatch(/injected failure/);
  expect(op.steps.slice(5).map((x) => x.target)).toEqual([`sip-2 on ${lab.hosts[1].name}`, `sip-1 on ${lab.hosts[0].name} (VIP ${lab.vip}/24 on ${lab.hosts[0].name})`, `${lab.name}: one primary holding the VIP`]);
  expect(op.error).toMatch(new RegExp(`^step 4 vip_enable .* failed: .*; recovered: sip-1 is primary with the VIP on ${lab.hosts[0].name}$`));
  const v = await waitHealthy(lab, 0);
  expect(v.servers[1]).toMatchObject({ processState: "running", mode: "backup", vip: "disabled" });
  // The VIP moved host 1 → (host 2 failed) → host 1, and was never enabled on both hosts.
  expect(s.vips.entries()).toEqual([
    ["h1", "enabled"],
    ["h1", "disabled"],
    ["h1", "enabled"],
  ]);
  expect(s.vips.maxHolders()).toBe(1);
  await waitFor("switchover_failed alarm", async () => (await alarmsOf(lab.pairId)).some((a) => a.kind === "switchover_failed" && a.clearedAt === null));
});

it("the old primary died meanwhile: the other server is promoted by the recovery; one operation, failed", async () => {
  const s = await scriptLab();
  const lab = s.lab;
  const v0 = await waitHealthy(lab, 0);
  s.vips.failNextEnable("h2");
  afterStep = async (step) => {
    if (step.action !== "demote" || step.status !== "succeeded") return;
    afterStep = null;
    // sip-1 dies right after it was demoted; the controller sees it before the next step fails.
    killGroup(v0.servers[0].pid, "SIGKILL");
    await waitFor("sip-1 failed", async () => (await pairView(lab.pairId))?.servers[0].processState === "failed", 5000, 5);
  };
  const r = await switchover(lab.pairId, {});
  expect(r.status).toBe(202);
  const op = await waitOperationDone(lab.pairId, "manual_switchover");
  expect(op.status).toBe("failed");
  expect(steps(op)).toEqual(["demote:succeeded", "vip_disable:succeeded", "promote:succeeded", "vip_enable:failed", "verify:skipped", "recover_promote:succeeded", "recover_verify:succeeded"]);
  expect(op.error).toMatch(new RegExp(`; recovered: sip-2 is primary with the VIP on ${lab.hosts[1].name}$`));
  // sip-1 comes back (its agent restarts it) as backup.
  const v = await waitHealthy(lab, 1);
  expect(v.servers[0]).toMatchObject({ processState: "running", mode: "backup", vip: "disabled" });
  expect(s.vips.entries()).toEqual([
    ["h1", "enabled"],
    ["h1", "disabled"],
    ["h2", "enabled"],
  ]);
  expect(s.vips.maxHolders()).toBe(1);
});
