"use client";
/**
 * /pairs/:id/actions: one pair's servers with their manual actions (ServerActions) and the pair's
 * (PairActions), live. The place to act by hand when the controller won't (maintenance, a dark pair).
 */
import Link from "next/link";
import type { PairView, ServerView } from "@/lib/views";
import { canOperate, useMe } from "../session";
import { AgentBadge, HealthBadge, ModeBadge, ProcessBadge, VipBadge } from "../status";
import { usePairs } from "../usePairs";
import { Empty, ErrorNote, Panel } from "../ui";
import { PairMaintenanceBadge } from "../maintenance/PairMaintenanceBadge";
import { PairActions, ServerActions } from "./ServerActions";

function ServerCard({ pair, server, index }: { pair: PairView; server: ServerView; index: number }) {
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-2 rounded-md border border-line px-3 py-2" data-testid="override-server" data-server={server.name}>
      <div className="min-w-0 flex-1">
        <p className="font-semibold">
          SIP Server {index + 1}: {server.name} <span className="font-normal text-muted">on {server.hostName}</span>
        </p>
        <div className="mt-1 flex flex-wrap gap-1.5">
          <ModeBadge mode={server.mode} />
          <ProcessBadge state={server.processState} />
          <VipBadge observed={server.vip} />
          <AgentBadge connected={server.agentConnected} host={server.hostName} />
        </div>
      </div>
      <ServerActions pair={pair} server={server} />
    </li>
  );
}

export function PairActionsPage({ id }: { id: string }) {
  const { pairs, error, loaded } = usePairs();
  const { me } = useMe();
  const pair = pairs.get(id);
  if (!pair) return loaded ? <Empty>{error ?? "No such pair. It may have been deleted."}</Empty> : <p className="text-muted">Loading…</p>;
  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-bold">
          <Link href={`/pairs/${pair.id}`} className="hover:underline">{pair.name}</Link>: act by hand
        </h1>
        <HealthBadge status={pair.status} />
      </div>
      <p className="text-sm text-muted" data-testid="pair-status-reason">{pair.statusReason}</p>
      <PairMaintenanceBadge pair={pair} />
      <ErrorNote>{error}</ErrorNote>
      {!canOperate(me) && me && <p className="text-sm text-muted">Your role ({me.role}) can only view. Acting by hand needs an operator or admin.</p>}
      <Panel title="Servers">
        <ul className="flex flex-col gap-2">
          {pair.servers.map((s, i) => (
            <ServerCard key={s.id} pair={pair} server={s} index={i} />
          ))}
        </ul>
      </Panel>
      <Panel title="Pair">
        <PairActions pair={pair} />
      </Panel>
    </div>
  );
}
