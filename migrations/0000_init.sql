CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" text NOT NULL,
	"name" text NOT NULL,
	"start" text NOT NULL,
	"hash" text NOT NULL,
	"previous_hash" text,
	"previous_expires_at" timestamp with time zone,
	"permissions" text[] NOT NULL,
	"rate_limit" integer DEFAULT 60 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_hash_key" UNIQUE("hash"),
	CONSTRAINT "api_keys_previous_hash_key" UNIQUE("previous_hash"),
	CONSTRAINT "api_keys_name_length" CHECK (char_length("api_keys"."name") between 1 and 64),
	CONSTRAINT "api_keys_permissions_known" CHECK (cardinality("api_keys"."permissions") > 0 and "api_keys"."permissions" <@ ARRAY['projects:read', 'projects:write', 'deploy:write', 'export:read']::text[]),
	CONSTRAINT "api_keys_rate_limit_range" CHECK ("api_keys"."rate_limit" between 10 and 1000)
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target_id" text,
	"ip" text,
	"user_agent" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_keys" (
	"owner_id" text NOT NULL,
	"provider" text NOT NULL,
	"ciphertext" text NOT NULL,
	"hint" text,
	"base_url" text,
	"status" text DEFAULT 'valid' NOT NULL,
	"validated_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_keys_pkey" PRIMARY KEY("owner_id","provider"),
	CONSTRAINT "provider_keys_provider_known" CHECK ("provider_keys"."provider" in ('openai', 'anthropic', 'gemini', 'deepseek', 'groq', 'mistral', 'together', 'fireworks', 'ollama', 'custom')),
	CONSTRAINT "provider_keys_status_known" CHECK ("provider_keys"."status" in ('valid', 'needs_reentry'))
);
--> statement-breakpoint
CREATE INDEX "api_keys_owner_active_idx" ON "api_keys" USING btree ("owner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE "api_keys"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "audit_events_owner_idx" ON "audit_events" USING btree ("owner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);