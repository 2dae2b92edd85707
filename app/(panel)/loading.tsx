export default function Loading() {
  return <p className="text-muted" aria-live="polite">Loading…</p>;
}
