ALTER TABLE "provider_keys" DROP CONSTRAINT "provider_keys_status_known";--> statement-breakpoint
ALTER TABLE "provider_keys" ADD COLUMN "last_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "provider_keys" ADD COLUMN "check_attempted_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_keys" ADD COLUMN "rejected_at" timestamp with time zone;--> statement-breakpoint
-- Keys stored before this migration count as checked when they were validated.
UPDATE "provider_keys" SET "check_attempted_at" = coalesce("validated_at", "created_at"), "last_checked_at" = "validated_at";--> statement-breakpoint
CREATE INDEX "provider_keys_recheck_idx" ON "provider_keys" USING btree ("check_attempted_at") WHERE "provider_keys"."status" = 'valid';--> statement-breakpoint
ALTER TABLE "provider_keys" ADD CONSTRAINT "provider_keys_rejected_at" CHECK (("provider_keys"."status" = 'rejected') = ("provider_keys"."rejected_at" is not null));--> statement-breakpoint
ALTER TABLE "provider_keys" ADD CONSTRAINT "provider_keys_status_known" CHECK ("provider_keys"."status" in ('valid', 'needs_reentry', 'rejected'));