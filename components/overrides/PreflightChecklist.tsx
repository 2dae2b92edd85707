/**
 * The controller's preflight checks: failed ones first, each with an icon, a word (failed) and its detail;
 * the passed ones folded under "N checks passed" (open it to read them). Shared by the override dialog
 * and the switchover dialog.
 */
import type { Preflight } from "@/lib/views";
import { Icon } from "../status";

function Check({ c }: { c: Preflight["checks"][number] }) {
  return (
    <li data-ok={String(c.ok)} data-check={c.id} className={`flex items-start gap-2 rounded-md border px-3 py-1.5 text-sm ${c.ok ? "border-line" : "border-bad/50 bg-bad-bg"}`}>
      <span className={c.ok ? "text-ok" : "text-bad"}>
        <Icon name={c.ok ? "check" : "x"} className="mt-0.5 size-4" />
      </span>
      <span className="min-w-0 break-words">
        <span className="font-semibold">{c.label}</span>
        <span className={`ml-1 text-xs font-bold uppercase ${c.ok ? "text-ok" : "text-bad"}`}>{c.ok ? "passed" : "failed"}</span>
        {c.detail && <span className="block text-muted">{c.detail}</span>}
      </span>
    </li>
  );
}

export function PreflightChecklist({ checks }: { checks: Preflight["checks"] }) {
  const failed = checks.filter((c) => !c.ok);
  const passed = checks.filter((c) => c.ok);
  return (
    <div className="flex flex-col gap-1.5" data-testid="preflight" data-failed={failed.length}>
      {failed.length > 0 && (
        <ul className="flex flex-col gap-1.5">
          {failed.map((c) => (
            <Check key={c.id} c={c} />
          ))}
        </ul>
      )}
      {passed.length > 0 && (
        <details className="group rounded-md border border-line">
          <summary className="flex cursor-pointer select-none items-center gap-2 px-3 py-1.5 text-sm">
            <span className="text-ok">
              <Icon name="check" className="size-4" />
            </span>
            <span className="font-semibold">{failed.length ? `${passed.length} other check${passed.length === 1 ? "" : "s"} passed` : `All ${passed.length} checks passed`}</span>
            <span className="ml-auto text-xs text-muted group-open:hidden">show</span>
            <span className="ml-auto hidden text-xs text-muted group-open:inline">hide</span>
          </summary>
          <ul className="flex flex-col gap-1.5 border-t border-line p-2">
            {passed.map((c) => (
              <Check key={c.id} c={c} />
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
