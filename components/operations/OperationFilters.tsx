"use client";
/** The filter form of the Operations page: applied to the URL, which the list reads. */
import { useEffect, useState } from "react";
import { OPERATION_KIND_NAMES, operationKindLabel } from "@/lib/operation-kinds";
import type { PairDto } from "@/lib/views";
import { isoToLocalInput, localInputToIso } from "../format";
import { Button, inputClass } from "../ui";
import type { Filters } from "./filters";

const STATUSES = ["succeeded", "failed", "running", "pending"] as const;

function Labelled({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <label htmlFor={id} className="text-xs font-semibold uppercase text-muted">{label}</label>
      {children}
    </div>
  );
}

export function OperationFilters({ filters, pairs, onApply, onClear }: { filters: Filters; pairs: PairDto[]; onApply(f: Filters): void; onClear(): void }) {
  const [draft, setDraft] = useState<Filters>(filters);
  useEffect(() => setDraft(filters), [filters]);
  // Narrow screens: the form folds behind a button (open while a filter is set).
  const active = Object.values(filters).filter(Boolean).length;
  const [open, setOpen] = useState(() => active > 0);
  const set = (k: keyof Filters) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft({ ...draft, [k]: e.target.value });
  return (
    <>
      <button
        type="button"
        onClick={() => setOpen(!open)}
        aria-expanded={open}
        aria-controls="operation-filters"
        className="self-start rounded-md border border-line px-3 py-1.5 text-sm font-semibold hover:bg-surface-2 md:hidden"
      >
        Filters{active ? ` (${active} set)` : ""} {open ? "▴" : "▾"}
      </button>
      <form
        id="operation-filters"
        onSubmit={(e) => {
          e.preventDefault();
          onApply(draft);
        }}
        className={`${open ? "grid" : "hidden"} grid-cols-2 gap-3 rounded-lg border border-line bg-surface p-3 md:grid md:grid-cols-4 xl:grid-cols-8`}
        aria-label="Filters"
      >
        <Labelled id="of-pair" label="Pair">
          <select id="of-pair" className={inputClass} value={draft.pair} onChange={set("pair")}>
            <option value="">All pairs</option>
            {pairs.map((p) => (
              <option key={p.id} value={p.id}>{p.name}</option>
            ))}
            {draft.pair && !pairs.some((p) => p.id === draft.pair) && <option value={draft.pair}>{draft.pair}</option>}
          </select>
        </Labelled>
        <Labelled id="of-kind" label="Kind">
          <select id="of-kind" className={inputClass} value={draft.kind} onChange={set("kind")}>
            <option value="">Any kind</option>
            <option value="failover,disconnect_failover">Failovers (both kinds)</option>
            {OPERATION_KIND_NAMES.map((k) => (
              <option key={k} value={k}>{operationKindLabel(k)}</option>
            ))}
            {draft.kind && draft.kind !== "failover,disconnect_failover" && !(OPERATION_KIND_NAMES as string[]).includes(draft.kind) && <option value={draft.kind}>{draft.kind}</option>}
          </select>
        </Labelled>
        <Labelled id="of-status" label="Result">
          <select id="of-status" className={inputClass} value={draft.status} onChange={set("status")}>
            <option value="">Any result</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </Labelled>
        <Labelled id="of-by" label="Requested by">
          <input id="of-by" className={inputClass} value={draft.by} onChange={set("by")} placeholder="controller, alice, token:ci" maxLength={128} />
        </Labelled>
        <Labelled id="of-from" label="From">
          <input id="of-from" type="datetime-local" className={inputClass} value={isoToLocalInput(draft.from)} onChange={(e) => setDraft({ ...draft, from: localInputToIso(e.target.value) })} />
        </Labelled>
        <Labelled id="of-to" label="To">
          <input id="of-to" type="datetime-local" className={inputClass} value={isoToLocalInput(draft.to)} onChange={(e) => setDraft({ ...draft, to: localInputToIso(e.target.value) })} />
        </Labelled>
        <Labelled id="of-q" label="Search">
          <input id="of-q" type="search" className={inputClass} value={draft.q} onChange={set("q")} placeholder="reason, error, server…" maxLength={200} />
        </Labelled>
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">Apply</Button>
          <Button onClick={onClear}>Clear</Button>
        </div>
      </form>
    </>
  );
}
