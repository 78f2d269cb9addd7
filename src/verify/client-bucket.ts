/**
 * The failed-authentication bucket of a client (docs/DESIGN.md#the-key-check): its IPv4 address, or its IPv6 /64,
 * from CF-Connecting-IP; `unknown` when absent or unreadable.
 */
export function clientBucket(ip: string | null | undefined): string {
  const value = ip?.trim() ?? "";
  if (!value) return "unknown";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) return value;
  const hextets = expandIPv6(value);
  if (!hextets) return "unknown";
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 client.
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

function expandIPv6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(":") : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => Number.parseInt(g, 16));
}
