import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { DEPLOYMENT_STATUSES, type DeploymentRow } from "../../db/schema";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { json } from "../../http/schemas";
import {
  createDeployment,
  findDeployment,
  findProject,
  setDeploymentStatus,
} from "../../projects/repository";
import { blockedDetail, decideDeploy } from "../../scanning/deploy-check";
import { findFileSecrets } from "../../scanning/file-secrets";
import {
  keyCheck,
  keyCheckThenBody,
  ownerOf,
  ProjectIdParam,
  projectIdOf,
  resourceId,
  v1Problems,
  v1Route,
} from "./common";
import { acknowledgement, recordBlocked } from "./deploy-secrets";

const DeploymentSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    status: z.enum(DEPLOYMENT_STATUSES),
    url: z.url(),
    createdAt: z.iso.datetime(),
  })
  .openapi("Deployment");

/** What the deploy pipeline receives on `DEPLOY_QUEUE`. */
export interface DeployMessage {
  deploymentId: string;
  projectId: string;
  ownerId: string;
}

const DeployRequestSchema = z
  .object({
    acknowledgeSecrets: z.boolean().optional().openapi({
      description:
        "Deploy although the files hold provider-key patterns (audited). A live VULK API key is never overridable.",
    }),
  })
  .strict()
  .openapi("DeployRequest");

const tags = ["Public API"];
const routes = {
  create: createRoute({
    ...v1Route,
    tags,
    method: "post",
    path: "/v1/projects/{id}/deployments",
    summary: "Deploy the project to its live URL (queued), once its files pass the secret check",
    description:
      "Every file is scanned first (docs/DESIGN.md#secrets-in-files): a live `vk_sk_` key → 422 " +
      "`secrets_in_files`; provider-key patterns → the same 422 unless `acknowledgeSecrets` is true.",
    middleware: keyCheckThenBody("deploy:write"),
    request: { params: ProjectIdParam, body: { required: false, content: json(DeployRequestSchema) } },
    responses: {
      202: { description: "Queued", content: json(DeploymentSchema) },
      ...v1Problems(400, 404, 413, 415, 422),
    },
  }),
  get: createRoute({
    ...v1Route,
    tags,
    method: "get",
    path: "/v1/projects/{id}/deployments/{deploymentId}",
    summary: "A deployment's status",
    middleware: keyCheck("projects:read"),
    request: {
      params: ProjectIdParam.extend({
        deploymentId: z.string().openapi({ param: { name: "deploymentId", in: "path" }, format: "uuid" }),
      }),
    },
    responses: {
      200: { description: "The deployment", content: json(DeploymentSchema) },
      ...v1Problems(404),
    },
  }),
};

const toDeployment = (row: DeploymentRow) => ({
  id: row.id,
  projectId: row.projectId,
  status: row.status as (typeof DEPLOYMENT_STATUSES)[number],
  url: row.url,
  createdAt: row.createdAt.toISOString(),
});

/** Where a project goes live. */
export const liveUrl = (projectId: string) => `https://${projectId}.vulk.app`;

export function registerV1Deployments(app: OpenAPIHono<AppEnv>): void {
  app.openapi(routes.create, async (c) => {
    const projectId = projectIdOf(c, c.req.valid("param").id);
    const db = c.get("stores").db;
    const project = await findProject(db, ownerOf(c), projectId);
    if (!project) throw new ApiError("not_found", "No such project.");
    const check = decideDeploy(
      await findFileSecrets(db, project.files),
      c.req.valid("json").acknowledgeSecrets === true,
    );
    if (check.kind === "blocked") {
      await recordBlocked(c, project.project, check);
      throw new ApiError("secrets_in_files", blockedDetail(check), {
        extensions: { secrets: check.findings },
      });
    }
    const audit =
      check.acknowledged.length > 0 ? acknowledgement(c, projectId, check.acknowledged) : undefined;
    const row = await createDeployment(db, ownerOf(c), projectId, liveUrl(projectId), audit);
    if (!row) throw new ApiError("not_found", "No such project.");
    const queue = c.env.DEPLOY_QUEUE;
    if (queue) {
      const message: DeployMessage = { deploymentId: row.id, projectId, ownerId: row.ownerId };
      try {
        await queue.send(message);
      } catch (error) {
        await setDeploymentStatus(db, row.id, "failed");
        throw new ApiError("service_unavailable", "The deployment could not be queued; try again.", {
          internal: error,
        });
      }
    }
    return c.json(toDeployment(row), 202);
  });

  app.openapi(routes.get, async (c) => {
    const params = c.req.valid("param");
    const row = await findDeployment(
      c.get("stores").db,
      ownerOf(c),
      projectIdOf(c, params.id),
      resourceId(params.deploymentId, "deployment"),
    );
    if (!row) throw new ApiError("not_found", "No such deployment.");
    return c.json(toDeployment(row), 200);
  });
}
