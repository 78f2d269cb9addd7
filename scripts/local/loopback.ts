/**
 * Loopback checks shared by the local Neon and Upstash stand-ins: they may only ever open
 * connections on this machine. Pure string logic (no DNS, no node: imports), deliberately
 * strict: anything that is not plainly loopback is refused.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isLoopbackIPv4(host: string): boolean {
  const match = IPV4.exec(host);
  if (!match) return false;
  const octets = match.slice(1).map(Number);
  return octets.every((n) => n <= 255) && octets[0] === 127;
}

/** `::1` in any spelling, plus IPv4-mapped 127.0.0.0/8 (`::ffff:127.0.0.1`). */
function isLoopbackIPv6(host: string): boolean {
  let normalised: string;
  try {
    // WHATWG URL parsing canonicalises IPv6 (e.g. 0:0:0:0:0:0:0:1 → [::1]).
    normalised = new URL(`http://[${host}]/`).hostname;
  } catch {
    return false;
  }
  if (normalised === "[::1]") return true;
  // An IPv4-mapped address comes back as [::ffff:7fxx:xxxx].
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(normalised);
}

/** True for `localhost`, 127.0.0.0/8, `::1` and `[::1]` (case-insensitive). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost") return true;
  if (isLoopbackIPv4(host)) return true;
  const unbracketed = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return unbracketed.includes(":") && isLoopbackIPv6(unbracketed);
}
