/** Projects, their files and deployments, always scoped to the owner of the calling key. */
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { type Actor, type AuditAction, auditFrom } from "../audit/events";
import type { Database } from "../db/client";
import { type DeploymentRow, deployments, type ProjectRow, projectFiles, projects } from "../db/schema";
import { afterCursor } from "../db/sql";
import { PROJECT_LIMITS, utf8Bytes } from "./rules";

export interface ProjectFile {
  path: string;
  content: string;
}

const owned = (ownerId: string, id: string) => and(eq(projects.id, id), eq(projects.ownerId, ownerId));
const fileRows = (projectId: string, files: Record<string, string>) =>
  Object.entries(files).map(([path, content]) => ({ projectId, path, content, size: utf8Bytes(content) }));

/**
 * Project and files in one transaction, unless the owner already has `projectsPerOwner` projects.
 * The per-owner advisory lock makes the count and the insert atomic under concurrent creates
 * (neon-http has no interactive transactions); the files ride in the same statement as the
 * project, so a refused project leaves nothing behind.
 */
export async function createProject(
  db: Database,
  ownerId: string,
  input: { name: string; description: string | null; files: Record<string, string> },
): Promise<{ project: ProjectRow; files: ProjectFile[] } | "quota_exceeded"> {
  const id = crypto.randomUUID();
  const rows = fileRows(id, input.files);
  const files = JSON.stringify(rows.map(({ path, content, size }) => ({ path, content, size })));
  const [, , [project]] = await db.batch([
    db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`projects:owner:${ownerId}`}, 0))`),
    db.execute(sql`with p as (
        insert into projects (id, owner_id, name, description)
        select ${id}::uuid, ${ownerId}, ${input.name}, ${input.description}
        where (select count(*) from projects where owner_id = ${ownerId}) < ${PROJECT_LIMITS.projectsPerOwner}
        returning id)
      insert into project_files (project_id, path, content, size)
      select p.id, f.path, f.content, f.size
      from p, jsonb_to_recordset(${files}::jsonb) as f(path text, content text, size integer)`),
    db.select().from(projects).where(eq(projects.id, id)),
  ]);
  if (!project) return "quota_exceeded";
  return { project, files: rows.map(({ path, content }) => ({ path, content })) };
}

/** The projects a key may reach: every one of its owner's (null), or only these ids. */
export type ProjectScope = readonly string[] | null;

export function listProjects(
  db: Database,
  ownerId: string,
  limit: number,
  after?: string,
  scope: ProjectScope = null,
): Promise<ProjectRow[]> {
  return db
    .select()
    .from(projects)
    .where(
      and(
        eq(projects.ownerId, ownerId),
        afterCursor(projects, ownerId, after),
        scope ? inArray(projects.id, [...scope]) : undefined,
      ),
    )
    .orderBy(desc(projects.createdAt), desc(projects.id))
    .limit(limit);
}

/** Which of these ids are projects of the owner. */
export async function ownedProjectIds(
  db: Database,
  ownerId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: projects.id })
    .from(projects)
    .where(and(eq(projects.ownerId, ownerId), inArray(projects.id, [...ids])));
  return new Set(rows.map((r) => r.id));
}

export async function findProject(
  db: Database,
  ownerId: string,
  id: string,
): Promise<{ project: ProjectRow; files: ProjectFile[] } | undefined> {
  const [found, files] = await db.batch([
    db.select().from(projects).where(owned(ownerId, id)),
    db
      .select({ path: projectFiles.path, content: projectFiles.content })
      .from(projectFiles)
      .innerJoin(projects, eq(projects.id, projectFiles.projectId))
      .where(and(eq(projectFiles.projectId, id), eq(projects.ownerId, ownerId)))
      .orderBy(asc(projectFiles.path)),
  ]);
  const [project] = found;
  return project ? { project, files } : undefined;
}

export async function updateProject(
  db: Database,
  ownerId: string,
  id: string,
  changes: { name?: string | undefined; description?: string | null | undefined },
): Promise<ProjectRow | undefined> {
  const [row] = await db
    .update(projects)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(owned(ownerId, id))
    .returning();
  return row;
}

export type PutFileResult = "created" | "replaced" | "not_found" | "too_large";

/**
 * Writes one file unless that would break the file-count or project-size cap. The per-project
 * advisory lock makes check-and-write atomic under concurrent PUTs.
 */
export async function putFile(
  db: Database,
  ownerId: string,
  id: string,
  file: ProjectFile,
): Promise<PutFileResult> {
  const size = utf8Bytes(file.content);
  const [, existed, written] = await db.batch([
    db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`projects:${id}`}, 0))`),
    db.execute(sql`select 1 from project_files where project_id = ${id}::uuid and path = ${file.path}`),
    db.execute(sql`with f as (
        insert into project_files (project_id, path, content, size)
        select ${id}::uuid, ${file.path}, ${file.content}, ${size}
        where exists (select 1 from projects where id = ${id}::uuid and owner_id = ${ownerId})
          and (select count(*) from project_files where project_id = ${id}::uuid and path <> ${file.path}) < ${PROJECT_LIMITS.files}
          and (select coalesce(sum(size), 0) from project_files where project_id = ${id}::uuid and path <> ${file.path}) + ${size} <= ${PROJECT_LIMITS.projectBytes}
        on conflict (project_id, path) do update set content = excluded.content, size = excluded.size, updated_at = now()
        returning project_id)
      update projects set updated_at = now() from f where projects.id = f.project_id`),
  ]);
  if (written.rowCount) return existed.rowCount ? "replaced" : "created";
  const [project] = await db.select({ id: projects.id }).from(projects).where(owned(ownerId, id));
  return project ? "too_large" : "not_found";
}

/** An audit event written by the same statement as the deployment (say, secrets acknowledged). */
export interface DeploymentAudit {
  action: AuditAction;
  actor: Actor;
  metadata: Record<string, unknown>;
}

export async function createDeployment(
  db: Database,
  ownerId: string,
  projectId: string,
  url: string,
  audit?: DeploymentAudit,
): Promise<DeploymentRow | undefined> {
  const id = crypto.randomUUID();
  const insert = sql`insert into deployments (id, project_id, owner_id, url)
      select ${id}::uuid, id, owner_id, ${url} from projects where id = ${projectId}::uuid and owner_id = ${ownerId}`;
  const [, [row]] = await db.batch([
    db.execute(
      audit
        ? sql`with d as (${insert} returning id, owner_id)
            ${auditFrom(sql`d`, audit.action, audit.actor, sql`d.id`, sql`d.owner_id`, audit.metadata)}`
        : insert,
    ),
    db.select().from(deployments).where(eq(deployments.id, id)),
  ]);
  return row;
}

export async function setDeploymentStatus(
  db: Database,
  id: string,
  status: DeploymentRow["status"],
): Promise<void> {
  await db.update(deployments).set({ status }).where(eq(deployments.id, id));
}

export async function findDeployment(
  db: Database,
  ownerId: string,
  projectId: string,
  id: string,
): Promise<DeploymentRow | undefined> {
  const [row] = await db
    .select()
    .from(deployments)
    .where(
      and(eq(deployments.id, id), eq(deployments.projectId, projectId), eq(deployments.ownerId, ownerId)),
    );
  return row;
}
