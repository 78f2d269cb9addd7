import { p1363ToDer } from "../../src/scanning/ecdsa-der";
import { ORIGIN, workerFetch } from "./http";

export const KEYS_PATH = "/github/secret-scanning-keys";

export interface GithubSigner {
  identifier: string;
  /** The entry GitHub's key list would carry for this key. */
  published: { key_identifier: string; key: string; is_current: boolean };
  /** The two headers GitHub sends with `body`, signed with this key. */
  sign(body: string): Promise<Record<string, string>>;
}

const base64 = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))));

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function toPem(spki: ArrayBuffer): string {
  const lines = base64(spki).match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

export async function createGithubSigner(identifier?: string): Promise<GithubSigner> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
  const id = identifier ?? (await sha256Hex(spki));
  return {
    identifier: id,
    published: { key_identifier: id, key: toPem(spki), is_current: true },
    async sign(body) {
      const raw = await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        pair.privateKey,
        new TextEncoder().encode(body),
      );
      // WebCrypto signs in P1363 (r || s); GitHub sends DER.
      return {
        "Github-Public-Key-Identifier": id,
        "Github-Public-Key-Signature": base64(p1363ToDer(new Uint8Array(raw))),
      };
    },
  };
}

export interface ReportedToken {
  token: string;
  type?: string;
  url?: string;
  source?: string;
}

/** A report body as GitHub sends it. */
export function reportBody(tokens: ReportedToken[]): string {
  return JSON.stringify(
    tokens.map(
      ({
        token,
        type = "vulk_api_key",
        url = "https://github.com/octo/repo/blob/main/.env",
        source = "content",
      }) => ({
        token,
        type,
        url,
        source,
      }),
    ),
  );
}

/** POST /scanning/github through the app, waiting for everything handed to waitUntil. */
export async function postReport(body: string, headers: Record<string, string>): Promise<Response> {
  const request = new Request(`${ORIGIN}/scanning/github`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  });
  return workerFetch(request);
}

/** Signs `body` with `signer` and posts it. */
export async function sendSignedReport(signer: GithubSigner, body: string): Promise<Response> {
  return postReport(body, await signer.sign(body));
}
