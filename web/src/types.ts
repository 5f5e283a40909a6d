// The shapes of Sentry's API that the UI reads. Fields from events are untrusted: they are only
// ever rendered as text.

export interface User {
  id?: string;
  email?: string;
  name?: string;
}

export interface Organization {
  id: string;
  slug: string;
  name: string;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  platform?: string | null;
  organization?: { slug: string; name?: string };
  dateCreated?: string;
}

export interface ProjectKey {
  id: string;
  name: string;
  public: string;
  isActive: boolean;
  dsn: { public: string; secret?: string };
}

export type IssueStatus = "resolved" | "unresolved" | "ignored";

export interface Issue {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  permalink?: string;
  level: string;
  status: IssueStatus;
  statusDetails?: Record<string, unknown>;
  type?: string;
  metadata?: { type?: string; value?: string; title?: string };
  project: { id: string; slug: string; name: string; platform?: string | null };
  count: string;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  platform?: string | null;
  stats?: Record<string, [number, number][]>;
}

export interface Frame {
  filename?: string | null;
  absPath?: string | null;
  module?: string | null;
  package?: string | null;
  function?: string | null;
  lineNo?: number | null;
  colNo?: number | null;
  inApp?: boolean | null;
  context?: [number, string | null][];
  vars?: Record<string, unknown> | null;
}

export interface ExceptionValue {
  type?: string | null;
  value?: string | null;
  module?: string | null;
  mechanism?: { type?: string; handled?: boolean } | null;
  stacktrace?: { frames?: Frame[] } | null;
}

export interface Breadcrumb {
  timestamp?: string | number;
  type?: string;
  category?: string;
  level?: string;
  message?: string;
  data?: Record<string, unknown> | null;
}

export interface Entry {
  type: string;
  data: unknown;
}

export interface Event {
  id: string;
  eventID: string;
  groupID?: string;
  title: string;
  culprit?: string;
  message?: string;
  platform?: string;
  dateCreated?: string;
  dateReceived?: string;
  tags?: { key: string; value: string }[];
  entries?: Entry[];
  contexts?: Record<string, Record<string, unknown>>;
  user?: Record<string, unknown> | null;
  sdk?: { name?: string; version?: string; integrations?: string[]; packages?: { name: string; version: string }[] } | null;
}

export interface TagSummary {
  key: string;
  name?: string;
  totalValues?: number;
  topValues?: { value: string; count: number; name?: string }[];
}

export interface ProjectDetails extends Project {
  retentionDays?: number | null;
  dataScrubber?: boolean;
  dataScrubberDefaults?: boolean;
  scrubIPAddresses?: boolean;
  sensitiveFields?: string[];
  safeFields?: string[];
  fingerprintingRules?: string;
  groupingEnhancements?: string;
}

export interface KeyDetails extends ProjectKey {
  rateLimit?: { window: number; count: number } | null;
  allowedOrigins?: string[];
  dateCreated?: string;
}

export interface RuleItem {
  id: string;
  [key: string]: unknown;
}

export interface AlertRule {
  id: string;
  name: string;
  environment?: string | null;
  status?: string;
  actionMatch?: string;
  filterMatch?: string;
  frequency?: number;
  conditions: RuleItem[];
  filters?: RuleItem[];
  actions: RuleItem[];
  dateCreated?: string;
}

export interface OrganizationDetails extends Organization {
  role?: string;
  retentionDays?: number;
}

export interface Member {
  id: string;
  email: string;
  name?: string;
  role: string;
  pending?: boolean;
  expired?: boolean;
  teams?: string[];
  /** Only in the answer to an invitation (or a new one): the server keeps no copy. */
  inviteLink?: string;
}

export interface Team {
  id: string;
  slug: string;
  name: string;
  memberCount?: number;
  isMember?: boolean;
}

export interface NotificationSettings {
  emailAlerts: boolean;
  projects: Record<string, boolean>;
}

export interface ApiToken {
  id: string;
  name?: string | null;
  scopes: string[];
  dateCreated?: string;
  token?: string;
}
