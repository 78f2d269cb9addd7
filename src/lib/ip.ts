/**
 * The one IP address parser of the Worker (URL guard, failed-auth buckets): ipaddr.js, so that
 * ranges and embedded IPv4 forms are named by a maintained table rather than by hand. Pure.
 */
import ipaddr from "ipaddr.js";

export type IPv4 = ipaddr.IPv4;
export type IPv6 = ipaddr.IPv6;

/**
 * A dotted-quad IPv4 or any IPv6 text (brackets and a zone id allowed) as an address;
 * `undefined` when it is neither. IPv4 in other numeric spellings is not read here: the URL
 * parser canonicalises those, and `CF-Connecting-IP` never carries them.
 */
export function parseIp(text: string): IPv4 | IPv6 | undefined {
  const value = text.trim().replace(/^\[(.*)\]$/, "$1");
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return ipaddr.IPv4.parse(value);
  if (ipaddr.IPv6.isValid(value)) return ipaddr.IPv6.parse(value);
  return undefined;
}

/** The IPv4 address written in two 16-bit groups (as IPv6 forms embed it). */
export function ipv4FromGroups(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([(high >> 8) & 255, high & 255, (low >> 8) & 255, low & 255]);
}

export const isIPv4 = (address: IPv4 | IPv6): address is IPv4 => address.kind() === "ipv4";
