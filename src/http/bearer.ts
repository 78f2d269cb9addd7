/**
 * The one reader of `Authorization: Bearer <token>` (RFC 6750 §2.1), for sessions on `/api` and API
 * keys on `/v1` alike: the scheme in any case, then one or more spaces or tabs, then one token68
 * (`A–Z a–z 0–9 - . _ ~ + /`, then `=` padding), then nothing but spaces or tabs.
 */
export type Bearer = { kind: "absent" } | { kind: "malformed" } | { kind: "token"; token: string };

const BEARER = /^[ \t]*Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/** `absent` when there is no header (or only whitespace), `malformed` when it is not one bearer token. */
export function parseBearer(header: string | null | undefined): Bearer {
  if (header === null || header === undefined || header.trim() === "") return { kind: "absent" };
  const token = BEARER.exec(header)?.[1];
  return token ? { kind: "token", token } : { kind: "malformed" };
}
