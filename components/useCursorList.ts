"use client";
/**
 * A list read page by page through an API cursor (`nextCursor`): the first page on every change of
 * `fetchPage` (new filters) and every live (re)connect, older pages appended on request. Used by the
 * Operations page; the audit page's list has the same shape.
 */
import { useCallback, useEffect, useState } from "react";
import { errorText } from "./api";
import { useLiveState } from "./socket";

export function useCursorList<T extends { id: string }>(fetchPage: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const { generation } = useLiveState();

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const page = await fetchPage(after);
        setItems((prev) => (after ? [...prev, ...page.items.filter((o) => !prev.some((p) => p.id === o.id))] : page.items));
        setCursor(page.nextCursor);
        setError(null);
      } catch (e) {
        setError(errorText(e));
      } finally {
        setLoading(false);
      }
    },
    [fetchPage],
  );
  // Every (re)connect reloads: nothing missed while the live channel was down stays missing.
  useEffect(() => {
    void load(null);
  }, [load, generation]);

  return { items, setItems, cursor, loading, error, loadOlder: () => load(cursor) };
}
