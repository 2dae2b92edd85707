/**
 * Optimistic auth redirect (Next 16 "proxy", formerly middleware): a page request without the session
 * cookie goes to /login?next=<where it was going>. The real check happens in the API and on the socket;
 * an expired cookie is caught there and the client sends the user to the login page the same way.
 */
import { NextResponse, type NextRequest } from "next/server";
import { safeNextPath } from "@/lib/validation/return-path";

const SESSION_COOKIE = "sy_session";

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  if (request.cookies.get(SESSION_COOKIE)?.value) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/login";
  url.search = "";
  url.searchParams.set("next", safeNextPath(pathname + search));
  return NextResponse.redirect(url);
}

export const config = {
  // Pages only: not the API, /metrics (a token, or METRICS_LISTEN), the login page, socket.io, Next's
  // assets or files with an extension.
  matcher: ["/((?!api/|metrics$|login|socket\\.io|_next/|favicon\\.ico|.*\\.[a-zA-Z0-9]+$).*)"],
};
