/** The pure scanner of project files (docs/DESIGN.md#secrets-in-files). */
import { describe, expect, it } from "vitest";
import { generateKey, randomBase62 } from "../../src/keys/token";
import { entropy, scanFiles } from "../../src/scanning/source-scan";

const scan = (content: string, path = "f.js") => scanFiles([{ path, content }]);
const kinds = (content: string) => scan(content).findings.map((f) => f.kind);
const hex = (n: number) =>
  [...crypto.getRandomValues(new Uint8Array(n / 2))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("source scan: provider-key patterns", () => {
  it.each([
    ["openai_api_key", () => `sk-proj-${randomBase62(60)}T3BlbkFJ${randomBase62(60)}`],
    ["openai_api_key", () => `sk-${randomBase62(20)}T3BlbkFJ${randomBase62(20)}`],
    ["openai_api_key", () => `sk-${randomBase62(48)}`],
    ["anthropic_api_key", () => `sk-ant-api03-${randomBase62(93)}AA`],
    ["google_api_key", () => `AIza${randomBase62(35)}`],
    ["groq_api_key", () => `gsk_${randomBase62(52)}`],
    ["deepseek_api_key", () => `sk-${hex(32)}`],
    ["fireworks_api_key", () => `fw_${randomBase62(24)}`],
    ["together_api_key", () => `tgp_v1_${randomBase62(43)}`],
  ] as const)("finds a %s", (kind, make) => {
    expect(kinds(`const key = "${make()}";\n`)).toEqual([kind]);
  });

  it("finds Mistral and Together keys by the name they are assigned to", () => {
    expect(kinds(`MISTRAL_API_KEY=${randomBase62(32)}\n`)).toEqual(["mistral_api_key"]);
    expect(kinds(`const togetherKey = '${hex(64)}';`)).toEqual(["together_api_key"]);
  });

  it("finds a literal bearer token, not a template or a variable", () => {
    expect(kinds(`curl -H "Authorization: Bearer ${randomBase62(40)}" https://api.example.com`)).toEqual([
      "bearer_token",
    ]);
    expect(kinds(`headers: { Authorization: "Bearer ${randomBase62(40)}" }`)).toEqual(["bearer_token"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the file text holds a template literal.
    expect(kinds("headers: { Authorization: `Bearer ${token}` }")).toEqual([]);
    expect(kinds(`headers: { Authorization: "Bearer " + token }`)).toEqual([]);
    expect(kinds("Authorization: Bearer <your-token-here>")).toEqual([]);
  });

  it("names the path and the 1-based line, never the secret", () => {
    const secret = `gsk_${randomBase62(52)}`;
    const result = scanFiles([
      { path: "a.txt", content: "nothing here\n" },
      { path: "src/config.js", content: `// config\n\nexport const groq = "${secret}";\n` },
    ]);
    expect(result.findings).toEqual([{ path: "src/config.js", line: 3, kind: "groq_api_key" }]);
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it("counts lines across several findings of one file", () => {
    const content = [`a = "AIza${randomBase62(35)}"`, "", "b", `c = "fw_${randomBase62(30)}"`].join("\n");
    expect(scan(content).findings.map((f) => f.line)).toEqual([1, 4]);
  });
});

describe("source scan: false-positive guards", () => {
  it.each([
    "Use scikit-learn (sk-learn) or sk-... in prose; the sk- prefix is OpenAI's.",
    'OPENAI_API_KEY="sk-..."',
    'OPENAI_API_KEY="sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'OPENAI_API_KEY="sk-YOUR_KEY"',
    'OPENAI_API_KEY="sk-proj-YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE_YOUR_KEY_HERE"',
    `const k = "sk-${"a".repeat(48)}";`,
    "const k = 'sk-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV';",
    "GOOGLE_API_KEY=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "task-ant-api03-whatever and mask-proj-thing",
    `not a key: my_gsk_${randomBase62(52)}`,
    "the mistral model is great and together we build",
    "Authorization: Bearer YOUR_TOKEN_GOES_HERE_PLEASE",
    `Authorization: Bearer ${"ab".repeat(20)}`,
  ])("no finding in %s", (text) => {
    expect(scan(text)).toEqual({ findings: [], vulkCandidates: [] });
  });

  it("entropy of a random body is high, of a repeated one low", () => {
    expect(entropy(randomBase62(40))).toBeGreaterThan(4);
    expect(entropy("aaaaabbbbb")).toBe(1);
  });
});

describe("source scan: vk_sk_ candidates", () => {
  it("keeps tokens whose checksum holds, with path and line, for the database to judge", () => {
    const key = generateKey();
    const broken = `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}`;
    const result = scan(`a\nb\nconst k = "${key}"; // and ${broken}\n`, "src/config.js");
    expect(result.vulkCandidates).toEqual([
      { path: "src/config.js", line: 3, kind: "vulk_api_key", token: key },
    ]);
    expect(result.findings).toEqual([]);
  });

  it("a vk_sk_ key in an Authorization header is a candidate, not a bearer finding", () => {
    const result = scan(`Authorization: Bearer ${generateKey()}`);
    expect(result.findings).toEqual([]);
    expect(result.vulkCandidates).toHaveLength(1);
  });
});
