/**
 * The e-mail templates: `{{name}}` is replaced by the variable's text (an unknown name is refused when the
 * channel is saved; any other `{{` or `}}` too), and nothing else happens: no expressions, no code. Pure.
 */
const VAR = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** Null when every `{{...}}` names a known variable; else what is wrong. */
export function templateProblem(template: string, known: readonly string[]): string | null {
  const unknown = new Set<string>();
  for (const m of template.matchAll(VAR)) if (!known.includes(m[1]!)) unknown.add(m[1]!);
  if (unknown.size) return `unknown variable${unknown.size > 1 ? "s" : ""} ${[...unknown].map((v) => `{{${v}}}`).join(", ")} (known: ${known.join(", ")})`;
  const rest = template.replace(VAR, "");
  if (/\{\{|\}\}/.test(rest)) return "has a {{ or }} that is not a variable such as {{pair}}";
  return null;
}

export function renderTemplate(template: string, vars: Record<string, unknown>): string {
  return template.replace(VAR, (_, name: string) => {
    const v = Object.hasOwn(vars, name) ? vars[name] : "";
    return v === null || v === undefined ? "" : String(v);
  });
}
