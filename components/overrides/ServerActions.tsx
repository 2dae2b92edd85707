"use client";
/**
 * The manual actions of one SIP Server (`ServerActions`: Start…, Stop…, Graceful stop…, Restart…,
 * Promote…) and of a pair (`PairActions`: Switch over…, Clear hold-down…), each opening the
 * OverrideDialog. Operators and admins only: viewers see nothing to press (the API refuses them anyway).
 */
import { useState } from "react";
import { Dialog, DropdownMenu } from "radix-ui";
import type { PairView, ServerView } from "@/lib/views";
import { canOperate, useMe } from "../session";
import { Button } from "../ui";
import { OverrideDialog } from "./OverrideDialog";
import { hasPrimary, serverMenu, type OverrideRequest } from "./requests";

function useOverride() {
  const [req, setReq] = useState<OverrideRequest | null>(null);
  return { req, open: setReq, close: () => setReq(null) };
}

function DialogFor({ pair, req, close }: { pair: PairView; req: OverrideRequest | null; close: () => void }) {
  return (
    <Dialog.Root open={!!req} onOpenChange={(o) => !o && close()}>
      {req && <OverrideDialog key={JSON.stringify(req)} pair={pair} request={req} onClose={close} />}
    </Dialog.Root>
  );
}

const itemClass =
  "flex cursor-pointer select-none items-center rounded px-3 py-2 text-sm outline-none data-[highlighted]:bg-surface-2 data-[disabled]:cursor-not-allowed data-[disabled]:opacity-50";

/** A menu button "Actions" for one server of the pair. */
export function ServerActions({ pair, server }: { pair: PairView; server: ServerView }) {
  const { me } = useMe();
  const o = useOverride();
  if (!canOperate(me)) return null;
  const items = serverMenu(pair, server);
  return (
    <>
      <DropdownMenu.Root>
        <DropdownMenu.Trigger asChild>
          <Button aria-label={`Actions for ${server.name}`} data-testid="server-actions" data-server={server.name}>
            Actions <span aria-hidden>▾</span>
          </Button>
        </DropdownMenu.Trigger>
        <DropdownMenu.Portal>
          <DropdownMenu.Content align="end" sideOffset={4} className="z-50 min-w-44 rounded-md border border-line bg-surface p-1 shadow-xl">
            <DropdownMenu.Label className="px-3 py-1 text-xs font-bold uppercase tracking-wide text-muted">{server.name} on {server.hostName}</DropdownMenu.Label>
            {items.length === 0 && <p className="px-3 py-2 text-sm text-muted">Nothing to do while it is {server.processState}.</p>}
            {items.map((it) => (
              <DropdownMenu.Item key={it.label} className={itemClass} onSelect={() => o.open(it.req)}>
                {it.label}
              </DropdownMenu.Item>
            ))}
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
      <DialogFor pair={pair} req={o.req} close={o.close} />
    </>
  );
}

/**
 * Pair-level actions: Switch over… (when one server is primary; sends confirmMaintenance in maintenance),
 * Promote… (when the pair is dark: one button per running server) and Clear hold-down….
 */
export function PairActions({ pair, switchover = true }: { pair: PairView; switchover?: boolean }) {
  const { me } = useMe();
  const o = useOverride();
  if (!canOperate(me)) return null;
  const dark = !hasPrimary(pair);
  return (
    <div className="flex flex-wrap gap-2" data-testid="pair-actions">
      {switchover && !dark && (
        <Button variant="primary" onClick={() => o.open({ kind: "manual_switchover" })}>
          Switch over…
        </Button>
      )}
      {dark &&
        pair.servers
          .filter((s) => s.processState === "running")
          .map((s) => (
            <Button key={s.id} variant="primary" onClick={() => o.open({ kind: "promote", serverId: s.id })}>
              Promote {s.name}…
            </Button>
          ))}
      <Button onClick={() => o.open({ kind: "clear_holddown" })}>Clear hold-down…</Button>
      <DialogFor pair={pair} req={o.req} close={o.close} />
    </div>
  );
}
