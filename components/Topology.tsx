/**
 * The pair drawn like the source document's "HA Configuration with One NIC" figure: Host 1 and Host 2,
 * each running its SIP Server (mode badge), the Virtual IP on each host's NIC (enabled on one, disabled
 * on the other), the agent links up to the controller, and a cut-off host drawn disconnected.
 * Every state is written in words as well as drawn.
 */
import type { HostView, PairView, ServerView } from "@/lib/views";

const W = 860;
const H = 420;

function modeStyle(mode: string) {
  if (mode === "primary") return { box: "fill-ok-bg stroke-ok", text: "fill-ok", label: "▲ PRIMARY" };
  if (mode === "backup") return { box: "fill-idle-bg stroke-idle", text: "fill-idle", label: "▼ BACKUP" };
  return { box: "fill-warn-bg stroke-warn", text: "fill-warn", label: "? MODE UNKNOWN" };
}

function HostBlock({ s, index, x, pair, host }: { s: ServerView; index: 1 | 2; x: number; pair: PairView; host?: HostView | null }) {
  const cut = !s.agentConnected;
  const m = modeStyle(s.mode);
  const vipOn = s.vip === "enabled";
  const vipUnknown = s.vip === "unknown";
  const hx = x;
  const hy = 150;
  const hw = 360;
  const hh = 210;
  const ctrlX = W / 2;
  const linkTopY = 62;
  const linkX = hx + hw / 2;
  const midX = (ctrlX + linkX) / 2;
  const midY = (linkTopY + hy) / 2;
  const processBad = s.processState !== "running";
  return (
    <g data-testid={`topology-host-${index}`} data-connected={String(s.agentConnected)} data-mode={s.mode} data-vip={s.vip}>
      {/* Agent link to the controller */}
      <line
        x1={ctrlX}
        y1={linkTopY}
        x2={linkX}
        y2={hy}
        className={cut ? "stroke-bad" : "stroke-ok"}
        strokeWidth={cut ? 2 : 2.5}
        strokeDasharray={cut ? "6 6" : undefined}
      />
      {cut ? (
        <g>
          <circle cx={midX} cy={midY} r={11} className="fill-bad-bg stroke-bad" strokeWidth={2} />
          <path d={`M${midX - 5} ${midY - 5}l10 10M${midX + 5} ${midY - 5}l-10 10`} className="stroke-bad" strokeWidth={2.2} />
          <text x={midX + (index === 1 ? -18 : 18)} y={midY + 4} textAnchor={index === 1 ? "end" : "start"} className="fill-bad text-[12px] font-bold">
            agent link lost
          </text>
        </g>
      ) : (
        <text x={midX + (index === 1 ? -10 : 10)} y={midY + 4} textAnchor={index === 1 ? "end" : "start"} className="fill-muted text-[12px]">
          agent link{host?.rttMs != null ? ` · ${Math.round(host.rttMs)} ms` : ""}
        </text>
      )}

      {/* Host */}
      <rect
        x={hx}
        y={hy}
        width={hw}
        height={hh}
        rx={10}
        className={cut ? "fill-surface stroke-bad" : "fill-surface-2 stroke-line"}
        strokeWidth={2}
        strokeDasharray={cut ? "8 5" : undefined}
        opacity={cut ? 0.85 : 1}
      />
      <text x={hx + 14} y={hy + 24} className="fill-fg text-[15px] font-bold">
        Host {index}
        <tspan className="fill-muted font-normal"> · {s.hostName}</tspan>
      </text>
      <text x={hx + hw - 14} y={hy + 24} textAnchor="end" className={`${cut ? "fill-bad" : "fill-ok"} text-[12px] font-semibold`}>
        {cut ? "✕ DISCONNECTED" : "● connected"}
      </text>

      {/* SIP Server */}
      <rect x={hx + 20} y={hy + 40} width={hw - 40} height={78} rx={8} className={m.box} strokeWidth={2} />
      <text x={hx + 34} y={hy + 64} className="fill-fg text-[14px] font-bold">
        SIP Server {index}
        <tspan className="fill-muted font-normal"> · {s.name}</tspan>
      </text>
      <text x={hx + 34} y={hy + 88} className={`${m.text} text-[13px] font-bold`}>
        {m.label}
      </text>
      <text x={hx + 34} y={hy + 107} className={`${processBad ? "fill-bad font-bold" : "fill-muted"} text-[12px]`}>
        process {s.processState}
        {s.pid ? ` · pid ${s.pid}` : ""}
        {s.configuredRole === "primary" ? " · configured primary" : " · configured backup"}
      </text>

      {/* Connector from server to NIC */}
      <line x1={hx + hw / 2} y1={hy + 118} x2={hx + hw / 2} y2={hy + 150} className="stroke-line" strokeWidth={2} />

      {/* NIC with the Virtual IP */}
      <rect
        x={hx + 40}
        y={hy + 150}
        width={hw - 80}
        height={40}
        rx={20}
        className={vipOn ? "fill-ok-bg stroke-ok" : vipUnknown ? "fill-warn-bg stroke-warn" : "fill-surface stroke-idle"}
        strokeWidth={vipOn ? 2.5 : 1.5}
        strokeDasharray={vipOn ? undefined : "5 4"}
      />
      <text x={hx + hw / 2} y={hy + 175} textAnchor="middle" className={`${vipOn ? "fill-ok font-bold" : vipUnknown ? "fill-warn font-bold" : "fill-muted"} text-[13px]`}>
        {vipOn ? "● " : vipUnknown ? "? " : "○ "}
        VIP {pair.vip.address} {vipOn ? "ENABLED" : vipUnknown ? "UNKNOWN" : "disabled"}
      </text>
      {/* Down to the network */}
      <line x1={hx + hw / 2} y1={hy + 190} x2={hx + hw / 2} y2={H - 30} className="stroke-line" strokeWidth={2} />
    </g>
  );
}

export function Topology({ pair, hosts }: { pair: PairView; hosts?: Map<string, HostView> }) {
  const [s1, s2] = pair.servers;
  const summary =
    `Topology of ${pair.name}. ` +
    pair.servers
      .map(
        (s, i) =>
          `Host ${i + 1} ${s.hostName}: agent ${s.agentConnected ? "connected" : "disconnected"}; SIP Server ${i + 1} ${s.name} ${s.mode}, process ${s.processState}; VIP ${s.vip}.`,
      )
      .join(" ");
  return (
    <figure className="w-full">
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

        <HostBlock s={s1} index={1} x={40} pair={pair} host={hosts?.get(s1.hostId)} />
        <HostBlock s={s2} index={2} x={W - 40 - 360} pair={pair} host={hosts?.get(s2.hostId)} />

        {/* The shared network (one NIC per host) */}
        <line x1={30} y1={H - 30} x2={W - 30} y2={H - 30} className="stroke-muted" strokeWidth={3} />
        <text x={W / 2} y={H - 10} textAnchor="middle" className="fill-muted text-[12px]">
          network · {pair.vip.interface} · VIP {pair.vip.address}/{pair.vip.prefix} held by{" "}
          {pair.vipHolder === "both" ? "BOTH HOSTS (conflict)" : (pair.vipHolder ?? "nobody")}
        </text>
      </svg>
    </figure>
  );
}
