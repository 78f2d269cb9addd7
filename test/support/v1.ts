import { expect } from "vitest";
import type { Permission } from "../../src/domain/permissions";
import { asUser, ORIGIN, workerFetch } from "./http";
import { baseUrls, leasedRun, regionUpstash, type Server, stack } from "./stack";

export interface IssuedKey {
  id: string;
  key: string;
  ownerId: string;
}

/** A key created through the management API, as a user would. */
export async function issueKey(
  ownerId: string,
  permissions: Permission[],
  extra: Record<string, unknown> = {},
): Promise<IssuedKey> {
  const response = await asUser(ownerId, "POST", "/api/keys", { name: "test key", permissions, ...extra });
  expect(response.status).toBe(201);
  const { id, key } = (await response.json()) as { id: string; key: string };
  return { id, key, ownerId };
}

/**
 * A client address of its own for each caller (a random IPv6 /64 in the documentation range, only
 * ever a header value), so no caller's failed-auth count — in this file or another run within the
 * minute — is seen by another.
 */
export function freshIp(): string {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${(a ?? 0).toString(16)}:${(b ?? 0).toString(16)}::1`;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  ip?: string;
  headers?: Record<string, string>;
}

/**
 * One `/v1` request through the app's fetch handler with its own execution context, waiting for
 * everything handed to waitUntil — so request counts and last-used writes are deterministic.
 */
export async function v1(key: string | null, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? freshIp(), ...options.headers };
  if (key !== null) headers.Authorization = key.startsWith("Bearer ") ? key : `Bearer ${key}`;
  if (options.body !== undefined) headers["Content-Type"] ??= "application/json";
  const request = new Request(`${ORIGIN}${path}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return workerFetch(request);
}

/** Sends one raw command to the run's (primary) Upstash server, as an out-of-band writer would. */
export async function upstashCommand(...command: (string | number)[]): Promise<unknown> {
  return sendCommand(stack.upstashUrl, stack.upstashToken, command);
}

/**
 * One raw command to the database whose marker the key check reads, as an out-of-band writer of
 * markers would: the primary, or under the leased topology the region's copy (the tests' requests
 * are checked in the region that takes every continent).
 */
export function markerCommand(...command: (string | number)[]): Promise<unknown> {
  return leasedRun ? regionUpstashCommand(...command) : upstashCommand(...command);
}

/** Sends one raw command to the region's Upstash server (leased runs only). */
export async function regionUpstashCommand(...command: (string | number)[]): Promise<unknown> {
  const { url, token } = regionUpstash();
  return sendCommand(url, token, command);
}

async function sendCommand(url: string, token: string, command: (string | number)[]): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: JSON.stringify(command),
  });
  return ((await response.json()) as { result: unknown }).result;
}

/**
 * Switches a local protocol server into a failure mode (or back with "none"). `upstash` is every
 * Upstash server of the run — in the leased topology the primary and the region ("Upstash is
 * down"); `upstash-primary` and `upstash-region` fault one of them.
 */
export async function setFault(server: Server, mode: "none" | "error" | "hang"): Promise<void> {
  for (const base of baseUrls(server)) {
    const response = await fetch(`${base}/__local/fault`, { method: "POST", body: JSON.stringify({ mode }) });
    expect(response.ok).toBe(true);
  }
}
