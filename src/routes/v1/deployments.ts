import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { DEPLOYMENT_STATUSES, type DeploymentRow } from "../../db/schema";
import type { AppEnv } from "../../http/app-env";
import { ApiError } from "../../http/errors";
import { json } from "../../http/schemas";
import { createDeployment, findDeployment, setDeploymentStatus } from "../../projects/repository";
import { keyCheck, ownerOf, ProjectIdParam, projectIdOf, resourceId, v1Problems, v1Route } from "./common";

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

const tags = ["Public API"];
const routes = {
  create: createRoute({
    ...v1Route,
    tags,
    method: "post",
    path: "/v1/projects/{id}/deployments",
    summary: "Deploy the project to its live URL (queued)",
    middleware: keyCheck("deploy:write"),
    request: { params: ProjectIdParam },
    responses: { 202: { description: "Queued", content: json(DeploymentSchema) }, ...v1Problems(404) },
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
    const row = await createDeployment(db, ownerOf(c), projectId, liveUrl(projectId));
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
