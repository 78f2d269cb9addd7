// Typed `env` and `exports` from "cloudflare:workers" (what `wrangler types` would generate).
type VulkKeysEnv = import("./config/env").Env;
declare namespace Cloudflare {
  interface Env extends VulkKeysEnv {}
  interface GlobalProps {
    mainModule: typeof import("./index");
  }
}
