/** Opaque secrets (session cookies, API tokens): random bytes, stored only as SHA-256. */
import { createHash, randomBytes } from "node:crypto";

export const API_TOKEN_PREFIX = "sy_";
/** Characters kept in clear to recognise a token in lists ("sy_" + 8). */
export const API_TOKEN_VISIBLE = 11;

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

export function newSessionToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: sha256Hex(token) };
}

export function newApiToken(): { token: string; hash: string; prefix: string } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, hash: sha256Hex(token), prefix: token.slice(0, API_TOKEN_VISIBLE) };
}

export function looksLikeApiToken(value: string): boolean {
  return value.startsWith(API_TOKEN_PREFIX) && value.length > API_TOKEN_VISIBLE && value.length < 200;
}
