"use client";
import { useEffect, useState } from "react";
import { localTime, utcTitle, ago } from "./format";

/**
 * A time in the browser's zone; hovering shows the exact UTC time (a relative time: the exact local time,
 * then UTC). Rendered after mount so the server (another zone) never disagrees with the browser.
 */
export function Time({ iso, relative = false, withDate = true, className }: { iso: string | null | undefined; relative?: boolean; withDate?: boolean; className?: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    if (!relative) return;
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, [relative]);
  if (!iso) return <span className={className}>—</span>;
  return (
    <time dateTime={iso} title={relative && now !== null ? `${localTime(iso, true)} (${utcTitle(iso)})` : utcTitle(iso)} className={className}>
      {now === null ? "…" : relative ? ago(iso, now) : localTime(iso, withDate)}
    </time>
  );
}
