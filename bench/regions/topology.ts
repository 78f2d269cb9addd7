/**
 * The Worker's configuration per design, as the isolates and the writer build their stores from it
 * (src/http/stores.ts). `leased` is the real topology (docs/DESIGN.md#regions): region 0 is the
 * `home` region (the primary itself), every other region has its own database and a continent of
 * its own, so `new RequestStores(config, continent)` picks it as the Worker does from
 * `request.cf.continent`. The other designs run with `single-primary`.
 */
import type { Config } from "../../src/config/env";
import { type KeyCheckTopology, regionsSetting } from "../../src/config/regions";
import type { Design, StoreEndpoint } from "./protocol";

/** Everything of `Config` the key check, RequestStores and the writer read. */
export type CheckConfig = Pick<
  Config,
  "databaseUrl" | "neonFetchEndpoint" | "redis" | "accountRateLimit" | "keyCheck"
>;

/** Continents given to regions 1, 2, …: made up, one each; region 0's is listed by none (→ home). */
const REGION_CONTINENTS = ["EU", "AS", "OC", "AF", "SA", "AN"] as const;
const HOME_CONTINENT = "NA";

/** The `request.cf.continent` of every request of a region's isolates. */
export function continentOf(region: number): string {
  if (region === 0) return HOME_CONTINENT;
  const continent = REGION_CONTINENTS[region - 1];
  if (!continent) throw new Error(`at most ${REGION_CONTINENTS.length + 1} regions: one continent each`);
  return continent;
}

/** A scenario's region name as a region setting names it (`[a-z0-9-]`, at most 32). */
function settingName(name: string, region: number): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return slug && slug !== "home" ? slug : `region-${region}`;
}

/**
 * The design's key-check topology. Leased: regions 1..n-1 with the databases `upstash[1..]`,
 * checked as `UPSTASH_REGIONS` is (names and continents unique, URLs and tokens present).
 */
export function keyCheckOf(
  design: Design,
  regionNames: readonly string[],
  upstash: readonly StoreEndpoint[],
): KeyCheckTopology {
  if (design !== "leased") return { topology: "single-primary" };
  const regions = regionNames.slice(1).map((name, i) => {
    const region = i + 1;
    const store = upstash[region];
    if (!store) throw new Error(`no Upstash server for region ${region}`);
    return {
      name: settingName(name, region),
      continents: [continentOf(region)],
      url: store.url,
      token: store.token,
    };
  });
  return { topology: "leased", regions: regionsSetting.parse(JSON.stringify(regions)) };
}

/** The configuration as the key check reads it; `redis` is the primary of the Worker's view. */
export function checkConfig(config: CheckConfig): Config {
  return config as Config;
}
