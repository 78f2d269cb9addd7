import { z } from "@hono/zod-openapi";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `?cursor=&limit=` (docs/DESIGN.md#api-conventions): limit 1–100, default 20; the cursor is the last item's id. */
export const PageQuerySchema = z.object({
  cursor: z.string().regex(UUID, "is not a cursor from a previous page").optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

/** Rows fetched with `limit + 1`: the extra row only says that another page exists. */
export function page<Row extends { id: string }, Out>(rows: Row[], limit: number, map: (row: Row) => Out) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { data: items.map(map), nextCursor: rows.length > limit && last ? last.id : null };
}
