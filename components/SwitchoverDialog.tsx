"use client";
/**
 * Click-to-switchover: a button (operators and admins; viewers see it disabled with the reason), a
 * dialog with the controller's preflight checklist, an optional reason and a confirm button naming the
 * direction; after confirming, the live step timeline until success or failure.
 *
 * The timeline follows the page's own operations (`operations`: the pair page's list, merged from every
 * `operation:update` of the pair since the page opened). The dialog once listened for itself, and only
 * to the id the POST answered: a switchover takes tens of milliseconds, so its step events reached the
 * browser before that answer and were dropped, and the dialog showed step 1 running while the page
 * behind it showed all five done. And it follows the operation this user started as soon as the page
 * sees it, before the POST answers (on a slow network the whole switchover is over by then).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { Dialog } from "radix-ui";
import type { OperationView, PairView, Preflight } from "@/lib/views";
import { api, ApiError, errorText } from "./api";
import { laterOp, OperationTimeline } from "./OperationTimeline";
import { PreflightChecklist } from "./overrides/PreflightChecklist";
import { canOperate, useMe } from "./session";
import { useLiveState } from "./socket";
import { Icon } from "./status";
import { Button, ErrorNote, inputClass } from "./ui";

type Phase = { kind: "check" } | { kind: "running"; opId: string };

export function SwitchoverButton({ pair, operations }: { pair: PairView; operations: OperationView[] }) {
  const { me, loading } = useMe();
  const allowed = canOperate(me);
  const [open, setOpen] = useState(false);
  return (
    <div className="relative flex flex-col items-end gap-1">
      <Dialog.Root open={open} onOpenChange={setOpen}>
        <Dialog.Trigger asChild>
          <Button variant="primary" disabled={loading || !allowed} aria-describedby={!loading && !allowed ? "switchover-why" : undefined} className="px-4 py-2 text-base">
            <Icon name="swap" className="size-5" /> Switchover…
          </Button>
        </Dialog.Trigger>
        {open && <SwitchoverDialogBody pair={pair} operations={operations} onClose={() => setOpen(false)} />}
      </Dialog.Root>
      {!loading && !allowed && (
        <p id="switchover-why" className="text-xs text-muted" data-testid="switchover-disabled-reason">
          Your role ({me?.role ?? "none"}) can only view. Switchover needs an operator or admin.
        </p>
      )}
    </div>
  );
}

function SwitchoverDialogBody({ pair, operations, onClose }: { pair: PairView; operations: OperationView[]; onClose: () => void }) {
  const [phase, setPhase] = useState<Phase>({ kind: "check" });
  const [preflight, setPreflight] = useState<Preflight | null>(null);
  const [pfError, setPfError] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  /** In maintenance the controller acts on nothing by itself; a person switches over on purpose (the server asks for it). */
  const [byHand, setByHand] = useState(false);
  const [busy, setBusy] = useState(false);
  const [submitError, setSubmitError] = useState<{ text: string; conflict: boolean } | null>(null);
  const [own, setOwn] = useState<OperationView | null>(null);
  const { generation } = useLiveState();

  const loadPreflight = useCallback(async () => {
    setPfError(null);
    try {
      setPreflight((await api("GET /api/pairs/:id/preflight", { id: pair.id, query: byHand ? { confirmMaintenance: "true" } : {} })).preflight);
    } catch (e) {
      setPfError(errorText(e));
    }
  }, [pair.id, byHand]);
  useEffect(() => {
    void loadPreflight();
  }, [loadPreflight]);

  // While running: the page's live copy of the operation (every event of the pair, also those that came
  // before the POST's answer), or what the POST and a fetch after every reconnect said, whichever is further.
  // Confirmed, and the POST not answered yet (a slow network): the page's events already show the
  // operation this user started, new since the click. Follow it now; the answer confirms the id.
  const { me } = useMe();
  const knownAtConfirm = useRef<Set<string> | null>(null);
  const started = busy && knownAtConfirm.current ? operations.find((o) => !knownAtConfirm.current!.has(o.id) && o.kind === "manual_switchover" && o.requestedBy === me?.username) : undefined;
  useEffect(() => {
    if (started) setPhase((p) => (p.kind === "check" ? { kind: "running", opId: started.id } : p));
  }, [started]);
  const opId = phase.kind === "running" ? phase.opId : null;
  const live = opId ? operations.find((o) => o.id === opId) : undefined;
  const op = own && live ? laterOp(own, live) : (live ?? own);
  useEffect(() => {
    if (!opId) return;
    api("GET /api/operations/:id", { id: opId })
      .then(({ operation }) => setOwn((prev) => laterOp(prev, operation)))
      .catch(() => undefined);
  }, [opId, generation]);

  async function confirm() {
    knownAtConfirm.current = new Set(operations.map((o) => o.id));
    setBusy(true);
    setSubmitError(null);
    try {
      const body = { ...(reason.trim() ? { reason: reason.trim() } : {}), ...(preflight?.target ? { toServerId: preflight.target.id } : {}), ...(byHand ? { confirmMaintenance: true } : {}) };
      const { operation: res } = await api("POST /api/pairs/:id/switchover", { id: pair.id, body });
      setOwn(res);
      setPhase({ kind: "running", opId: res.id });
      knownAtConfirm.current = null;
    } catch (e) {
      const conflict = e instanceof ApiError && e.status === 409;
      setSubmitError({
        conflict,
        text: conflict ? `Switchover refused: ${e.message}` : errorText(e),
      });
      if (conflict) void loadPreflight();
    } finally {
      setBusy(false);
    }
  }

  const target = preflight?.target;
  const from = target ? pair.servers.find((s) => s.id !== target.id) : undefined; // the direction, fixed when the dialog opened
  const label = target ? `Make ${target.name} primary` : "Switch over";
  const done = op && (op.status === "succeeded" || op.status === "failed");

  const hostNo = (host: string | undefined) => {
    const n = pair.servers.findIndex((s) => s.hostName === host) + 1;
    return n ? `Host ${n} (${host})` : host;
  };

  // A header, a body that scrolls, and a footer that stays in view: on a phone the confirm button is
  // always on screen, however long the checklist.
  return (
    <Dialog.Portal>
      <Dialog.Overlay className="fixed inset-0 z-40 bg-black/60" />
      <Dialog.Content
        data-testid="switchover-dialog"
        className="fixed left-1/2 top-1/2 z-50 flex max-h-[calc(100dvh-1.5rem)] w-[min(720px,calc(100vw-1.5rem))] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-line bg-surface shadow-2xl"
        onInteractOutside={(e) => phase.kind === "running" && !done && e.preventDefault()}
      >
        <div className="flex items-start justify-between gap-4 border-b border-line px-5 py-4">
          <div>
            <Dialog.Title className="text-lg font-bold">Switchover of {pair.name}</Dialog.Title>
            <Dialog.Description className="text-sm text-muted">
              {target
                ? `${from ? `${from.name} on ${hostNo(from.hostName)} goes to backup, and its VIP is disabled there; ` : ""}${target.name} on ${hostNo(target.hostName)} becomes primary and enables VIP ${pair.vip.address}.`
                : "Checking whether the pair can switch over…"}
            </Dialog.Description>
          </div>
          <Dialog.Close asChild>
            <Button variant="ghost" aria-label="Close">✕</Button>
          </Dialog.Close>
        </div>

        <div className="flex min-h-0 flex-1 flex-col gap-4 overflow-y-auto px-5 py-4" data-testid="switchover-body">
          {phase.kind === "check" && (
            <>
              <section aria-labelledby="preflight-title">
                <h3 id="preflight-title" className="mb-2 text-sm font-bold uppercase tracking-wide text-muted">Preflight checks</h3>
                {pfError && <ErrorNote>Could not run the preflight checks: {pfError}</ErrorNote>}
                {!preflight && !pfError && <p className="text-sm text-muted">Running checks…</p>}
                {preflight && <PreflightChecklist checks={preflight.checks} />}
                {preflight && !preflight.ok && (
                  <p className="mt-2 text-sm font-semibold text-bad">The switchover cannot run until the failed checks pass.</p>
                )}
                {pair.maintenance && (
                  <label className="mt-2 flex items-start gap-2 rounded-md border border-warn/60 bg-warn-bg px-3 py-2 text-sm text-warn" data-testid="switchover-by-hand">
                    <input type="checkbox" className="mt-0.5" checked={byHand} onChange={(e) => setByHand(e.target.checked)} />
                    <span>The pair is in maintenance (no automatic action): switch it over by hand anyway.</span>
                  </label>
                )}
              </section>
              <div className="flex flex-col gap-1">
                <label htmlFor="switchover-reason" className="text-sm font-semibold">
                  Reason <span className="font-normal text-muted">(optional, written to the audit history)</span>
                </label>
                <textarea id="switchover-reason" rows={2} maxLength={500} className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. patching host 1" />
              </div>
              {submitError && (
                <div role="alert" data-testid="switchover-error" className={`rounded-md border px-3 py-2 text-sm ${submitError.conflict ? "border-warn/60 bg-warn-bg text-warn" : "border-bad/50 bg-bad-bg text-bad"}`}>
                  <span className="font-bold">⚠ {submitError.text}</span>
                </div>
              )}
            </>
          )}
          {phase.kind === "running" && (op ? <OperationTimeline op={op} pair={pair} /> : <p className="text-sm text-muted">Starting…</p>)}
        </div>

        <div className="flex flex-wrap justify-end gap-2 border-t border-line px-5 py-3" data-testid="switchover-footer">
          {phase.kind === "check" ? (
            <>
              <Dialog.Close asChild>
                <Button>Cancel</Button>
              </Dialog.Close>
              <Button variant="primary" disabled={busy || !preflight?.ok || !target} onClick={confirm} className="px-4 py-2 text-base">
                {busy ? "Starting…" : label}
              </Button>
            </>
          ) : (
            <Button variant={done ? "primary" : "secondary"} onClick={onClose}>
              {done ? "Close" : "Hide (keeps running)"}
            </Button>
          )}
        </div>
      </Dialog.Content>
    </Dialog.Portal>
  );
}
