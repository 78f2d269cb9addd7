import { isIPv4, parseIp } from "../lib/ip";

/**
 * The failed-authentication bucket of a client (docs/DESIGN.md#failed-authentication): its IPv4
 * address, or its IPv6 /64, from CF-Connecting-IP; `unknown` when absent or unreadable. An
 * IPv4-mapped IPv6 address is its IPv4 client. Parsed by the Worker's one IP parser.
 */
export function clientBucket(ip: string | null | undefined): string {
  const address = parseIp(ip ?? "");
  if (!address) return "unknown";
  if (isIPv4(address)) return address.toString();
  if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
  return `${address.parts
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}
