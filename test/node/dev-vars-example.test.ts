/** .dev.vars.example holds placeholders the Worker refuses to run with (docs/DESIGN.md#configuration). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SESSION_SECRET_PLACEHOLDER } from "../../src/config/env";

describe(".dev.vars.example", () => {
  it("ships exactly the SESSION_SECRET placeholder the configuration check refuses", () => {
    const example = readFileSync(new URL("../../.dev.vars.example", import.meta.url), "utf8");
    expect(example).toMatch(new RegExp(`^SESSION_SECRET=${SESSION_SECRET_PLACEHOLDER}$`, "m"));
  });
});
