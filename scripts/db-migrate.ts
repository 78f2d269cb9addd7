/**
 * `npm run db:migrate`: applies the migrations to the database named by DATABASE_URL (for a deploy:
 * Neon's direct or pooled connection string). The only script that reads DATABASE_URL.
 */
import { migrateDatabase } from "./db/migrate";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "DATABASE_URL is not set. Example: DATABASE_URL='postgres://…neon.tech/db?sslmode=require' npm run db:migrate",
  );
  process.exit(1);
}
await migrateDatabase(url);
console.log(`migrations applied to ${new URL(url).hostname}`);
