#!/usr/bin/env node
// `npm run keys:rewrap`: runs the master-key rotation Cron Trigger once on the local Worker started
// by `npm start` (wrangler dev --test-scheduled). Progress appears in that log as `provider_keys_rewrap`
// with `remaining`; run again until it reaches 0.
const port = process.env.PORT || "8787";
const url = `http://127.0.0.1:${port}/__scheduled?cron=${encodeURIComponent("*/10 * * * *")}`;
try {
  const response = await fetch(url);
  console.log(`${response.status} ${await response.text()}`);
  console.log("See the npm start log for the provider_keys_rewrap line (resealed, remaining).");
  process.exit(response.ok ? 0 : 1);
} catch {
  console.error(`Nothing answers at 127.0.0.1:${port}. Start the service with \`npm start\` first.`);
  process.exit(1);
}
