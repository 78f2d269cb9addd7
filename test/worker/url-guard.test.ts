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
    expect(checkUserUrl("http://127.0.0.1:11434", { allowLocalhost: true }).ok).toBe(false);
  });
});
