import { describe, expect, it } from "vitest";
import { checkUserUrl } from "../../src/providers/url-guard";

const production = { allowLocalhost: false };

describe("user URL guard (pure: nothing is fetched)", () => {
  const refused = [
    "http://127.0.0.1:11434",
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://localhost:11434",
    "http://api.localhost/",
    "http://user:pass@example.com/",
    "http://token@example.com/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "not a url",
    "https://example.com/v1?key=1",
  ];
  it.each(refused)("refuses %s", (url) => {
    expect(checkUserUrl(url, production).ok).toBe(false);
  });

  // Private-range literals are judged as strings only: no request is ever made to them.
  const privateLiterals = [
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/",
    "http://100.64.0.1/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
  ];
  it.each(privateLiterals)("refuses the private literal %s", (url) => {
    expect(checkUserUrl(url, production).ok).toBe(false);
  });

  // Spellings that slipped past the hand-written parser: a root dot, embedded IPv4, old ranges.
  const evasions = [
    "http://localhost./",
    "http://LocalHost./",
    "http://a.localhost./",
    "http://A.LOCALHOST/",
    "http://127.0.0.1./",
    "http://[::ffff:0:7f00:1]/", // IPv4-translated (::ffff:0:0:0/96) 127.0.0.1
    "http://[::ffff:0:a00:1]/", // IPv4-translated 10.0.0.1
    "http://[2002:7f00:1::]/", // 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/", // 6to4 of 169.254.169.254
    "http://[2001:0:a00:1::1]/", // Teredo, server 10.0.0.1
    "http://[2001:0:808:808::80ff:fffe]/", // Teredo, public server, client 127.0.0.1 (inverted)
    "http://[64:ff9b::a9fe:a9fe]/", // NAT64 of 169.254.169.254
    "http://[64:ff9b:1::808:808]/", // NAT64 local-use prefix
    "http://[fec0::1]/", // deprecated site-local
    "http://[2001:db8::1]/", // documentation
    "http://[100::1]/", // discard-only
    "http://192.0.2.1/", // documentation
    "http://255.255.255.255/",
  ];
  it.each(evasions)("refuses the disguised literal %s", (url) => {
    expect(checkUserUrl(url, production).ok).toBe(false);
  });

  // Public addresses, also inside the IPv6 forms that embed an IPv4 address.
  const publicLiterals = [
    "http://8.8.8.8/",
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[2002:808:808::1]/",
    "http://[64:ff9b::808:808]/",
  ];
  it.each(publicLiterals)("accepts the public literal %s", (url) => {
    expect(checkUserUrl(url, production).ok).toBe(true);
  });

  it("accepts public names and normalises the stored form", () => {
    expect(checkUserUrl("https://llm.example.com/v1/", production)).toEqual({
      ok: true,
      url: "https://llm.example.com/v1",
    });
    expect(checkUserUrl("HTTPS://LLM.Example.com:8443", production)).toEqual({
      ok: true,
      url: "https://llm.example.com:8443",
    });
  });

  it("accepts localhost in development only", () => {
    expect(checkUserUrl("http://localhost:11434", { allowLocalhost: true })).toEqual({
      ok: true,
      url: "http://localhost:11434",
    });
    expect(checkUserUrl("http://localhost.:11434", { allowLocalhost: true }).ok).toBe(true);
    expect(checkUserUrl("http://127.0.0.1:11434", { allowLocalhost: true }).ok).toBe(false);
  });
});
