-- Issues can be assigned to a member of their organization (Sentry's assignedTo). Deleting the user
-- leaves the issue unassigned rather than deleting it.
ALTER TABLE issues ADD COLUMN assigned_to bigint REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX issues_assigned_to ON issues (assigned_to) WHERE assigned_to IS NOT NULL;

-- The issue list sorts by first seen, event count and user count as well as by last seen; keyset
-- pagination walks these indexes instead of sorting the whole project.
CREATE INDEX issues_project_first_seen ON issues (project_id, first_seen DESC, id DESC);
CREATE INDEX issues_project_times_seen ON issues (project_id, times_seen DESC, id DESC);
CREATE INDEX issues_project_user_count ON issues (project_id, user_count DESC, id DESC);
