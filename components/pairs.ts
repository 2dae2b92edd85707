/**
 * GET /api/pairs returns the configuration (PairDto) with the controller's `view` (PairView, null until
 * the controller has observed the pair). The panel draws views; before the first observation it draws
 * an "unknown" view built from the configuration.
 */
import type { PairDto, PairView, ServerDto, ServerView } from "@/lib/views";

export type { PairDto, ServerDto } from "@/lib/views";

function unknownServer(s: ServerDto | undefined, role: "primary" | "backup"): ServerView {
  return {
    id: s?.id ?? role,
    name: s?.name ?? "?",
    hostId: s?.hostId ?? "",
    hostName: s?.hostName ?? "?",
    appName: s?.appName ?? "",
    configuredRole: role,
    agentConnected: false,
    processState: "unknown",
    mode: "unknown",
    vip: "unknown",
    healthy: false,
    pid: null,
    lastHeartbeatAt: null,
  };
}

/** Accepts a PairDto (with or without `view`) or a bare PairView. */
export function toPairView(x: PairDto | PairView): PairView {
  if ("status" in x && "vip" in x && typeof (x as PairView).vip === "object") return x as PairView;
  const dto = x as PairDto;
  if (dto.view) {
    // Configuration wins for what an admin may just have changed.
    return { ...dto.view, name: dto.name, maintenance: dto.maintenance, autoFailover: dto.autoFailover };
  }
  return {
    id: dto.id,
    name: dto.name,
    vip: { address: dto.vipAddress, prefix: dto.vipPrefix, interface: dto.vipInterface },
    status: "unknown",
    statusReason: "not observed by the controller yet",
    vipHolder: null,
    servers: [unknownServer(dto.servers[0], "primary"), unknownServer(dto.servers[1], "backup")],
    operation: null,
    maintenance: dto.maintenance,
    autoFailover: dto.autoFailover,
    activeAlarms: 0,
    updatedAt: dto.updatedAt,
  };
}
