/**
 * The failed-auth bucket of a client (docs/DESIGN.md#failed-authentication): the pure mapping, and
 * that an IPv4 client is one bucket however its address is spelled (IPv4-mapped IPv6 folds into it).
 */
import { describe, expect, it } from "vitest";
import { clientBucket } from "../../src/verify/client-bucket";
import { FAILED_AUTH_LIMIT } from "../../src/verify/failed-auth";
import { expectProblem } from "../support/http";
import { v1 } from "../support/v1";

describe("failed-auth bucket of a client address (pure)", () => {
  it.each([
    ["203.0.113.7", "203.0.113.7"],
    [" 203.0.113.7 ", "203.0.113.7"],
    ["::ffff:203.0.113.7", "203.0.113.7"],
    ["::ffff:cb00:7107", "203.0.113.7"],
    ["[::FFFF:203.0.113.7]", "203.0.113.7"],
    ["2001:db8:0:1:aaaa:bbbb:cccc:dddd", "2001:db8:0:1::/64"],
    ["2001:0DB8:0000:0001::1", "2001:db8:0:1::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["[2001:db8:1:2::3]", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("%s is counted as %s", (ip, bucket) => {
    expect(clientBucket(ip)).toBe(bucket);
  });

  it.each([
    null,
    undefined,
    "",
    "  ",
    "not-an-ip",
    "999.1.1.1",
    "1.2.3",
    "2001:db8::1::2",
    "::ffff:1.2.3.4.5",
  ])("%s is unknown", (ip) => {
    expect(clientBucket(ip)).toBe("unknown");
  });
});

/** An address of the benchmarking range 198.18.0.0/15, fresh per call. */
function freshIpv4(): string {
  const [a = 0, b = 0] = crypto.getRandomValues(new Uint8Array(2));
  return `198.${18 + (a & 1)}.${b}.${(a >> 1) + 1}`;
}

const mappedSpellings = (ipv4: string): string[] => {
  const [a, b, c, d] = ipv4.split(".").map(Number) as [number, number, number, number];
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return [
    `::ffff:${ipv4}`,
    `::FFFF:${ipv4}`,
    `0:0:0:0:0:ffff:${ipv4}`,
    `0000:0000:0000:0000:0000:ffff:${ipv4}`,
    `::ffff:${hex}`,
    `0:0:0:0:0:FFFF:${hex.toUpperCase()}`,
  ];
};

describe("clientBucket folds IPv4-mapped spellings (behaviour only)", () => {
  it("every IPv4-mapped spelling of an address is the bucket of that IPv4 address", () => {
    for (const ipv4 of ["192.0.2.1", "198.51.100.254", "203.0.113.7", "10.0.0.1"]) {
      for (const mapped of mappedSpellings(ipv4))
        expect(clientBucket(mapped), mapped).toBe(clientBucket(ipv4));
    }
  });

  it("mapped addresses of different IPv4 clients stay apart, and apart from IPv6 /64s", () => {
    const buckets = ["::ffff:192.0.2.1", "::ffff:192.0.2.2", "::ffff:198.51.100.1", "::1", "2001:db8::1"].map(
      clientBucket,
    );
    expect(new Set(buckets).size).toBe(buckets.length);
    expect(clientBucket("::ffff:192.0.2.1")).not.toBe(clientBucket("::"));
    expect(clientBucket("::ffff:192.0.2.1")).not.toBe("unknown");
  });
});

describe("failed-auth limit of a client seen in both spellings", () => {
  it("failures sent as ::ffff:a.b.c.d count against a.b.c.d (and the other way round)", async () => {
    const ipv4 = freshIpv4();
    for (let i = 0; i < FAILED_AUTH_LIMIT; i++) {
      const ip = i % 2 === 0 ? `::ffff:${ipv4}` : ipv4;
      expect((await v1("Bearer nope", "/v1/key", { ip })).status).toBe(401);
    }
    await expectProblem(await v1("Bearer nope", "/v1/key", { ip: ipv4 }), 429, "rate_limited");
    await expectProblem(await v1("Bearer nope", "/v1/key", { ip: `::ffff:${ipv4}` }), 429, "rate_limited");
  });
});
