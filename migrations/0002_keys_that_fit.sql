CREATE TABLE "accounts" (
	"owner_id" text PRIMARY KEY NOT NULL,
	"rate_limit" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_rate_limit_range" CHECK ("accounts"."rate_limit" is null or "accounts"."rate_limit" between 10 and 1000000)
);
--> statement-breakpoint
CREATE TABLE "key_usage" (
	"key_id" uuid NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"ok" integer DEFAULT 0 NOT NULL,
	"denied" integer DEFAULT 0 NOT NULL,
	"limited" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "key_usage_pkey" PRIMARY KEY("key_id","hour")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "projects" uuid[];--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "key_usage" ADD CONSTRAINT "key_usage_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "key_usage_hour_idx" ON "key_usage" USING btree ("hour");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_projects_count" CHECK ("api_keys"."projects" is null or cardinality("api_keys"."projects") between 1 and 100);