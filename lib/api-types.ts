/**
 * What each HTTP API route answers on success (its JSON body), keyed "METHOD /path" as docs/api.md writes
 * it. Route handlers check their answers against it (`satisfies ApiResponse<"GET /api/pairs">`), and the
 * panel's client (components/api.ts) returns it: a route and the panel cannot disagree on a key.
 * `null`: 204 No Content. Not here: GET /api/audit/export and GET /api/operations/export (file downloads,
 * CSV or JSON).
 * Types only: safe to import from client components.
 */
import type { ChainVerification } from "./audit";
import type { WindowJson } from "./queries/maintenance";
import type { ChannelJson, DeliveryJson, RuleJson } from "./queries/notifications";
import type { AlarmJson, ControllerStateJson } from "./realtime/events";
import type { AuditItem, HostDto, NewTokenDto, OperationHistoryItem, OperationView, PairDto, Preflight, SessionUserDto, TokenDto, UserDto } from "./views";

/** Every failure (4xx, 5xx): `field` names the input a 400 is about. */
export type { ErrorBody as ApiErrorBody } from "./http/errors";

export interface ApiResponses {
  "GET /api/health": { status: "ok" | "degraded"; db: "ok" | "error"; version: string; controller: ControllerStateJson | null };

  "POST /api/auth/login": { user: SessionUserDto; expiresAt: string };
  "POST /api/auth/logout": null;
  "GET /api/auth/me": { user: SessionUserDto; via: "session" | "token"; token?: { id: string; name: string } };

  "GET /api/hosts": { hosts: HostDto[] };
  "POST /api/hosts": { host: HostDto };
  "GET /api/hosts/:id": { host: HostDto };
  "PATCH /api/hosts/:id": { host: HostDto };
  "DELETE /api/hosts/:id": null;

  "GET /api/pairs": { pairs: PairDto[] };
  "POST /api/pairs": { pair: PairDto };
  "GET /api/pairs/:id": { pair: PairDto };
  "PATCH /api/pairs/:id": { pair: PairDto };
  "DELETE /api/pairs/:id": null;
  "GET /api/pairs/:id/preflight": { preflight: Preflight };
  "POST /api/pairs/:id/switchover": { operation: OperationView };
  "POST /api/pairs/:id/operations": { operation: OperationView };
  "POST /api/pairs/maintenance": { changed: string[]; unchanged: string[] };
  "GET /api/maintenance-windows": { windows: WindowJson[] };
  "POST /api/maintenance-windows": { windows: WindowJson[] };
  "DELETE /api/maintenance-windows/:id": { window: WindowJson };

  /** The operations history, newest first, each with `steps: []`; `nextCursor` is null on the last page. */
  "GET /api/operations": { operations: OperationHistoryItem[]; nextCursor: string | null };
  "GET /api/operations/:id": { operation: OperationView };

  "GET /api/audit": { items: AuditItem[]; nextCursor: string | null };
  "GET /api/audit/verify": ChainVerification;

  "GET /api/alarms": { alarms: AlarmJson[]; nextCursor: string | null };
  "POST /api/alarms/:id/ack": { alarm: AlarmJson };
  "POST /api/alarms/ack": { acknowledged: AlarmJson[]; skipped: { id: string; reason: string }[] };

  "GET /api/users": { users: UserDto[] };
  "POST /api/users": { user: UserDto };
  "PATCH /api/users/:id": { user: UserDto };
  "DELETE /api/users/:id": null;

  "GET /api/notifications/channels": { channels: ChannelJson[] };
  "POST /api/notifications/channels": { channel: ChannelJson };
  "GET /api/notifications/channels/:id": { channel: ChannelJson };
  "PATCH /api/notifications/channels/:id": { channel: ChannelJson };
  "DELETE /api/notifications/channels/:id": null;
  /** 202: the test delivery, pending in the outbox. */
  "POST /api/notifications/channels/:id/test": { delivery: DeliveryJson };
  "GET /api/notifications/rules": { rules: RuleJson[] };
  "POST /api/notifications/rules": { rule: RuleJson };
  "PATCH /api/notifications/rules/:id": { rule: RuleJson };
  "DELETE /api/notifications/rules/:id": null;
  /** The delivery log, newest first; `nextCursor` is null on the last page. */
  "GET /api/notifications/deliveries": { deliveries: DeliveryJson[]; nextCursor: string | null };

  "GET /api/tokens": { tokens: TokenDto[] };
  "POST /api/tokens": { token: NewTokenDto };
  "DELETE /api/tokens/:id": null;
}

export type ApiRoute = keyof ApiResponses;
export type ApiResponse<R extends ApiRoute> = ApiResponses[R];
