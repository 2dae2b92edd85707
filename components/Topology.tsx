"use client";
/**
 * The pair drawn like the source document's "HA Configuration with One NIC" figure: Host 1 and Host 2,
 * each running its SIP Server (mode badge), the Virtual IP on each host's NIC (enabled on one, disabled
 * on the other), the agent links up to the controller, and a cut-off host drawn disconnected.
 * Every state is written in words as well as drawn.
 *
 * Two layouts of the same figure: side by side (the document's), and stacked when the figure has less
 * than WIDE_MIN px, so that its text never shrinks below about 12 px (a phone shows the stacked one at
 * nearly 1:1 scale).
 */
import { useEffect, useRef, useState } from "react";
import type { HostView, PairView, ServerView } from "@/lib/views";

/** Below this width (CSS px) the side-by-side figure would scale its 12 px text under 10 px. */
const WIDE_MIN = 700;

function modeStyle(mode: string) {
  if (mode === "primary") return { box: "fill-ok-bg stroke-ok", text: "fill-ok", label: "▲ PRIMARY" };
  if (mode === "backup") return { box: "fill-idle-bg stroke-idle", text: "fill-idle", label: "▼ BACKUP" };
  return { box: "fill-warn-bg stroke-warn", text: "fill-warn", label: "? MODE UNKNOWN" };
}

/** Where a host sits and how its agent link runs to the controller. */
interface Geometry {
  x: number;
  y: number;
  w: number;
  /** The agent link, from the controller to the host. */
  link: string;
  /** Where the "link lost" mark and the link's words go. */
  mark: { x: number; y: number; anchor: "start" | "end"; dx: number };
  /** The line down from the NIC to the network, if drawn. */
  networkY: number | null;
  compact: boolean;
}

function HostBlock({ s, index, g, pair, host }: { s: ServerView; index: 1 | 2; g: Geometry; pair: PairView; host?: HostView | null }) {
  const cut = !s.agentConnected;
  const m = modeStyle(s.mode);
  const vipOn = s.vip === "enabled";
  const vipUnknown = s.vip === "unknown";
  const { x: hx, y: hy, w: hw, compact } = g;
  const srvH = compact ? 70 : 78;
  const nicY = hy + (compact ? 120 : 150);
  const processBad = s.processState !== "running";
  const rtt = host?.rttMs != null ? ` · ${Math.round(host.rttMs)} ms` : "";
  return (
    <g data-testid={`topology-host-${index}`} data-connected={String(s.agentConnected)} data-mode={s.mode} data-vip={s.vip}>
      {/* Agent link to the controller */}
      <path d={g.link} fill="none" className={cut ? "stroke-bad" : "stroke-ok"} strokeWidth={cut ? 2 : 2.5} strokeDasharray={cut ? "6 6" : undefined} />
      {cut ? (
        <g>
          <circle cx={g.mark.x} cy={g.mark.y} r={11} className="fill-bad-bg stroke-bad" strokeWidth={2} />
          <path d={`M${g.mark.x - 5} ${g.mark.y - 5}l10 10M${g.mark.x + 5} ${g.mark.y - 5}l-10 10`} className="stroke-bad" strokeWidth={2.2} />
          {!compact && (
            <text x={g.mark.x + g.mark.dx} y={g.mark.y + 4} textAnchor={g.mark.anchor} className="fill-bad text-[12px] font-bold">
              agent link lost
            </text>
          )}
        </g>
      ) : (
        !compact && (
          <text x={g.mark.x + g.mark.dx} y={g.mark.y + 4} textAnchor={g.mark.anchor} className="fill-muted text-[12px]">
            agent link{rtt}
          </text>
        )
      )}

      {/* Host */}
      <rect x={hx} y={hy} width={hw} height={compact ? 172 : 210} rx={10} className={cut ? "fill-surface stroke-bad" : "fill-surface-2 stroke-line"} strokeWidth={2} strokeDasharray={cut ? "8 5" : undefined} opacity={cut ? 0.85 : 1} />
      <text x={hx + 14} y={hy + 24} className="fill-fg text-[15px] font-bold">
        Host {index}
        <tspan className="fill-muted font-normal"> · {s.hostName}</tspan>
      </text>
      <text x={hx + hw - 14} y={hy + 24} textAnchor="end" className={`${cut ? "fill-bad" : "fill-ok"} text-[12px] font-semibold`}>
        {cut ? (compact ? "✕ LINK LOST" : "✕ DISCONNECTED") : compact ? `● linked${rtt}` : "● connected"}
      </text>
      {cut && compact && (
        <text x={hx + hw - 14} y={hy + 40} textAnchor="end" className="fill-bad text-[12px] font-bold">
          DISCONNECTED
        </text>
      )}

      {/* SIP Server */}
      <rect x={hx + (compact ? 12 : 20)} y={hy + (compact ? 44 : 40)} width={hw - (compact ? 24 : 40)} height={srvH} rx={8} className={m.box} strokeWidth={2} />
      <text x={hx + (compact ? 24 : 34)} y={hy + (compact ? 66 : 64)} className="fill-fg text-[14px] font-bold">
        SIP Server {index}
        <tspan className="fill-muted font-normal"> · {s.name}</tspan>
      </text>
      <text x={hx + (compact ? 24 : 34)} y={hy + (compact ? 87 : 88)} className={`${m.text} text-[13px] font-bold`}>
        {m.label}
        {compact && <tspan className="fill-muted text-[12px] font-normal">{s.configuredRole === "primary" ? " · configured primary" : " · configured backup"}</tspan>}
      </text>
      <text x={hx + (compact ? 24 : 34)} y={hy + (compact ? 105 : 107)} className={`${processBad ? "fill-bad font-bold" : "fill-muted"} text-[12px]`}>
        process {s.processState}
        {s.pid ? ` · pid ${s.pid}` : ""}
        {!compact && (s.configuredRole === "primary" ? " · configured primary" : " · configured backup")}
      </text>

      {/* Connector from server to NIC */}
      <line x1={hx + hw / 2} y1={hy + (compact ? 44 : 40) + srvH} x2={hx + hw / 2} y2={nicY} className="stroke-line" strokeWidth={2} />

      {/* NIC with the Virtual IP */}
      <rect
        x={hx + (compact ? 20 : 40)}
        y={nicY}
        width={hw - (compact ? 40 : 80)}
        height={40}
        rx={20}
        className={vipOn ? "fill-ok-bg stroke-ok" : vipUnknown ? "fill-warn-bg stroke-warn" : "fill-surface stroke-idle"}
        strokeWidth={vipOn ? 2.5 : 1.5}
        strokeDasharray={vipOn ? undefined : "5 4"}
      />
      <text x={hx + hw / 2} y={nicY + 25} textAnchor="middle" className={`${vipOn ? "fill-ok font-bold" : vipUnknown ? "fill-warn font-bold" : "fill-muted"} text-[13px]`}>
        {vipOn ? "● " : vipUnknown ? "? " : "○ "}
        VIP {pair.vip.address} {vipOn ? "ENABLED" : vipUnknown ? "UNKNOWN" : "disabled"}
      </text>
      {/* Down to the network */}
      {g.networkY != null && <line x1={hx + hw / 2} y1={nicY + 40} x2={hx + hw / 2} y2={g.networkY} className="stroke-line" strokeWidth={2} />}
    </g>
  );
}

/** The figure's width in CSS px, measured (null before the first measurement: the wide layout). */
function useWidth<T extends Element>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState<number | null>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => setWidth(e.contentRect.width));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

export function Topology({ pair, hosts }: { pair: PairView; hosts?: Map<string, HostView> }) {
  const [s1, s2] = pair.servers;
  const [ref, width] = useWidth<HTMLElement>();
  const compact = width != null && width < WIDE_MIN;
  const summary =
    `Topology of ${pair.name}. ` +
    pair.servers
      .map(
        (s, i) =>
          `Host ${i + 1} ${s.hostName}: agent ${s.agentConnected ? "connected" : "disconnected"}; SIP Server ${i + 1} ${s.name} ${s.mode}, process ${s.processState}; VIP ${s.vip}.`,
      )
      .join(" ");
  const holder = pair.vipHolder === "both" ? "BOTH HOSTS (conflict)" : (pair.vipHolder ?? "nobody");

  if (compact) {
    // Stacked: the controller on top, a lane per agent link on the left, Host 1 then Host 2.
    const W = 340;
    const hx = 46;
    const hw = W - hx - 4;
    const y1 = 74;
    const y2 = y1 + 172 + 22;
    const H = y2 + 172 + 52;
    const lane = (lx: number, hy: number): Geometry => ({
      x: hx,
      y: hy,
      w: hw,
      link: `M${lx} 56 V${hy + 20} H${hx}`,
      mark: { x: lx, y: hy + 20, anchor: "start", dx: 0 },
      networkY: null,
      compact: true,
    });
    return (
      <figure ref={ref} className="w-full" data-layout="stacked">
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} className="h-auto w-full select-none" data-testid="topology">
          <title>{summary}</title>
          <rect x={4} y={8} width={W - 8} height={48} rx={8} className="fill-info-bg stroke-info" strokeWidth={2} />
          <text x={W / 2} y={30} textAnchor="middle" className="fill-fg text-[14px] font-bold">Switchyard controller</text>
          <text x={W / 2} y={47} textAnchor="middle" className="fill-muted text-[12px]">replaces SCS + LCA links</text>
          <HostBlock s={s1} index={1} g={lane(30, y1)} pair={pair} host={hosts?.get(s1.hostId)} />
          <HostBlock s={s2} index={2} g={lane(14, y2)} pair={pair} host={hosts?.get(s2.hostId)} />
          <text x={W / 2} y={H - 28} textAnchor="middle" className="fill-muted text-[12px]">network · {pair.vip.interface} · VIP {pair.vip.address}/{pair.vip.prefix}</text>
          <text x={W / 2} y={H - 10} textAnchor="middle" className={`${pair.vipHolder && pair.vipHolder !== "both" ? "fill-fg" : "fill-bad"} text-[13px] font-semibold`}>
            held by {holder}
          </text>
        </svg>
      </figure>
    );
  }

  const W = 860;
  const H = 420;
  const side = (x: number, index: 1 | 2): Geometry => {
    const hy = 150;
    const linkX = x + 180;
    const midX = (W / 2 + linkX) / 2;
    const midY = (62 + hy) / 2;
    return {
      x,
      y: hy,
      w: 360,
      link: `M${W / 2} 62 L${linkX} ${hy}`,
      mark: { x: midX, y: midY, anchor: index === 1 ? "end" : "start", dx: index === 1 ? -18 : 18 },
      networkY: H - 30,
      compact: false,
    };
  };
  return (
    <figure ref={ref} className="w-full" data-layout="wide">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} className="h-auto w-full max-w-[980px] select-none" data-testid="topology">
        <title>{summary}</title>
        {/* Controller */}
        <rect x={W / 2 - 130} y={12} width={260} height={50} rx={8} className="fill-info-bg stroke-info" strokeWidth={2} />
        <text x={W / 2} y={34} textAnchor="middle" className="fill-fg text-[14px] font-bold">
          Switchyard controller
        </text>
        <text x={W / 2} y={52} textAnchor="middle" className="fill-muted text-[12px]">
          replaces SCS + LCA links
        </text>

        <HostBlock s={s1} index={1} g={side(40, 1)} pair={pair} host={hosts?.get(s1.hostId)} />
        <HostBlock s={s2} index={2} g={side(W - 40 - 360, 2)} pair={pair} host={hosts?.get(s2.hostId)} />

        {/* The shared network (one NIC per host) */}
        <line x1={30} y1={H - 30} x2={W - 30} y2={H - 30} className="stroke-muted" strokeWidth={3} />
        <text x={W / 2} y={H - 10} textAnchor="middle" className="fill-muted text-[12px]">
          network · {pair.vip.interface} · VIP {pair.vip.address}/{pair.vip.prefix} held by {holder}
        </text>
      </svg>
    </figure>
  );
}
