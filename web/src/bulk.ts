import { enc, isMissing, put } from "./api";
import type { Issue } from "./types";

export type BulkChange = { status: "resolved" | "unresolved" | "ignored"; statusDetails?: Record<string, unknown> } | { merge: 1 };

/**
 * Sentry's bulk update, one call per project. A server without it (404/405) gets one
 * PUT /issues/{id}/ per issue instead; merging has no such fallback.
 */
export async function bulkUpdate(org: string, issues: Issue[], change: BulkChange): Promise<void> {
  const byProject = new Map<string, Issue[]>();
  for (const issue of issues) {
    const list = byProject.get(issue.project.slug) ?? [];
    list.push(issue);
    byProject.set(issue.project.slug, list);
  }
  if ("merge" in change && byProject.size > 1) throw new Error("Only issues of one project can be merged.");
  for (const [project, group] of byProject) {
    const ids = group.map((issue) => `id=${enc(issue.id)}`).join("&");
    try {
      await put(`/projects/${enc(org)}/${enc(project)}/issues/?${ids}`, change);
    } catch (error) {
      if (!isMissing(error)) throw error;
      if ("merge" in change) throw new Error("This server cannot merge issues yet.");
      for (const issue of group) await put(`/issues/${enc(issue.id)}/`, change);
    }
  }
}
