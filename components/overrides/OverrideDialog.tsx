"use client";
/**
 * The confirmation of one manual action (a switchover or an override: start, stop, graceful stop, restart,
 * promote, clear the hold-down). It loads the controller's preflight for exactly that request and shows
 * what will happen (the effect sentence), the checks (failed ones first), a reason, the maintenance
 * confirmation when the pair is in maintenance, and a confirm button naming the action, enabled once every
 * check passes. After the 202: the operation's live step timeline; a refusal (409) in words.
 * Render it inside a Radix `Dialog.Root` (ServerActions and PairActions do).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { Dialog } from "radix-ui";
import type { OperationView, PairView, Preflight } from "@/lib/views";
import { api, ApiError, errorText } from "../api";
import { laterOp, OperationTimeline } from "../OperationTimeline";
import { useLive, useLiveState } from "../socket";
import { Button, ErrorNote, inputClass } from "../ui";
import { PreflightChecklist } from "./PreflightChecklist";
import { confirmLabel, inMaintenance, requestBody, requestParams, serverOf, titleOf, type Mode, type OverrideRequest } from "./requests";

/** Operations after which their `toServerId` is primary: the timeline's success line may say so. */
const MAKES_PRIMARY = new Set(["manual_switchover", "promote"]);

export function OverrideDialog({ pair, request: initial, onClose }: { pair: PairView; request: OverrideRequest; onClose: () => void }) {
  const [req, setReq] = useState<OverrideRequest>(initial);
  const [confirmMaint, setConfirmMaint] = useState(false);
  const [preflight, setPreflight] = useState<Preflight | null>(null);
  const [pfError, setPfError] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [submitError, setSubmitError] = useState<{ text: string; conflict: boolean } | null>(null);
  const [op, setOp] = useState<OperationView | null>(null);
  const opIdRef = useRef<string | null>(null);
  const { generation } = useLiveState();
  const server = serverOf(pair, req);
  const maintenance = inMaintenance(pair) || !!preflight?.checks.some((c) => c.id === "not_maintenance" && (!c.ok || confirmMaint));

  const loadPreflight = useCallback(
    async (signal?: AbortSignal) => {
      setPfError(null);
      try {
        const query = { ...requestParams(req), ...(confirmMaint ? { confirmMaintenance: "true" } : {}) };
        const { preflight } = await api("GET /api/pairs/:id/preflight", { id: pair.id, query, signal });
        setPreflight(preflight);
      } catch (e) {
        if ((e as Error)?.name !== "AbortError") setPfError(errorText(e));
      }
    },
    [pair.id, req, confirmMaint],
  );
  useEffect(() => {
    const ac = new AbortController();
    setPreflight(null);
    void loadPreflight(ac.signal);
    return () => ac.abort();
  }, [loadPreflight]);

  // The operation, from live events (room `pairs`), refetched after every reconnect.
  useLive("operation:update", (o) => {
    if (o.id === opIdRef.current) setOp((prev) => laterOp(prev, o));
  });
  useEffect(() => {
    if (!op?.id) return;
    api("GET /api/operations/:id", { id: op.id })
      .then(({ operation }) => setOp((prev) => laterOp(prev, operation)))
      .catch(() => undefined);
    // Only when the operation starts and after a reconnect.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [op?.id, generation]);

  async function confirm() {
    setBusy(true);
    setSubmitError(null);
    try {
      const body = { ...requestBody(req, reason, confirmMaint), ...(req.kind === "manual_switchover" && preflight?.target ? { toServerId: preflight.target.id } : {}) };
      const { operation } = await api("POST /api/pairs/:id/operations", { id: pair.id, body });
      opIdRef.current = operation.id;
      setOp((prev) => laterOp(prev, operation));
    } catch (e) {
      const conflict = e instanceof ApiError && e.status === 409;
      setSubmitError({ conflict, text: conflict ? `Refused: ${e.message}` : errorText(e) });
      if (conflict) void loadPreflight();
    } finally {
      setBusy(false);
    }
  }

  const done = op && (op.status === "succeeded" || op.status === "failed");
  const label = confirmLabel(pair, req, preflight?.target);
  const modeChoice = req.kind === "app_start" || req.kind === "app_restart";
  const danger = req.kind === "app_stop" && !req.graceful;

  return (
    <Dialog.Portal>
      <Dialog.Overlay className="fixed inset-0 z-40 bg-black/60" />
      <Dialog.Content
        data-testid="override-dialog"
        data-kind={req.kind}
        className="fixed left-1/2 top-1/2 z-50 flex max-h-[92dvh] w-[min(680px,96vw)] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-line bg-surface shadow-2xl"
        onInteractOutside={(e) => op && !done && e.preventDefault()}
      >
        <div className="flex items-start justify-between gap-3 border-b border-line px-4 py-3 sm:px-5">
          <div className="min-w-0">
            <Dialog.Title className="text-lg font-bold">{titleOf(pair, req)}</Dialog.Title>
            <Dialog.Description className="text-sm text-muted">
              {pair.name} · VIP {pair.vip.address}
            </Dialog.Description>
          </div>
          <Dialog.Close asChild>
            <Button variant="ghost" aria-label="Close">✕</Button>
          </Dialog.Close>
        </div>

        <div className="flex min-h-0 flex-1 flex-col gap-4 overflow-y-auto px-4 py-4 sm:px-5">
          {!op && (
            <>
              <section aria-label="What will happen" data-testid="override-effect" className="rounded-md border border-info/50 bg-info-bg px-3 py-2 text-info">
                <p className="text-xs font-bold uppercase tracking-wide">What will happen</p>
                <p className="text-base font-semibold text-fg">{preflight ? (preflight.effect ?? "The controller cannot say: the pair has not been observed yet.") : "Asking the controller…"}</p>
              </section>

              {modeChoice && server && (
                <fieldset className="flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
                  <legend className="mb-1 font-semibold">{req.kind === "app_start" ? "Start in mode" : "Restart in mode"}</legend>
                  {(["backup", "primary"] as Mode[]).map((m) => (
                    <label key={m} className="flex items-center gap-1.5">
                      <input type="radio" name="override-mode" value={m} checked={req.mode === m} onChange={() => setReq({ ...req, mode: m })} />
                      {m}
                      {req.kind === "app_restart" && server.mode === m && <span className="text-muted">(its mode now)</span>}
                    </label>
                  ))}
                </fieldset>
              )}

              <section aria-labelledby="override-checks-title">
                <h3 id="override-checks-title" className="mb-2 text-sm font-bold uppercase tracking-wide text-muted">Checks</h3>
                {pfError && <ErrorNote>Could not run the checks: {pfError}</ErrorNote>}
                {!preflight && !pfError && <p className="text-sm text-muted">Running checks…</p>}
                {preflight && (
                  <PreflightChecklist checks={preflight.checks} />
                )}
              </section>

              {maintenance && (
                <label className="flex items-start gap-2 rounded-md border border-warn/60 bg-warn-bg px-3 py-2 text-sm text-warn">
                  <input type="checkbox" className="mt-1" checked={confirmMaint} onChange={(e) => setConfirmMaint(e.target.checked)} />
                  <span>
                    <span className="font-bold">The pair is in maintenance: act by hand anyway</span>
                    <span className="block text-fg">The controller takes no automatic action in maintenance; this request runs because you confirm it.</span>
                  </span>
                </label>
              )}

              <div className="flex flex-col gap-1">
                <label htmlFor="override-reason" className="text-sm font-semibold">
                  Reason <span className="font-normal text-muted">(optional, written to the audit history)</span>
                </label>
                <textarea id="override-reason" rows={2} maxLength={500} className={inputClass} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. INC-42: patching host 1" />
              </div>
            </>
          )}
          {op && <OperationTimeline op={op} pair={MAKES_PRIMARY.has(op.kind) || (op.kind === "app_stop" && op.toServerId) ? pair : null} />}
        </div>

        <div className="flex flex-col gap-2 border-t border-line bg-surface px-4 py-3 sm:px-5" data-testid="override-footer">
          {submitError && (
            <div role="alert" data-testid="override-error" className={`rounded-md border px-3 py-2 text-sm font-bold ${submitError.conflict ? "border-warn/60 bg-warn-bg text-warn" : "border-bad/50 bg-bad-bg text-bad"}`}>
              ⚠ {submitError.text}
            </div>
          )}
          {!op && preflight && !preflight.ok && <p className="text-sm font-semibold text-bad">{blockedText(preflight)}</p>}
          <div className="flex flex-wrap justify-end gap-2">
            {op ? (
              <Button variant={done ? "primary" : "secondary"} onClick={onClose}>
                {done ? "Close" : "Hide (keeps running)"}
              </Button>
            ) : (
              <>
                <Dialog.Close asChild>
                  <Button>Cancel</Button>
                </Dialog.Close>
                <Button variant={danger ? "danger" : "primary"} disabled={busy || !preflight?.ok} onClick={confirm} className="px-4 py-2 text-base" data-testid="override-confirm">
                  {busy ? "Starting…" : label}
                </Button>
              </>
            )}
          </div>
        </div>
      </Dialog.Content>
    </Dialog.Portal>
  );
}

/** Why the confirm button is disabled, in one line. */
function blockedText(p: Preflight): string {
  const failed = p.checks.filter((c) => !c.ok);
  if (failed.length === 1 && failed[0].id === "not_maintenance") return "Tick “act by hand anyway” above to go on: the pair is in maintenance.";
  return `${failed.length === 1 ? "One check fails" : `${failed.length} checks fail`}: nothing can start until ${failed.length === 1 ? "it passes" : "they pass"}.`;
}
