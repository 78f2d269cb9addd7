/**
 * What the deploy route records about secrets in files (docs/DESIGN.md#secrets-in-files): the
 * audit event of an acknowledged deployment, and the audit row + owner event of a refused one.
 * Where and what kind, never the secret.
 */
import type { Context } from "hono";
import { actorFromRequest } from "../../audit/events";
import { insertAuditEvent } from "../../audit/repository";
import type { ProjectRow } from "../../db/schema";
import { secretsBlockedEvent } from "../../events/owner-events";
import { publishEvents } from "../../events/publish";
import type { AppEnv } from "../../http/app-env";
import type { DeploymentAudit } from "../../projects/repository";
import type { DeployCheck } from "../../scanning/deploy-check";
import type { SecretFinding } from "../../scanning/source-scan";
import { ownerOf } from "./common";

/** The audit event written with a deployment that ships acknowledged provider-key findings. */
export function acknowledgement(
  c: Context<AppEnv>,
  projectId: string,
  secrets: SecretFinding[],
): DeploymentAudit {
  return {
    action: "deploy.secrets_acknowledged",
    actor: actorFromRequest(ownerOf(c), c.req.raw.headers),
    metadata: { projectId, keyId: c.get("apiKey").id, secrets },
  };
}

/** A refused deployment: audited as `deploy.secrets_blocked`, and sent to `EVENTS_QUEUE` when bound. */
export async function recordBlocked(
  c: Context<AppEnv>,
  project: ProjectRow,
  check: Extract<DeployCheck, { kind: "blocked" }>,
): Promise<void> {
  const ownerId = ownerOf(c);
  const keyId = c.get("apiKey").id;
  await insertAuditEvent(c.get("stores").db, {
    ownerId,
    action: "deploy.secrets_blocked",
    actor: actorFromRequest(ownerId, c.req.raw.headers),
    targetId: project.id,
    metadata: { keyId, secrets: check.findings, overridable: check.overridable },
  });
  const event = secretsBlockedEvent(
    ownerId,
    { id: project.id, name: project.name },
    keyId,
    check.findings,
    check.overridable,
    new Date(),
  );
  await publishEvents(c.env.EVENTS_QUEUE, [event], c.get("logger"));
}
