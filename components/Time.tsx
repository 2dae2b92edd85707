"use client";
import { useEffect, useState } from "react";
import { ago, exactTime } from "./format";

/**
 * The one way the panel shows a time: relative ("3 min ago", kept current), in a <time> element whose
 * title is the exact local time (and UTC). Rendered after mount so the server (another zone, another
 * moment) never disagrees with the browser.
 */
export function Time({ iso, className }: { iso: string | null | undefined; className?: string }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  if (!iso) return <span className={className}>—</span>;
  return (
    <time dateTime={iso} title={exactTime(iso)} className={className}>
      {now === null ? "…" : ago(iso, now)}
    </time>
  );
}
