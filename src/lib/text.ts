/** True when `text` holds a C0 control character (NUL included) or DEL. */
export function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** U+0000, or a UTF-16 surrogate without its partner: text Postgres (and UTF-8) cannot hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding U+0000 is the point.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

export interface TextIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Every string in a parsed JSON value — member names included — that Postgres `text`/`jsonb`
 * cannot store (SQLSTATE 22021/22P05 otherwise, a 500). Shared by the validation hook and by
 * parsers that run outside it (the secret-scanning report). Pure, iterative.
 */
export function unstorableStrings(value: unknown): TextIssue[] {
  const issues: TextIssue[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop() as (typeof stack)[number];
    if (typeof current === "string") {
      if (!isStorableText(current))
        issues.push({ path, message: "must not contain U+0000 or an unpaired surrogate" });
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: [...path, i] });
    } else if (current !== null && typeof current === "object") {
      const names = Object.keys(current);
      for (let i = names.length - 1; i >= 0; i--) {
        const name = names[i] as string;
        if (!isStorableText(name)) {
          issues.push({
            path: [...path, name],
            message: "the name must not contain U+0000 or an unpaired surrogate",
          });
        }
        stack.push({ value: (current as Record<string, unknown>)[name], path: [...path, name] });
      }
    }
  }
  return issues;
}

/** At most `max` UTF-16 units of `text`, never ending on the first half of a surrogate pair. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
