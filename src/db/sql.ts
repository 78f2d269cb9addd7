import { type SQL, sql } from "drizzle-orm";

/** A `text[]` parameter. (Drizzle expands a JS array into a list of parameters, so pass a literal.) */
export function textArray(values: readonly string[]): SQL {
  const literal = `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
  return sql`${literal}::text[]`;
}

/** A nullable `timestamptz` parameter. */
export function timestamptz(value: Date | null | undefined): SQL {
  return sql`${value ? value.toISOString() : null}::timestamptz`;
}
