"use client";
/** A page crashed while rendering: say so in plain words and offer a retry (the header stays usable). */
export default function PanelError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="flex flex-col items-start gap-3 rounded-lg border border-bad/50 bg-bad-bg p-4 text-bad">
      <h1 className="text-lg font-bold">This page could not be shown.</h1>
      <p className="text-fg">
        Something went wrong while drawing it{error.digest ? ` (reference ${error.digest})` : ""}. The pairs are not affected: the
        controller keeps running. Try again; if it keeps happening, reload the page or check the server log.
      </p>
      <button type="button" onClick={reset} className="rounded-md border border-line bg-surface px-3 py-1.5 text-sm font-semibold text-fg hover:bg-surface-2">
        Try again
      </button>
    </div>
  );
}
