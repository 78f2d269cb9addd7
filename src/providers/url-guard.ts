/**
 * User-supplied provider URLs (Ollama, Custom), checked before any fetch (docs/DESIGN.md#provider-keys): http(s), no
 * userinfo, no IP literal in a loopback, private, link-local, CGNAT, unspecified, multicast or
 * metadata range, in any numeric spelling; `localhost` only in development. Pure.
 *
 * The WHATWG URL parser already turns every IPv4 spelling (`0x7f000001`, `2130706433`, `127.1`)
 * into dotted form and compresses IPv6, so the checks below see one canonical spelling. Names that
 * resolve to private addresses are the platform's job (`global_fetch_strictly_public`).
 */

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

const V4_BLOCKED: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 "this network", unspecified
  [0x0a000000, 8], // 10/8 private
  [0x64400000, 10], // 100.64/10 CGNAT (also Alibaba's metadata at 100.100.100.200)
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local, cloud metadata
  [0xac100000, 12], // 172.16/12 private
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0a80000, 16], // 192.168/16 private
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xe0000000, 4], // 224/4 multicast
  [0xf0000000, 4], // 240/4 reserved, broadcast
];

function ipv4Number(host: string): number | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function isBlockedV4(n: number): boolean {
  return V4_BLOCKED.some(([base, bits]) => n >>> (32 - bits) === base >>> (32 - bits));
}

/** 8 hextets of a canonical (URL-parsed, bracket-less) IPv6 address. */
function hextets(address: string): number[] | undefined {
  const [head = "", tail] = address.split("::");
  const parse = (s: string) => (s ? s.split(":").map((h) => Number.parseInt(h, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

function isBlockedV6(address: string): boolean {
  const h = hextets(address);
  if (!h) return true; // unreadable: refuse
  const [a = 0, b = 0, , , , f = 0, g = 0, last = 0] = h;
  const embeddedV4 = (g << 16) + last;
  if (h.every((x) => x === 0)) return true; // :: unspecified
  if (h.slice(0, 7).every((x) => x === 0) && last === 1) return true; // ::1 loopback
  if (h.slice(0, 5).every((x) => x === 0) && f === 0xffff) return isBlockedV4(embeddedV4 >>> 0); // v4-mapped
  if (h.slice(0, 6).every((x) => x === 0)) return true; // v4-compatible (deprecated)
  if (a === 0x64 && b === 0xff9b) return isBlockedV4(embeddedV4 >>> 0); // NAT64
  if ((a & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local (incl. fd00:ec2::254 metadata)
  if ((a & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((a & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  return false;
}

export function checkUserUrl(raw: string, { allowLocalhost }: { allowLocalhost: boolean }): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: "is not a URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, reason: "must use http or https" };
  if (url.username || url.password) return { ok: false, reason: "must not contain a user name or password" };
  if (url.search || url.hash) return { ok: false, reason: "must not contain a query or fragment" };
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) {
    return allowLocalhost
      ? { ok: true, url: normalised(url) }
      : { ok: false, reason: "must not point at localhost" };
  }
  const v4 = ipv4Number(host);
  if (v4 !== undefined && isBlockedV4(v4))
    return { ok: false, reason: "must not point at a private or reserved address" };
  if (host.startsWith("[") && isBlockedV6(host.slice(1, -1))) {
    return { ok: false, reason: "must not point at a private or reserved address" };
  }
  return { ok: true, url: normalised(url) };
}

/** Stored form: origin + path without a trailing slash. */
function normalised(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
