/**
 * The route wrapper every `app/api/**` handler uses:
 *   export const GET = route({ allow: canRead }, async ({ principal, params, query }) => ...);
 * It gives each request an id (x-request-id), authenticates (session cookie or Bearer token), applies the
 * role predicate, checks Origin on state-changing cookie-authenticated requests, parses input with zod via
 * one helper, and turns every failure into the single error shape. 500s never leak internals.
 */
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { authenticate, type Authentication } from "@/lib/auth/principal";
import { config } from "@/lib/config";
import { actorName, type Principal } from "@/lib/auth/roles";
import { isSecureRequest, sessionCookie } from "@/lib/auth/cookies";
import { log as rootLog, type Logger } from "@/lib/log";
import { recordDenied } from "@/lib/queries/audit";
import { isUnreachable } from "@/lib/db/errors";
import { ApiError, databaseUnavailable, errorBody, forbidden, fromPrismaError, unauthenticated } from "./errors";
import { json } from "./json";
import { originProblem, STATE_CHANGING } from "./origin";
import { parseBody, parseQuery, parseWith } from "./validate";

export type Predicate = (p: Principal) => boolean;

export interface RouteOptions {
  /** "public" (no credentials needed) or a role predicate from lib/auth (canRead, canOperate, canAdmin). */
  allow: "public" | Predicate;
  /** Also check Origin when no cookie authenticated the request (login). */
  originCheck?: "cookie" | "always";
}

interface BaseContext<P> {
  req: Request;
  params: P;
  requestId: string;
  log: Logger;
  /** Client address as seen by server.ts (or X-Forwarded-For when TRUST_PROXY=1). */
  ip: string;
  auth: Authentication;
  /** The JSON body, validated. `optional`: an empty body reads as `{}`. */
  body<S extends z.ZodType>(schema: S, opts?: { optional?: boolean }): Promise<z.infer<S>>;
  query<S extends z.ZodType>(schema: S): z.infer<S>;
}

export interface PublicContext<P> extends BaseContext<P> {
  principal: Principal | null;
}

export interface AuthedContext<P> extends BaseContext<P> {
  principal: Principal;
  /** Audit actor: the username, or "token:<name>". */
  actor: string;
}

export type RouteHandler<P> = (req: Request, ctx: { params: Promise<P> }) => Promise<Response>;

/** Header server.ts sets from the TCP peer address (it overwrites whatever the client sent). */
export const CLIENT_IP_HEADER = "x-switchyard-client-ip";

export function clientIp(req: Request): string {
  if (config().TRUST_PROXY) {
    const xff = req.headers.get("x-forwarded-for")?.split(",")[0].trim();
    if (xff) return xff;
  }
  return req.headers.get(CLIENT_IP_HEADER) ?? "unknown";
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(req: Request): string {
  const given = req.headers.get("x-request-id");
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

export function route<P = Record<string, string>>(
  opts: RouteOptions & { allow: "public" },
  fn: (c: PublicContext<P>) => Promise<Response | unknown>,
): RouteHandler<P>;
export function route<P = Record<string, string>>(
  opts: RouteOptions & { allow: Predicate },
  fn: (c: AuthedContext<P>) => Promise<Response | unknown>,
): RouteHandler<P>;
export function route<P>(opts: RouteOptions, fn: (c: never) => Promise<Response | unknown>): RouteHandler<P> {
  return async (req, ctx) => {
    const requestId = requestIdOf(req);
    const path = safePath(req.url);
    let log = rootLog.child({ requestId, method: req.method, path });
    let response: Response;
    let setCookie: string | undefined;
    let who: Principal | null = null;
    try {
      const params = ((await ctx?.params) ?? {}) as P;
      const auth: Authentication =
        opts.allow === "public" && !req.headers.get("cookie") && !req.headers.get("authorization")
          ? { principal: null, via: null }
          : await authenticate(req);
      if (STATE_CHANGING.has(req.method) && (auth.via === "cookie" || opts.originCheck === "always")) {
        const problem = originProblem(req);
        if (problem && (auth.via === "cookie" || req.headers.get("origin"))) throw forbidden(`cross-site request refused: ${problem}`);
      }
      who = auth.principal;
      if (opts.allow !== "public") {
        if (!auth.principal) throw unauthenticated();
        if (!opts.allow(auth.principal)) throw forbidden(`role ${auth.principal.role} may not ${req.method} ${path}`);
      }
      if (auth.principal) log = log.child({ actor: actorName(auth.principal), role: auth.principal.role });
      if (auth.refreshed) {
        const maxAge = (auth.refreshed.expiresAt.getTime() - Date.now()) / 1000;
        setCookie = sessionCookie(auth.refreshed.token, { secure: isSecureRequest(req), maxAgeSeconds: maxAge });
      }
      const c = {
        req,
        params,
        requestId,
        log,
        ip: clientIp(req),
        auth,
        principal: auth.principal,
        actor: auth.principal ? actorName(auth.principal) : "anonymous",
        body: <S extends z.ZodType>(schema: S, opts?: { optional?: boolean }) => parseBody(req, schema, opts),
        query: <S extends z.ZodType>(schema: S) => parseQuery(req, schema),
      };
      const out = await (fn as (c: unknown) => Promise<Response | unknown>)(c);
      response = out instanceof Response ? out : json(out ?? null);
    } catch (err) {
      response = errorResponse(err, log);
      if (who && response.status === 403 && STATE_CHANGING.has(req.method)) {
        const reason = err instanceof Error ? err.message : "forbidden";
        await recordDenied(actorName(who), { method: req.method, path, reason }).catch((e) => log.error("audit of a denied request failed", { err: e }));
      }
    }
    const headers = new Headers(response.headers);
    headers.set("x-request-id", requestId);
    if (setCookie && !headers.has("set-cookie")) headers.append("set-cookie", setCookie);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** The methods Next routes an app/api request by (its HTTP_METHODS); any other method is Next's own 400. */
const HTTP_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];
/** A route's own handlers, whatever their params. */
type Handlers = Partial<Record<HttpMethod, RouteHandler<never>>>;

/**
 * The methods a route does not implement. Next answers a method that a route.ts does not export with 405,
 * an empty body and no Allow header, and offers no hook to change that; so every app/api route exports
 * the others from here, below its own handlers:
 *
 *   export const GET = route(...);
 *   export const PATCH = route(...);
 *   export const { HEAD, OPTIONS, POST, PUT, DELETE } = otherMethods({ GET, PATCH });
 *
 * HEAD is the GET handler where there is one (as Next would do), OPTIONS answers 204 with `Allow`, and
 * every other method 405 `{ "error": { "code": "method_not_allowed", ... } }` with `Allow`. The type refuses
 * a method both implemented and listed; a method forgotten in the list is caught by the API test that
 * tries every method of every route (tests/integration/api/hardening.test.ts).
 */
export function otherMethods<H extends Handlers>(implemented: H): Omit<Record<HttpMethod, RouteHandler<unknown>>, keyof H> {
  const allow = allowHeader(Object.keys(implemented) as HttpMethod[]);
  const out = {} as Record<HttpMethod, RouteHandler<unknown>>;
  for (const m of HTTP_METHODS) {
    if (implemented[m]) continue;
    if (m === "HEAD" && implemented.GET) out.HEAD = implemented.GET as RouteHandler<unknown>;
    else if (m === "OPTIONS") out.OPTIONS = optionsOr405(allow);
    else out[m] = methodNotAllowed(allow);
  }
  return out;
}

/** `Allow`: what the route implements, HEAD with GET, and OPTIONS (sorted, as Next writes it). */
function allowHeader(implemented: readonly HttpMethod[]): string {
  const set = new Set<HttpMethod>([...implemented, "OPTIONS"]);
  if (set.has("GET")) set.add("HEAD");
  return [...set].sort().join(", ");
}

/**
 * Header server.ts sets on an API request whose method Next does not route (TRACE, PROPFIND, ...): the
 * method it came with. server.ts passes such a request on as OPTIONS, and the route's OPTIONS handler
 * answers it 405 like any other method the route lacks. A client-sent value is always removed.
 */
export const ORIGINAL_METHOD_HEADER = "x-switchyard-method";

/** For server.ts: marks an /api request with a method outside HTTP_METHODS (Next's own answer is an empty 400 or 500). */
export function routeOtherMethod(req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }): void {
  delete req.headers[ORIGINAL_METHOD_HEADER];
  const method = req.method ?? "";
  if ((HTTP_METHODS as readonly string[]).includes(method) || !safePath(req.url ?? "").startsWith("/api/")) return;
  req.headers[ORIGINAL_METHOD_HEADER] = method;
  req.method = "OPTIONS";
}

function optionsOr405(allow: string): RouteHandler<unknown> {
  const notAllowed = methodNotAllowed(allow);
  return async (req, ctx) =>
    req.headers.has(ORIGINAL_METHOD_HEADER) ? notAllowed(req, ctx) : new Response(null, { status: 204, headers: { allow, "x-request-id": requestIdOf(req) } });
}

function methodNotAllowed(allow: string): RouteHandler<unknown> {
  return async (req) => {
    const method = req.headers.get(ORIGINAL_METHOD_HEADER) ?? req.method;
    const e = new ApiError(405, "method_not_allowed", `${method} is not allowed on ${safePath(req.url)}; allowed: ${allow}`, { headers: { allow } });
    const response = errorResponse(e);
    response.headers.set("x-request-id", requestIdOf(req));
    return response;
  };
}

export function errorResponse(err: unknown, log: Logger = rootLog): Response {
  const api = err instanceof ApiError ? err : isUnreachable(err) ? null : fromPrismaError(err);
  if (api) {
    if (api.status === 403 || api.status === 429) log.warn("request refused", { status: api.status, reason: api.message });
    return json(errorBody(api), { status: api.status, headers: api.extra.headers });
  }
  if (isUnreachable(err)) {
    // One warning per interval with a count, not one error line per request while Postgres is away.
    unreachable.count++;
    const now = Date.now();
    if (now - unreachable.loggedAt >= UNREACHABLE_LOG_MS) {
      log.warn("requests answered 503: the database cannot be reached", { requests: unreachable.count, sinceMs: unreachable.loggedAt ? now - unreachable.loggedAt : 0, err });
      unreachable.count = 0;
      unreachable.loggedAt = now;
    }
    const e = databaseUnavailable();
    return json(errorBody(e), { status: e.status, headers: e.extra.headers });
  }
  log.error("request failed", { err });
  return json(errorBody(new ApiError(500, "internal", "internal error; see the server log")), 500);
}

const UNREACHABLE_LOG_MS = 10_000;
const unreachable = { count: 0, loggedAt: 0 };

function safePath(url: string): string {
  try {
    return new URL(url, "http://localhost").pathname;
  } catch {
    return "?";
  }
}

export { parseWith };
