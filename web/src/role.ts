// The caller's role in an organization, as GET /api/0/organizations/{org}/ tells it. Pages hide
// what the role may not do (the server refuses it anyway); an unknown role hides nothing.
import { useEffect, useState } from "react";
import { enc, get } from "./api";
import type { OrganizationDetails } from "./types";

const RANK: Record<string, number> = { member: 1, admin: 2, manager: 2, owner: 3 };
const cache = new Map<string, Promise<string | null>>();

function fetchRole(org: string): Promise<string | null> {
  let role = cache.get(org);
  if (!role) {
    role = get<OrganizationDetails>(`/organizations/${enc(org)}/`).then(
      (details) => details.role ?? null,
      () => null,
    );
    cache.set(org, role);
    // Roles change (an admin demotes someone): ask again on the next page that needs it.
    void role.finally(() => window.setTimeout(() => cache.delete(org), 30000));
  }
  return role;
}

/** The role ("member", "admin", "owner"); undefined while loading, null when the server does not say. */
export function useOrgRole(org: string): string | null | undefined {
  const [role, setRole] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    let cancelled = false;
    setRole(undefined);
    if (org) void fetchRole(org).then((r) => !cancelled && setRole(r));
    return () => {
      cancelled = true;
    };
  }, [org]);
  return role;
}

/** Admin actions are shown once the role is known, unless it is below admin. */
export function canAdmin(role: string | null | undefined): boolean {
  if (role === undefined) return false;
  return role === null || (RANK[role] ?? 0) >= RANK.admin;
}
