import { stack } from "./stack";

export interface ProviderRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** What the fake providers received (oldest first). */
export async function providerRequests(): Promise<ProviderRequest[]> {
  return (await fetch(`${stack.fakeProvidersUrl}/__fake/requests`)).json();
}

export async function resetProviderRequests(): Promise<void> {
  await fetch(`${stack.fakeProvidersUrl}/__fake/reset`, { method: "POST" });
}

/** The fake providers refuse this key from now on (it was deleted in the provider's console). */
export async function revokeAtProvider(key: string): Promise<void> {
  await fetch(`${stack.fakeProvidersUrl}/__fake/revoke`, { method: "POST", body: key });
}

/** Lets the fake's streaming completion send its second chunk and finish. */
export async function releaseStream(): Promise<void> {
  await fetch(`${stack.fakeProvidersUrl}/__fake/release`, { method: "POST" });
}

/** A base URL on the fake, reachable by name (the only way a user URL may be loopback: development). */
export const localhostUrl = (path: string) =>
  `http://localhost:${new URL(stack.fakeProvidersUrl).port}${path}`;
