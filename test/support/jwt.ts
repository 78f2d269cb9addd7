/** Hand-made JWTs, so tests can send what no honest signer would (test/worker/session-*.test.ts). */
import { env } from "cloudflare:workers";

/** base64url of the UTF-8 JSON of `value` (lone surrogates arrive as `\ud800`-style escapes). */
export function b64url(value: unknown): string {
  return bytesToB64url(new TextEncoder().encode(JSON.stringify(value)));
}

function bytesToB64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export const SESSION_SECRETS = env.SESSION_SECRET.split(",") as [string, string];

/** A token with this header and these claims, HMAC-signed with `hash` (default SHA-256). */
export async function hmacJwt(
  header: unknown,
  claims: unknown,
  secret: string = SESSION_SECRETS[0],
  hash: "SHA-256" | "SHA-384" | "SHA-512" = "SHA-256",
): Promise<string> {
  const head = `${b64url(header)}.${b64url(claims)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(head)));
  return `${head}.${bytesToB64url(signature)}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
