/** Project content rules (docs/DESIGN.md#public-api-resources), pure. */
import { hasControlCharacters } from "../lib/text";

export const PROJECT_LIMITS = {
  pathChars: 256,
  fileBytes: 1024 * 1024,
  files: 200,
  projectBytes: 10 * 1024 * 1024,
  projectsPerOwner: 100,
} as const;

/**
 * A name a plain object cannot hold as its own: assigning `__proto__` sets the prototype instead,
 * so every copy of a files object (the parser's, an export's) would lose or mangle it.
 * `constructor`, `prototype` and the like are ordinary own names and stay allowed.
 */
export const isUnholdableName = (name: string): boolean => name === "__proto__";

/** Why a path is refused, or `null` when it is a clean relative path. */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return "must not be empty";
  if (path.length > PROJECT_LIMITS.pathChars) return `must be at most ${PROJECT_LIMITS.pathChars} characters`;
  if (path.includes("\0")) return "must not contain NUL";
  if (isUnholdableName(path)) return "must not be __proto__";
  if (path.includes("\\")) return "must use / as separator, not backslash";
  if (path.startsWith("/")) return "must be relative (no leading /)";
  if (hasControlCharacters(path)) return "must not contain control characters";
  for (const segment of path.split("/")) {
    if (segment === "..") return "must not contain ..";
    if (segment === "" || segment === ".") return "must not contain empty or . segments";
  }
  return null;
}

export const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

export type SizeProblem = { code: "payload_too_large"; detail: string } | null;

/** Checks a whole set of files against the per-file, file-count and per-project caps. */
export function filesProblem(files: Record<string, string>): SizeProblem {
  const entries = Object.entries(files);
  if (entries.length > PROJECT_LIMITS.files) {
    return { code: "payload_too_large", detail: `A project holds at most ${PROJECT_LIMITS.files} files.` };
  }
  let total = 0;
  for (const [path, content] of entries) {
    const size = utf8Bytes(content);
    if (size > PROJECT_LIMITS.fileBytes) {
      return {
        code: "payload_too_large",
        detail: `${path}: a file holds at most ${PROJECT_LIMITS.fileBytes} bytes.`,
      };
    }
    total += size;
  }
  if (total > PROJECT_LIMITS.projectBytes) {
    return {
      code: "payload_too_large",
      detail: `A project holds at most ${PROJECT_LIMITS.projectBytes} bytes.`,
    };
  }
  return null;
}
