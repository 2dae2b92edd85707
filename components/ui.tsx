/** Small shared UI pieces: buttons, fields, panels, alerts. */
import { cloneElement, forwardRef } from "react";

type Variant = "primary" | "secondary" | "danger" | "ghost";
const VARIANT: Record<Variant, string> = {
  primary: "bg-accent text-accent-fg border-accent hover:brightness-110",
  secondary: "bg-surface text-fg border-line hover:bg-surface-2",
  danger: "bg-bad text-white border-bad hover:brightness-110 dark:text-black",
  ghost: "bg-transparent text-fg border-transparent hover:bg-surface-2",
};

export const Button = forwardRef<HTMLButtonElement, React.ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }>(function Button(
  { variant = "secondary", className = "", type = "button", ...rest },
  ref,
) {
  return (
    <button
      ref={ref}
      type={type}
      className={`inline-flex items-center justify-center gap-1.5 rounded-md border px-3 py-1.5 text-sm font-semibold disabled:cursor-not-allowed disabled:opacity-50 ${VARIANT[variant]} ${className}`}
      {...rest}
    />
  );
});

export function Panel({ title, actions, children, className = "", id }: { title?: React.ReactNode; actions?: React.ReactNode; children: React.ReactNode; className?: string; id?: string }) {
  return (
    <section aria-labelledby={id ? `${id}-title` : undefined} className={`rounded-lg border border-line bg-surface ${className}`}>
      {(title || actions) && (
        <div className="flex flex-wrap items-center gap-2 border-b border-line px-4 py-2">
          {title && (
            <h2 id={id ? `${id}-title` : undefined} className="text-sm font-bold uppercase tracking-wide text-muted">
              {title}
            </h2>
          )}
          <div className="ml-auto flex items-center gap-2">{actions}</div>
        </div>
      )}
      <div className="p-4">{children}</div>
    </section>
  );
}

export function ErrorNote({ children, className = "" }: { children: React.ReactNode; className?: string }) {
  if (!children) return null;
  return (
    <p role="alert" className={`flex items-start gap-2 rounded-md border border-bad/50 bg-bad-bg px-3 py-2 text-sm text-bad ${className}`}>
      <svg viewBox="0 0 16 16" className="mt-0.5 size-4 shrink-0" fill="none" stroke="currentColor" strokeWidth="1.8" aria-hidden><circle cx="8" cy="8" r="6.5" /><path d="M8 4.5v4M8 11v.1" /></svg>
      <span>{children}</span>
    </p>
  );
}

export function Field({
  label,
  error,
  hint,
  children,
  id,
}: {
  label: string;
  error?: string | null;
  hint?: string;
  id: string;
  children: React.ReactElement<{ id?: string; "aria-invalid"?: boolean; "aria-describedby"?: string }>;
}) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-semibold">
        {label}
      </label>
      {cloneElement(children, { "aria-describedby": error ? `${id}-error` : hint ? `${id}-hint` : undefined })}
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-muted">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-sm font-medium text-bad">
          ⚠ {error}
        </p>
      )}
    </div>
  );
}

export const inputClass =
  "w-full rounded-md border border-line bg-bg px-2.5 py-1.5 text-sm text-fg placeholder:text-muted/70 aria-[invalid=true]:border-bad";

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="py-6 text-center text-sm text-muted">{children}</p>;
}
