import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";

/** A `text[]` parameter. (Drizzle expands a JS array into a list of parameters, so pass a literal.) */
export function textArray(values: readonly string[]): SQL {
  const literal = `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
  return sql`${literal}::text[]`;
}

/** A nullable `uuid[]` parameter (ids already checked to be UUIDs). */
export function uuidArray(values: readonly string[] | null): SQL {
  return values === null ? sql`null::uuid[]` : sql`${`{${values.join(",")}}`}::uuid[]`;
}

/** A nullable `timestamptz` parameter. */
export function timestamptz(value: Date | null | undefined): SQL {
  return sql`${value ? value.toISOString() : null}::timestamptz`;
}

interface Listable {
  id: AnyPgColumn;
  ownerId: AnyPgColumn;
  createdAt: AnyPgColumn;
}

/**
 * Keyset pagination, newest first: the rows after the cursor row `after` (an id of the same owner).
 * An unknown cursor yields no rows rather than restarting the list.
 */
export function afterCursor(
  table: PgTable & Listable,
  ownerId: string,
  after: string | undefined,
): SQL | undefined {
  if (!after) return undefined;
  return sql`(${table.createdAt}, ${table.id}) < (select ${table.createdAt}, ${table.id} from ${table} where ${table.id} = ${after}::uuid and ${table.ownerId} = ${ownerId})`;
}
