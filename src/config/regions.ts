/**
 * The key check's topology (docs/DESIGN.md#regions). `single-primary` (the default): every check
 * asks the one Upstash database. `leased`: a check asks the database of its own region — leases
 * of the key's and the account's budgets, the marker copy, usage — and the primary only for
 * grants and the marker log. This file parses the setting and picks a request's region.
 */
import { z } from "zod";

/** Cloudflare's `request.cf.continent` codes; `*` takes every request no other region takes. */
const CONTINENTS = ["AF", "AN", "AS", "EU", "NA", "OC", "SA", "*"] as const;
export type Continent = (typeof CONTINENTS)[number];

export interface RegionStore {
  /** Short and stable: it names the region in logs and usage (`[a-z0-9-]`). */
  name: string;
  continents: Continent[];
  url: string;
  token: string;
}

export type KeyCheckTopology =
  | { topology: "single-primary" }
  | { topology: "leased"; regions: RegionStore[] };

/** The request's region: its own database, or the primary acting as one (`home`). */
export type CheckRegion =
  | { home: true; name: typeof HOME_REGION }
  | { home: false; name: string; redis: { url: string; token: string } };

/** The primary's name as a region: requests from continents no region lists are checked there. */
export const HOME_REGION = "home";

const regionSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .refine((name) => name !== HOME_REGION, `"${HOME_REGION}" names the primary`),
  continents: z.array(z.enum(CONTINENTS)).min(1),
  url: z.url(),
  token: z.string().trim().min(1),
});

/** `UPSTASH_REGIONS`: a JSON array of regions, names unique, each continent in one region at most. */
export const regionsSetting = z
  .string()
  .optional()
  .transform((raw, ctx): RegionStore[] => {
    if (!raw?.trim()) return [];
    const parsed = z.array(regionSchema).safeParse(safeJson(raw));
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of {name, continents, url, token}" });
      return z.NEVER;
    }
    const names = parsed.data.map((r) => r.name);
    const continents = parsed.data.flatMap((r) => r.continents);
    if (new Set(names).size !== names.length || new Set(continents).size !== continents.length) {
      ctx.addIssue({ code: "custom", message: "region names and continents must each appear once" });
      return z.NEVER;
    }
    return parsed.data;
  });

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** The region that checks a request from `continent` (absent for RPC calls and local requests). */
export function regionFor(topology: KeyCheckTopology, continent: string | undefined): CheckRegion {
  if (topology.topology === "single-primary") return { home: true, name: HOME_REGION };
  const region =
    topology.regions.find((r) => continent !== undefined && (r.continents as string[]).includes(continent)) ??
    topology.regions.find((r) => r.continents.includes("*"));
  if (!region) return { home: true, name: HOME_REGION };
  return { home: false, name: region.name, redis: { url: region.url, token: region.token } };
}
