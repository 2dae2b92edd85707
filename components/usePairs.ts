"use client";
/**
 * All pairs, kept live: loaded from GET /api/pairs, updated by `pair:state` and `pairs:snapshot`,
 * reloaded after every socket (re)connect. `flashes` counts changes per pair to highlight them.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { PairView } from "@/lib/views";
import { api, errorText } from "./api";
import { useLive, useLiveState } from "./socket";

export function samePairState(a: PairView, b: PairView): boolean {
  const key = (p: PairView) =>
    JSON.stringify([p.status, p.statusReason, p.vipHolder, p.maintenance, p.activeAlarms, p.operation?.id, p.operation?.status, p.servers.map((s) => [s.mode, s.processState, s.agentConnected, s.vip])]);
  return key(a) === key(b);
}

export function usePairs() {
  const [pairs, setPairs] = useState<Map<string, PairView>>(new Map());
  const [flashes, setFlashes] = useState<Map<string, number>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const { generation } = useLiveState();
  const pairsRef = useRef(pairs);
  pairsRef.current = pairs;

  const flash = useCallback((ids: string[]) => {
    if (!ids.length) return;
    setFlashes((f) => {
      const n = new Map(f);
      for (const id of ids) n.set(id, (n.get(id) ?? 0) + 1);
      return n;
    });
  }, []);

  const replaceAll = useCallback(
    (list: PairView[], highlight: boolean) => {
      const prev = pairsRef.current;
      const changed = highlight ? list.filter((p) => prev.has(p.id) && !samePairState(prev.get(p.id)!, p)).map((p) => p.id) : [];
      setPairs(new Map(list.map((p) => [p.id, p])));
      flash(changed);
    },
    [flash],
  );

  const load = useCallback(async () => {
    try {
      const list = (await api("GET /api/pairs")).pairs.map((p) => p.view);
      replaceAll(list, true);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoaded(true);
    }
  }, [replaceAll]);

  // Initial load, and a resync after every reconnect.
  useEffect(() => {
    void load();
  }, [load, generation]);

  useLive("pair:state", (p) => {
    const prev = pairsRef.current.get(p.id);
    if (prev && new Date(prev.updatedAt).getTime() > new Date(p.updatedAt).getTime()) return; // stale
    setPairs((m) => new Map(m).set(p.id, p));
    if (!prev || !samePairState(prev, p)) flash([p.id]);
  });
  useLive("pairs:snapshot", (s) => replaceAll(s, true));

  return { pairs, flashes, error, loaded, reload: load };
}
