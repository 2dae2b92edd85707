/**
 * The controller's preflight checks as a list: an icon and a word per check (passed / failed), the
 * detail under it; failed checks first. Shared by the override dialog (SwitchoverDialog can use it too).
 */
import type { Preflight } from "@/lib/views";
import { Icon } from "../status";

export function PreflightChecklist({ checks }: { checks: Preflight["checks"] }) {
  const sorted = [...checks].sort((a, b) => Number(a.ok) - Number(b.ok));
  return (
    <ul className="flex flex-col gap-1.5" data-testid="preflight">
      {sorted.map((c) => (
        <li key={c.id} data-ok={String(c.ok)} data-check={c.id} className={`flex items-start gap-2 rounded-md border px-3 py-1.5 text-sm ${c.ok ? "border-line" : "border-bad/50 bg-bad-bg"}`}>
          <span className={c.ok ? "text-ok" : "text-bad"}>
            <Icon name={c.ok ? "check" : "x"} className="mt-0.5 size-4" />
          </span>
          <span className="min-w-0 break-words">
            <span className="font-semibold">{c.label}</span>
            <span className={`ml-1 text-xs font-bold uppercase ${c.ok ? "text-ok" : "text-bad"}`}>{c.ok ? "passed" : "failed"}</span>
            {c.detail && <span className="block text-muted">{c.detail}</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}
