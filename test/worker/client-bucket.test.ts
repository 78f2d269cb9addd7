import { describe, expect, it } from "vitest";
import { clientBucket } from "../../src/verify/client-bucket";

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
