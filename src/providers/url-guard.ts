/**
 * User-supplied provider URLs (Ollama, Custom), checked before any fetch
 * (docs/DESIGN.md#provider-keys): http(s), no userinfo, no IP literal outside the public unicast
 * space, in any numeric spelling; `localhost` only in development. Pure.
 *
 * The WHATWG URL parser already turns every IPv4 spelling (`0x7f000001`, `2130706433`, `127.1`)
 * into dotted form and compresses IPv6; `ipaddr.js` then parses the literal and names its range.
 * Names that resolve to private addresses are the platform's job (`global_fetch_strictly_public`).
 */
import { type IPv4, type IPv6, ipv4FromGroups, isIPv4, parseIp } from "../lib/ip";

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: string };

const PRIVATE = "must not point at a private or reserved address";

/** `localhost`, any `*.localhost`, in any case and with or without the root's trailing dot. */
export function isLocalhostName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return host === "localhost" || host.endsWith(".localhost");
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
  if (isLocalhostName(url.hostname)) {
    return allowLocalhost
      ? { ok: true, url: normalised(url) }
      : { ok: false, reason: "must not point at localhost" };
  }
  const literal = ipLiteral(url.hostname);
  if (literal === "unreadable" || (literal && !isPublicUnicast(literal)))
    return { ok: false, reason: PRIVATE };
  return { ok: true, url: normalised(url) };
}

/** The host as an address when it is an IP literal; `undefined` for a name. */
function ipLiteral(hostname: string): IPv4 | IPv6 | "unreadable" | undefined {
  if (hostname.startsWith("[")) return parseIp(hostname) ?? "unreadable";
  if (/^[0-9.]+$/.test(hostname)) return parseIp(hostname) ?? "unreadable";
  return undefined;
}

/**
 * Only ipaddr.js's `unicast` range is public. IPv6 forms that carry an IPv4 address (mapped,
 * the NAT64 well-known prefix, 6to4, Teredo's server and client) are judged by every IPv4 they
 * carry; every other named range (unique local, site local, link local, documentation, …) is
 * refused.
 */
function isPublicUnicast(address: IPv4 | IPv6): boolean {
  if (isIPv4(address)) return address.range() === "unicast";
  const embedded = embeddedIPv4(address);
  if (embedded) return embedded.every((v4) => v4.range() === "unicast");
  return address.range() === "unicast";
}

function embeddedIPv4(v6: IPv6): IPv4[] | undefined {
  const [, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = v6.parts;
  switch (v6.range()) {
    case "ipv4Mapped":
      return [ipv4FromGroups(p6, p7)];
    case "rfc6052": // the well-known 64:ff9b::/96 carries it in the last 32 bits; 64:ff9b:1::/48 (local use) is refused
      return p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0
        ? [ipv4FromGroups(p6, p7)]
        : undefined;
    case "6to4":
      return [ipv4FromGroups(p1, p2)];
    case "teredo": // the server in bits 32–63, the client inverted in the last 32
      return [ipv4FromGroups(p2, p3), ipv4FromGroups(~p6 & 0xffff, ~p7 & 0xffff)];
    default:
      return undefined;
  }
}

/** Stored form: origin + path without a trailing slash. */
function normalised(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
