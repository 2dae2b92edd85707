/**
 * Inline SVG charts (no chart library): switchover/failover durations over time for a pair, and the
 * per-step durations of its last operations. Shapes and labels carry the meaning, not colour alone.
 */
import type { OperationView } from "@/lib/views";
import { clockTime, duration, exactTime, operationKind, operationShort, stepLabel } from "./format";

const STEP_COLORS: Record<string, string> = {
  demote: "var(--warn)",
  vip_disable: "var(--idle)",
  promote: "var(--ok)",
  vip_enable: "var(--accent)",
  verify: "var(--info)",
};
const FALLBACK = ["var(--bad)", "var(--muted)", "var(--fg)"];

function opDuration(o: OperationView): number | null {
  if (!o.startedAt || !o.finishedAt) return null;
  return Math.max(0, new Date(o.finishedAt).getTime() - new Date(o.startedAt).getTime());
}

function niceMax(v: number): number {
  if (v <= 0) return 1000;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function DurationChart({ ops }: { ops: OperationView[] }) {
  const points = ops
    .filter((o) => o.kind !== "restart")
    .map((o) => ({ o, d: opDuration(o), t: new Date(o.startedAt ?? o.createdAt).getTime() }))
    .filter((p): p is { o: OperationView; d: number; t: number } => p.d !== null)
    .sort((a, b) => a.t - b.t);
  if (points.length === 0) return <p className="text-sm text-muted">No finished switchover or failover yet.</p>;
  const W = 560;
  const H = 200;
  const L = 56;
  const B = 28;
  const T = 10;
  const R = 12;
  const maxD = niceMax(Math.max(...points.map((p) => p.d)));
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => (points.length === 1 ? L + (W - L - R) / 2 : L + ((t - t0) / span) * (W - L - R));
  const y = (d: number) => T + (1 - d / maxD) * (H - T - B);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxD);
  const manual = points.filter((p) => p.o.kind === "manual_switchover");
  const line = (list: typeof points) => list.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.d).toFixed(1)}`).join(" ");
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-label={`Durations of the last ${points.length} switchovers and failovers, from ${duration(Math.min(...points.map((p) => p.d)))} to ${duration(Math.max(...points.map((p) => p.d)))}`} data-testid="duration-chart">
        {ticks.map((v) => (
          <g key={v}>
            <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} stroke="var(--line)" strokeWidth={1} />
            <text x={L - 6} y={y(v) + 4} textAnchor="end" fontSize={11} fill="var(--muted)">{duration(v)}</text>
          </g>
        ))}
        <text x={L} y={H - 8} fontSize={11} fill="var(--muted)">{clockTime(new Date(t0).toISOString())}</text>
        {points.length > 1 && <text x={W - R} y={H - 8} fontSize={11} textAnchor="end" fill="var(--muted)">{clockTime(new Date(t1).toISOString())}</text>}
        {manual.length > 1 && <path d={line(manual)} fill="none" stroke="var(--accent)" strokeWidth={1.5} strokeOpacity={0.5} />}
        {points.map((p) => {
          const cx = x(p.t);
          const cy = y(p.d);
          const failed = p.o.status === "failed";
          const label = `${operationKind(p.o.kind)} ${p.o.status} in ${duration(p.d)} at ${exactTime(p.o.startedAt)}`;
          return (
            <g key={p.o.id}>
              <title>{label}</title>
              {failed ? (
                <path d={`M${cx - 5},${cy - 5}l10,10M${cx + 5},${cy - 5}l-10,10`} stroke="var(--bad)" strokeWidth={2.5} />
              ) : p.o.kind === "manual_switchover" ? (
                <circle cx={cx} cy={cy} r={5} fill="var(--accent)" />
              ) : (
                <path d={`M${cx},${cy - 6}l6,10h-12z`} fill="var(--warn)" />
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-4 text-xs text-muted">
        <span><svg viewBox="0 0 10 10" className="inline size-2.5" aria-hidden><circle cx="5" cy="5" r="4.5" fill="var(--accent)" /></svg> manual switchover</span>
        <span><svg viewBox="0 0 10 10" className="inline size-2.5" aria-hidden><path d="M5 0l5 9H0z" fill="var(--warn)" /></svg> failover</span>
        <span><svg viewBox="0 0 10 10" className="inline size-2.5" aria-hidden><path d="M1 1l8 8M9 1l-8 8" stroke="var(--bad)" strokeWidth="2" /></svg> failed</span>
      </figcaption>
    </figure>
  );
}

export function StepDurationsChart({ ops }: { ops: OperationView[] }) {
  const rows = ops.filter((o) => o.steps.some((s) => s.durationMs != null)).slice(0, 8);
  if (rows.length === 0) return <p className="text-sm text-muted">No step timings recorded yet.</p>;
  const actions = [...new Set(rows.flatMap((o) => o.steps.map((s) => s.action)))];
  const color = (a: string) => STEP_COLORS[a] ?? FALLBACK[actions.indexOf(a) % FALLBACK.length];
  const totals = rows.map((o) => o.steps.reduce((n, s) => n + (s.durationMs ?? 0), 0));
  const maxT = niceMax(Math.max(...totals));
  const W = 560;
  const L = 150;
  const R = 64;
  const rowH = 24;
  const H = rows.length * rowH + 24;
  const sx = (d: number) => (d / maxT) * (W - L - R);
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-label={`Step durations of the last ${rows.length} operations`} data-testid="step-chart">
        {rows.map((o, i) => {
          let acc = 0;
          const yy = i * rowH + 4;
          return (
            <g key={o.id}>
              <text x={L - 6} y={yy + 14} textAnchor="end" fontSize={11} fill="var(--muted)">
                <title>{`${operationKind(o.kind)}, ${exactTime(o.startedAt ?? o.createdAt)}`}</title>
                {clockTime(o.startedAt ?? o.createdAt)} {operationShort(o.kind)}
              </text>
              {o.steps.map((s) => {
                const w = sx(s.durationMs ?? 0);
                const x0 = L + sx(acc);
                acc += s.durationMs ?? 0;
                return (
                  <g key={s.id}>
                    <title>{`${stepLabel(s.action)} (${s.target}): ${duration(s.durationMs)} ${s.status}`}</title>
                    <rect x={x0} y={yy} width={Math.max(w, 1)} height={rowH - 8} fill={color(s.action)} stroke="var(--surface)" strokeWidth={1} opacity={s.status === "failed" ? 0.5 : 1} />
                    {s.status === "failed" && <text x={x0 + 2} y={yy + 12} fontSize={10} fill="var(--bad)" fontWeight={700}>✕</text>}
                  </g>
                );
              })}
              <text x={L + sx(totals[i]) + 4} y={yy + 13} fontSize={11} fill="var(--fg)">{duration(totals[i])}</text>
            </g>
          );
        })}
        <text x={W - R} y={H - 4} textAnchor="end" fontSize={10} fill="var(--muted)">scale: {duration(maxT)}</text>
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-3 text-xs text-muted">
        {actions.map((a, i) => (
          <span key={a} className="inline-flex items-center gap-1">
            <span className="inline-block size-2.5 rounded-sm" style={{ background: color(a) }} aria-hidden />
            {i + 1}. {stepLabel(a)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
