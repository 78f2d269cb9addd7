import { parseBearer } from "../http/bearer";
import { parseKey } from "../keys/token";

export type Presented = { ok: true; key: string } | { ok: false; code: "missing_key" | "malformed_key" };

/**
 * The key a caller presented, from an `Authorization` header or as the raw key (RPC): shape and
 * checksum only, pure — a malformed key never costs a lookup.
 */
export function presentedKey(credential: string | null, from: "authorization-header" | "raw-key"): Presented {
  if (!credential) return { ok: false, code: "missing_key" };
  let candidate = credential;
  if (from === "authorization-header") {
    const bearer = parseBearer(credential);
    if (bearer.kind === "absent") return { ok: false, code: "missing_key" };
    if (bearer.kind === "malformed") return { ok: false, code: "malformed_key" };
    candidate = bearer.token;
  }
  return parseKey(candidate).ok ? { ok: true, key: candidate } : { ok: false, code: "malformed_key" };
}
