#include "org_api.hpp"

#include <spdlog/spdlog.h>

#include <initializer_list>

#include "auth.hpp"
#include "password_links.hpp"
#include "rookery/grouping/sentry_grouping.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

#define ROOKERY_MS(column) "(extract(epoch FROM " column ") * 1000)::bigint"

constexpr const char* kOrgAccess = "org_access";
constexpr const char* kOrgsOf = "org_list";
constexpr const char* kOrgSlugTaken = "org_slug_taken";
constexpr const char* kCreateOrg = "org_create";
constexpr const char* kAddMember = "org_add_member";
constexpr const char* kCreateTeam = "org_create_team";
constexpr const char* kAddTeamMember = "org_add_team_member";
constexpr const char* kMembers = "org_members";
constexpr const char* kUserIdByEmail = "org_user_by_email";
constexpr const char* kCreateInvitedUser = "org_create_invited_user";
constexpr const char* kTeamBySlug = "org_team_by_slug";
constexpr const char* kLockOwners = "org_lock_owners";
constexpr const char* kSetRole = "org_set_role";
constexpr const char* kRemoveMember = "org_remove_member";
constexpr const char* kRemoveTeamMemberships = "org_remove_team_memberships";
constexpr const char* kRemoveTeamMember = "org_remove_team_member";
constexpr const char* kTeams = "org_teams";
constexpr const char* kFirstTeam = "org_first_team";
constexpr const char* kProjects = "org_projects";
constexpr const char* kProjectBySlug = "org_project_by_slug";
constexpr const char* kProjectSlugTaken = "org_project_slug_taken";
constexpr const char* kCreateProject = "org_create_project";
constexpr const char* kAddProjectTeam = "org_add_project_team";
constexpr const char* kUpdateProject = "org_update_project";
constexpr const char* kDeleteProject = "org_delete_project";
constexpr const char* kKeys = "org_keys";
constexpr const char* kKey = "org_key";
constexpr const char* kCreateKey = "org_create_key";
constexpr const char* kUpdateKey = "org_update_key";
constexpr const char* kDeleteKey = "org_delete_key";
constexpr const char* kTokens = "org_tokens";
constexpr const char* kCreateToken = "org_create_token";
constexpr const char* kDeleteToken = "org_delete_token";

constexpr const char* kProjectColumns =
    "p.id, p.slug, p.name, p.platform, " ROOKERY_MS(
        "p.created_at") ", p.retention_days, p.scrub_data, p.scrub_ip_addresses, "
                        "array_to_json(p.sensitive_fields)::text, array_to_json(p.safe_fields)::text, "
                        "p.fingerprinting_rules, p.stacktrace_rules, "
                        "coalesce((SELECT json_agg(json_build_object('id', t.id::text, 'slug', t.slug, 'name', t.name) "
                        "ORDER BY t.slug) FROM teams t JOIN project_teams pt ON pt.team_id = t.id "
                        "WHERE pt.project_id = p.id)::text, '[]')";
constexpr const char* kKeyColumns =
    "k.id, k.public_key, k.secret_key, k.label, k.is_active, " ROOKERY_MS(
        "k.created_at") ", k.rate_limit_count, k.rate_limit_window_seconds, "
                        "array_to_json(k.allowed_origins)::text, k.project_id";

constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxRulesChars = 64 * 1024;

http::Response Conflict(std::string_view detail) {
  return http::MakeErrorResponse(http::Status::conflict, detail);
}

http::Response Json(http::Status status, const rapidjson::StringBuffer& buffer) {
  return http::MakeJsonResponse(status, buffer.GetString());
}

// Admin-level changes need an owner or admin in that organization and, for tokens, a scope that
// allows them.
bool MayManage(const Principal& principal, const OrgRow& org, std::initializer_list<std::string_view> scopes) {
  if (RoleRank(org.role) < RoleRank("admin")) return false;
  for (const auto scope : scopes) {
    if (principal.Has(scope)) return true;
  }
  return false;
}

OrgRow ReadOrg(const pqxx::row& r) {
  return OrgRow{r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                r[3].as<std::int64_t>(), r[4].as<std::string>(), r[5].as<int>()};
}

std::optional<OrgRow> OrgFor(pqxx::transaction_base& tx, const std::string& slug, std::int64_t user_id) {
  const auto rows = tx.exec_prepared(kOrgAccess, slug, user_id);
  if (rows.empty()) return std::nullopt;
  return ReadOrg(rows[0]);
}

std::string RoleName(std::string_view role) {
  if (role == "owner") return "Owner";
  if (role == "admin") return "Admin";
  return "Member";
}

// ---- members ------------------------------------------------------------------------------------

// `invite_link` only in the answer that made it: the database keeps no copy to show later.
void WriteMember(JsonWriter& w, const pqxx::row& r, const std::string& invite_link = "") {
  w.StartObject();
  WriteIdString(w, "id", r[0].as<std::int64_t>());
  WriteString(w, "email", r[2].as<std::string>());
  WriteString(w, "name", r[3].as<std::string>());
  w.Key("user");
  w.StartObject();
  WriteIdString(w, "id", r[1].as<std::int64_t>());
  WriteString(w, "email", r[2].as<std::string>());
  WriteString(w, "name", r[3].as<std::string>());
  w.Key("hasPasswordAuth");
  w.Bool(!r[6].as<bool>());
  w.EndObject();
  const auto role = r[4].as<std::string>();
  WriteString(w, "role", role);
  WriteString(w, "orgRole", role);
  WriteString(w, "roleName", RoleName(role));
  // Invited users have no password until they set one.
  w.Key("pending");
  w.Bool(r[6].as<bool>());
  // Pending with no link that still works: the invitation needs sending again.
  w.Key("expired");
  w.Bool(r[8].as<bool>());
  WriteString(w, "inviteStatus", "approved");
  if (!invite_link.empty()) WriteString(w, "inviteLink", invite_link);
  WriteTime(w, "dateCreated", r[5].as<std::int64_t>());
  WriteStrings(w, "teams", ParseStringArray(r[7].as<std::string>()));
  w.EndObject();
}

std::optional<std::string> ReadRole(const rapidjson::Value& body, std::string& error) {
  auto role = ReadString(body, "orgRole", 20, error);
  if (!role && error.empty()) role = ReadString(body, "role", 20, error);
  if (role && !IsRole(*role)) {
    error = "role: \"" + *role + "\" is not a valid choice (owner, admin, member).";
    return std::nullopt;
  }
  return role;
}

http::Response Members(pqxx::connection& connection, const OrgRow& org, const http::Request& request,
                       const Principal& principal, const WebConfig& config) {
  pqxx::work tx(connection);
  if (request.method() == bhttp::verb::post) {
    if (!MayManage(principal, org, {"member:write", "member:admin", "org:admin"})) return Forbidden();
    rapidjson::Document body;
    std::string error;
    if (!ParseBody(request.body(), body, error)) return BadRequest(error);
    auto email = ReadString(body, "email", 254, error);
    auto role = error.empty() ? ReadRole(body, error) : std::nullopt;
    auto teams = error.empty() ? ReadStringList(body, "teams", 100, 50, error) : std::nullopt;
    if (!error.empty()) return BadRequest(error);
    if (!email || !IsPlausibleEmail(*email)) return BadRequest("email: Enter a valid email address.");
    if (!role) role = "member";
    if (*role == "owner" && org.role != "owner") return Forbidden();
    std::vector<std::int64_t> team_ids;
    for (const auto& slug : teams.value_or(std::vector<std::string>{})) {
      const auto team = tx.exec_prepared(kTeamBySlug, org.id, slug);
      if (team.empty()) return BadRequest("teams: no team \"" + slug + "\" in this organization");
      team_ids.push_back(team[0][0].as<std::int64_t>());
    }
    auto user = tx.exec_prepared(kUserIdByEmail, *email);
    if (user.empty()) {
      std::string lower = *email;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      user = tx.exec_prepared(kCreateInvitedUser, lower);
    }
    const auto user_id = user[0][0].as<std::int64_t>();
    const auto member = tx.exec_prepared(kAddMember, org.id, user_id, *role);
    if (member.empty()) return Conflict("email: is already a member of this organization");
    for (const auto team_id : team_ids) tx.exec_prepared(kAddTeamMember, team_id, user_id);
    // Somebody with an account already signs in as before; a new user gets a set-password link.
    const auto added = tx.exec_prepared(kMembers, org.id, member[0][0].as<std::int64_t>());
    const bool needs_password = added[0][6].as<bool>();
    const std::string link = needs_password ? IssueInviteLink(tx, user_id, added[0][2].as<std::string>(), org.id,
                                                              principal.user_id, config.public_url)
                                            : "";
    const auto rows = tx.exec_prepared(kMembers, org.id, member[0][0].as<std::int64_t>());
    tx.commit();
    spdlog::info("organization {}: user {} added user {} as {}{}", org.slug, principal.user_id, user_id, *role,
                 needs_password ? ", invitation mail queued" : "");
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteMember(w, rows[0], link);
    return Json(http::Status::created, buffer);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& row : tx.exec_prepared(kMembers, org.id, 0)) WriteMember(w, row);
  w.EndArray();
  tx.commit();
  return Json(http::Status::ok, buffer);
}

http::Response Member(pqxx::connection& connection, const OrgRow& org, std::int64_t member_id,
                      const http::Request& request, const Principal& principal, const WebConfig& config) {
  pqxx::work tx(connection);
  const auto current = tx.exec_prepared(kMembers, org.id, member_id);
  if (current.empty()) return NotFoundResponse();
  if (!MayManage(principal, org, {"member:write", "member:admin", "org:admin"})) return Forbidden();
  const auto current_role = current[0][4].as<std::string>();
  // Only owners make or unmake owners.
  if (current_role == "owner" && org.role != "owner") return Forbidden();
  // Locks the owners' rows so two changes at once cannot both remove "the other" last owner.
  const auto owners = tx.exec_prepared(kLockOwners, org.id)[0][0].as<std::int64_t>();
  if (request.method() == bhttp::verb::delete_) {
    if (current_role == "owner" && owners <= 1) {
      return BadRequest("member: the last owner of an organization cannot be removed");
    }
    const auto user_id = current[0][1].as<std::int64_t>();
    tx.exec_prepared(kRemoveTeamMemberships, org.id, user_id);
    tx.exec_prepared(kRemoveMember, org.id, member_id);
    tx.commit();
    spdlog::info("organization {}: user {} removed user {}", org.slug, principal.user_id, user_id);
    return NoContent();
  }
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  // Sentry's "resend invite": a new link (the old one stops working) and a new mail.
  const auto reinvite = ReadBool(body, "reinvite", error);
  if (!error.empty()) return BadRequest(error);
  if (reinvite.value_or(false)) {
    if (!current[0][6].as<bool>()) {
      return BadRequest("reinvite: this member has a password already; \"Forgot password?\" mails a new one");
    }
    const auto user_id = current[0][1].as<std::int64_t>();
    const std::string link =
        IssueInviteLink(tx, user_id, current[0][2].as<std::string>(), org.id, principal.user_id, config.public_url);
    const auto rows = tx.exec_prepared(kMembers, org.id, member_id);
    tx.commit();
    spdlog::info("organization {}: user {} invited user {} again", org.slug, principal.user_id, user_id);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    WriteMember(w, rows[0], link);
    return Json(http::Status::ok, buffer);
  }
  const auto role = ReadRole(body, error);
  if (!error.empty()) return BadRequest(error);
  if (!role) return BadRequest("role: This field is required.");
  if (*role == "owner" && org.role != "owner") return Forbidden();
  if (current_role == "owner" && *role != "owner" && owners <= 1) {
    return BadRequest("role: the last owner of an organization cannot be demoted");
  }
  tx.exec_prepared(kSetRole, org.id, member_id, *role);
  const auto rows = tx.exec_prepared(kMembers, org.id, member_id);
  tx.commit();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteMember(w, rows[0]);
  return Json(http::Status::ok, buffer);
}

// Sentry's POST/DELETE .../members/{id}/teams/{team}/: puts a member on a team or takes them off
// (both idempotent); the answer to POST is the member, teams included.
http::Response MemberTeam(pqxx::connection& connection, const OrgRow& org, const Route& route,
                          const http::Request& request, const Principal& principal) {
  pqxx::work tx(connection);
  const auto current = tx.exec_prepared(kMembers, org.id, route.object_id);
  if (current.empty()) return NotFoundResponse();
  const auto team = tx.exec_prepared(kTeamBySlug, org.id, route.team_slug);
  if (team.empty()) return NotFoundResponse();
  if (!MayManage(principal, org, {"member:write", "member:admin", "org:admin"})) return Forbidden();
  const auto user_id = current[0][1].as<std::int64_t>();
  const auto team_id = team[0][0].as<std::int64_t>();
  if (request.method() == bhttp::verb::delete_) {
    tx.exec_prepared(kRemoveTeamMember, team_id, user_id);
    tx.commit();
    spdlog::info("organization {}: user {} took user {} off team {}", org.slug, principal.user_id, user_id,
                 route.team_slug);
    return NoContent();
  }
  tx.exec_prepared(kAddTeamMember, team_id, user_id);
  const auto rows = tx.exec_prepared(kMembers, org.id, route.object_id);
  tx.commit();
  spdlog::info("organization {}: user {} put user {} on team {}", org.slug, principal.user_id, user_id,
               route.team_slug);
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteMember(w, rows[0]);
  return Json(http::Status::created, buffer);
}

// ---- teams --------------------------------------------------------------------------------------

void WriteTeam(JsonWriter& w, const pqxx::row& r) {
  w.StartObject();
  WriteIdString(w, "id", r[0].as<std::int64_t>());
  WriteString(w, "slug", r[1].as<std::string>());
  WriteString(w, "name", r[2].as<std::string>());
  WriteTime(w, "dateCreated", r[3].as<std::int64_t>());
  w.Key("isMember");
  w.Bool(r[4].as<bool>());
  w.Key("memberCount");
  w.Int64(r[5].as<std::int64_t>());
  w.EndObject();
}

http::Response Teams(pqxx::connection& connection, const OrgRow& org, const http::Request& request,
                     const Principal& principal) {
  pqxx::work tx(connection);
  if (request.method() == bhttp::verb::post) {
    if (!MayManage(principal, org, {"team:write", "team:admin", "org:write", "org:admin"})) return Forbidden();
    rapidjson::Document body;
    std::string error;
    if (!ParseBody(request.body(), body, error)) return BadRequest(error);
    auto name = ReadString(body, "name", kMaxNameChars, error);
    auto slug = error.empty() ? ReadString(body, "slug", 50, error) : std::nullopt;
    if (!error.empty()) return BadRequest(error);
    if ((!name || name->empty()) && (!slug || slug->empty())) return BadRequest("name: This field is required.");
    if (!slug || slug->empty()) slug = Slugify(*name);
    if (!IsValidSlug(*slug)) return BadRequest("slug: Enter a valid slug (letters, numbers, '-' and '_').");
    if (!name || name->empty()) name = *slug;
    const auto team = tx.exec_prepared(kCreateTeam, org.id, *slug, *name);
    if (team.empty()) return Conflict("slug: A team with this slug already exists.");
    tx.exec_prepared(kAddTeamMember, team[0][0].as<std::int64_t>(), principal.user_id);
    for (const auto& row : tx.exec_prepared(kTeams, org.id, principal.user_id)) {
      if (row[0].as<std::int64_t>() != team[0][0].as<std::int64_t>()) continue;
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      WriteTeam(w, row);
      tx.commit();
      return Json(http::Status::created, buffer);
    }
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& row : tx.exec_prepared(kTeams, org.id, principal.user_id)) WriteTeam(w, row);
  w.EndArray();
  tx.commit();
  return Json(http::Status::ok, buffer);
}

// ---- projects -----------------------------------------------------------------------------------

struct ProjectRow {
  std::int64_t id = 0;
  std::string slug;
  std::string name;
  std::optional<std::string> platform;
  std::int64_t created_ms = 0;
  std::optional<int> retention_days;
  bool scrub_data = true;
  bool scrub_ip_addresses = false;
  std::vector<std::string> sensitive_fields;
  std::vector<std::string> safe_fields;
  std::string fingerprinting_rules;
  std::string stacktrace_rules;
  std::string teams_json;
};

ProjectRow ReadProject(const pqxx::row& r) {
  ProjectRow p;
  p.id = r[0].as<std::int64_t>();
  p.slug = r[1].as<std::string>();
  p.name = r[2].as<std::string>();
  if (!r[3].is_null()) p.platform = r[3].as<std::string>();
  p.created_ms = r[4].as<std::int64_t>();
  if (!r[5].is_null()) p.retention_days = r[5].as<int>();
  p.scrub_data = r[6].as<bool>();
  p.scrub_ip_addresses = r[7].as<bool>();
  p.sensitive_fields = ParseStringArray(r[8].as<std::string>());
  p.safe_fields = ParseStringArray(r[9].as<std::string>());
  p.fingerprinting_rules = r[10].as<std::string>();
  p.stacktrace_rules = r[11].as<std::string>();
  p.teams_json = r[12].as<std::string>();
  return p;
}

void WriteProject(JsonWriter& w, const ProjectRow& p, const OrgRow& org, bool details) {
  w.StartObject();
  WriteIdString(w, "id", p.id);
  WriteString(w, "slug", p.slug);
  WriteString(w, "name", p.name);
  w.Key("platform");
  if (p.platform) {
    w.String(p.platform->c_str());
  } else {
    w.Null();
  }
  WriteTime(w, "dateCreated", p.created_ms);
  WriteString(w, "status", "active");
  w.Key("isMember");
  w.Bool(true);
  w.Key("teams");
  w.RawValue(p.teams_json.c_str(), p.teams_json.size(), rapidjson::kArrayType);
  w.Key("organization");
  w.StartObject();
  WriteIdString(w, "id", org.id);
  WriteString(w, "slug", org.slug);
  WriteString(w, "name", org.name);
  w.EndObject();
  if (details) {
    w.Key("retentionDays");
    if (p.retention_days) {
      w.Int(*p.retention_days);
    } else {
      w.Null();
    }
    w.Key("dataScrubber");
    w.Bool(p.scrub_data);
    w.Key("dataScrubberDefaults");
    w.Bool(p.scrub_data);
    w.Key("scrubIPAddresses");
    w.Bool(p.scrub_ip_addresses);
    WriteStrings(w, "sensitiveFields", p.sensitive_fields);
    WriteStrings(w, "safeFields", p.safe_fields);
    WriteString(w, "fingerprintingRules", p.fingerprinting_rules);
    WriteString(w, "groupingEnhancements", p.stacktrace_rules);
  }
  w.EndObject();
}

http::Response ProjectAnswer(http::Status status, const ProjectRow& project, const OrgRow& org) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteProject(w, project, org, true);
  return Json(status, buffer);
}

std::string NewKeyHex() {
  return RandomHex(16);
}

http::Response CreateProject(pqxx::work& tx, const OrgRow& org, std::optional<std::int64_t> team_id,
                             const http::Request& request, const Principal& principal) {
  if (!MayManage(principal, org, {"project:write", "project:admin", "org:write", "org:admin"})) return Forbidden();
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  auto name = ReadString(body, "name", kMaxNameChars, error);
  auto slug = error.empty() ? ReadString(body, "slug", 50, error) : std::nullopt;
  auto platform = error.empty() ? ReadString(body, "platform", 64, error) : std::nullopt;
  if (!error.empty()) return BadRequest(error);
  if (!name || name->empty()) return BadRequest("name: This field is required.");
  if (!slug || slug->empty()) slug = Slugify(*name);
  if (!IsValidSlug(*slug)) return BadRequest("slug: Enter a valid slug (letters, numbers, '-' and '_').");
  if (platform && platform->empty()) platform.reset();
  if (!team_id) {
    const auto first = tx.exec_prepared(kFirstTeam, org.id);
    if (!first.empty()) team_id = first[0][0].as<std::int64_t>();
  }
  // The insert trigger adds the default alert rule.
  const auto created = tx.exec_prepared(kCreateProject, org.id, *slug, *name, platform);
  if (created.empty()) return Conflict("slug: A project with this slug already exists.");
  const auto project_id = created[0][0].as<std::int64_t>();
  if (team_id) tx.exec_prepared(kAddProjectTeam, project_id, *team_id);
  tx.exec_prepared(kCreateKey, project_id, NewKeyHex(), NewKeyHex(), "Default");
  const auto rows = tx.exec_prepared(kProjectBySlug, org.id, *slug);
  tx.commit();
  spdlog::info("organization {}: user {} created project {}", org.slug, principal.user_id, *slug);
  return ProjectAnswer(http::Status::created, ReadProject(rows[0]), org);
}

http::Response OrgProjects(pqxx::connection& connection, const OrgRow& org, const http::Request& request,
                           const Principal& principal) {
  pqxx::work tx(connection);
  if (request.method() == bhttp::verb::post) {
    std::optional<std::int64_t> team_id;
    rapidjson::Document body;
    std::string error;
    if (ParseBody(request.body(), body, error)) {
      const auto team = ReadString(body, "team", 50, error);
      if (!error.empty()) return BadRequest(error);
      if (team) {
        const auto rows = tx.exec_prepared(kTeamBySlug, org.id, *team);
        if (rows.empty()) return BadRequest("team: no team \"" + *team + "\" in this organization");
        team_id = rows[0][0].as<std::int64_t>();
      }
    }
    return CreateProject(tx, org, team_id, request, principal);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& row : tx.exec_prepared(kProjects, org.id)) WriteProject(w, ReadProject(row), org, false);
  w.EndArray();
  tx.commit();
  return Json(http::Status::ok, buffer);
}

http::Response UpdateProject(pqxx::work& tx, const OrgRow& org, ProjectRow project, const http::Request& request) {
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  if (auto name = ReadString(body, "name", kMaxNameChars, error)) {
    if (name->empty()) return BadRequest("name: must not be empty");
    project.name = *name;
  }
  if (auto slug = ReadString(body, "slug", 50, error)) {
    if (!IsValidSlug(*slug)) return BadRequest("slug: Enter a valid slug (letters, numbers, '-' and '_').");
    if (*slug != project.slug && !tx.exec_prepared(kProjectSlugTaken, org.id, *slug).empty()) {
      return Conflict("slug: A project with this slug already exists.");
    }
    project.slug = *slug;
  }
  if (IsNull(body, "platform")) project.platform.reset();
  if (auto platform = ReadString(body, "platform", 64, error)) {
    project.platform = platform->empty() ? std::nullopt : platform;
  }
  if (const auto member = body.FindMember("retentionDays"); member != body.MemberEnd()) {
    if (member->value.IsNull()) {
      project.retention_days.reset();
    } else if (!member->value.IsInt() || member->value.GetInt() < 1 || member->value.GetInt() > 3650) {
      return BadRequest("retentionDays: must be a whole number of days from 1 to 3650, or null");
    } else {
      project.retention_days = member->value.GetInt();
    }
  }
  if (auto value = ReadBool(body, "dataScrubber", error)) project.scrub_data = *value;
  if (auto value = ReadBool(body, "scrubIPAddresses", error)) project.scrub_ip_addresses = *value;
  if (auto value = ReadStringList(body, "sensitiveFields", 200, 200, error)) project.sensitive_fields = *value;
  if (auto value = ReadStringList(body, "safeFields", 200, 200, error)) project.safe_fields = *value;
  // The rules are checked with the worker's own parsers: what is saved is what grouping will use,
  // and a mistake is answered with the line it is on instead of being skipped by every event.
  if (auto value = ReadString(body, "fingerprintingRules", kMaxRulesChars, error)) {
    if (const auto parsed = grouping::ParseFingerprintRules(*value); !parsed) {
      return BadRequest("fingerprintingRules: " + parsed.error());
    }
    project.fingerprinting_rules = *value;
  }
  if (!error.empty()) return BadRequest(error);
  if (auto value = ReadString(body, "groupingEnhancements", kMaxRulesChars, error)) {
    if (const auto parsed = grouping::ParseStacktraceRules(*value); !parsed) {
      return BadRequest("groupingEnhancements: " + parsed.error());
    }
    project.stacktrace_rules = *value;
  }
  if (!error.empty()) return BadRequest(error);
  tx.exec_prepared(kUpdateProject, project.id, project.slug, project.name, project.platform, project.retention_days,
                   project.scrub_data, project.scrub_ip_addresses, JsonStringArray(project.sensitive_fields),
                   JsonStringArray(project.safe_fields), project.fingerprinting_rules, project.stacktrace_rules);
  const auto rows = tx.exec_prepared(kProjectBySlug, org.id, project.slug);
  tx.commit();
  return ProjectAnswer(http::Status::ok, ReadProject(rows[0]), org);
}

// ---- keys ---------------------------------------------------------------------------------------

void WriteKey(JsonWriter& w, const pqxx::row& r, const std::string& relay_public_url) {
  const auto public_key = r[1].as<std::string>();
  const auto secret_key = r[2].as<std::string>();
  const auto project_id = r[9].as<std::int64_t>();
  const auto label = r[3].as<std::string>();
  w.StartObject();
  WriteString(w, "id", public_key);
  WriteString(w, "name", label);
  WriteString(w, "label", label);
  WriteString(w, "public", public_key);
  WriteString(w, "secret", secret_key);
  w.Key("projectId");
  w.Int64(project_id);
  w.Key("isActive");
  w.Bool(r[4].as<bool>());
  WriteTime(w, "dateCreated", r[5].as<std::int64_t>());
  const std::string dsn = MakeDsn(relay_public_url, public_key, project_id);
  const std::string api_base = relay_public_url + "/api/" + std::to_string(project_id);
  w.Key("dsn");
  w.StartObject();
  WriteString(w, "public", dsn);
  WriteString(w, "secret", MakeDsn(relay_public_url, public_key, project_id, secret_key));
  WriteString(w, "store", api_base + "/store/");
  WriteString(w, "security", api_base + "/security/?sentry_key=" + public_key);
  WriteString(w, "minidump", api_base + "/minidump/?sentry_key=" + public_key);
  WriteString(w, "csp", api_base + "/csp-report/?sentry_key=" + public_key);
  w.EndObject();
  w.Key("rateLimit");
  if (r[6].is_null()) {
    w.Null();
  } else {
    w.StartObject();
    w.Key("window");
    w.Int64(r[7].as<std::int64_t>());
    w.Key("count");
    w.Int64(r[6].as<std::int64_t>());
    w.EndObject();
  }
  WriteStrings(w, "allowedOrigins", ParseStringArray(r[8].as<std::string>()));
  w.EndObject();
}

struct KeyState {
  std::string label = "Default";
  bool is_active = true;
  std::optional<std::int64_t> rate_limit_count;
  std::optional<std::int64_t> rate_limit_window;
  std::vector<std::string> allowed_origins{"*"};
};

// Sentry's key update: name, isActive, rateLimit {window, count} (null: none); and allowedOrigins,
// the host patterns the relay accepts browser events from.
std::string ApplyKeyChanges(const rapidjson::Value& body, KeyState& key) {
  std::string error;
  if (auto name = ReadString(body, "name", kMaxNameChars, error)) key.label = name->empty() ? "Default" : *name;
  if (auto active = ReadBool(body, "isActive", error)) key.is_active = *active;
  if (!error.empty()) return error;
  if (const auto limit = body.FindMember("rateLimit"); limit != body.MemberEnd()) {
    if (limit->value.IsNull()) {
      key.rate_limit_count.reset();
      key.rate_limit_window.reset();
    } else {
      if (!limit->value.IsObject()) return "rateLimit: must be {\"window\": seconds, \"count\": n} or null";
      const auto window = limit->value.FindMember("window");
      const auto count = limit->value.FindMember("count");
      if (window == limit->value.MemberEnd() || !window->value.IsInt64() || window->value.GetInt64() < 1 ||
          window->value.GetInt64() > 86400) {
        return "rateLimit.window: must be a whole number of seconds from 1 to 86400";
      }
      if (count == limit->value.MemberEnd() || !count->value.IsInt64() || count->value.GetInt64() < 1 ||
          count->value.GetInt64() > 1'000'000'000) {
        return "rateLimit.count: must be a positive whole number";
      }
      key.rate_limit_window = window->value.GetInt64();
      key.rate_limit_count = count->value.GetInt64();
    }
  }
  if (auto origins = ReadStringList(body, "allowedOrigins", 100, 255, error)) {
    for (const auto& origin : *origins) {
      // The relay keeps them space separated.
      if (origin.find_first_of(" \t\r\n") != std::string::npos) return "allowedOrigins: must not contain spaces";
    }
    key.allowed_origins = origins->empty() ? std::vector<std::string>{"*"} : *origins;
  }
  return error;
}

void SaveKey(pqxx::work& tx, std::int64_t project_id, const std::string& public_key, const KeyState& key) {
  tx.exec_prepared(kUpdateKey, project_id, public_key, key.label, key.is_active, key.rate_limit_count,
                   key.rate_limit_window, JsonStringArray(key.allowed_origins));
}

http::Response KeyAnswer(pqxx::work& tx, http::Status status, std::int64_t project_id, const std::string& public_key,
                         const WebConfig& config) {
  const auto rows = tx.exec_prepared(kKey, project_id, public_key);
  tx.commit();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  WriteKey(w, rows[0], config.relay_public_url);
  return Json(status, buffer);
}

http::Response Keys(pqxx::work& tx, const OrgRow& org, const ProjectRow& project, const Route& route,
                    const http::Request& request, const Principal& principal, const WebConfig& config) {
  const auto method = request.method();
  const bool manage = MayManage(principal, org, {"project:write", "project:admin"});
  if (route.endpoint == Endpoint::kProjectKeys) {
    if (method == bhttp::verb::post) {
      if (!manage) return Forbidden();
      rapidjson::Document body;
      std::string error;
      if (!ParseBody(request.body(), body, error)) return BadRequest(error);
      KeyState key;
      if (auto message = ApplyKeyChanges(body, key); !message.empty()) return BadRequest(message);
      const std::string public_key = NewKeyHex();
      tx.exec_prepared(kCreateKey, project.id, public_key, NewKeyHex(), key.label);
      SaveKey(tx, project.id, public_key, key);
      spdlog::info("project {}: user {} created a key", project.id, principal.user_id);
      return KeyAnswer(tx, http::Status::created, project.id, public_key, config);
    }
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartArray();
    for (const auto& row : tx.exec_prepared(kKeys, project.id)) WriteKey(w, row, config.relay_public_url);
    w.EndArray();
    tx.commit();
    return Json(http::Status::ok, buffer);
  }
  const auto rows = tx.exec_prepared(kKey, project.id, route.key_id);
  if (rows.empty()) return NotFoundResponse();
  if (method == bhttp::verb::get) return KeyAnswer(tx, http::Status::ok, project.id, route.key_id, config);
  if (!manage) return Forbidden();
  if (method == bhttp::verb::delete_) {
    tx.exec_prepared(kDeleteKey, project.id, route.key_id);
    tx.commit();
    spdlog::info("project {}: user {} deleted a key", project.id, principal.user_id);
    return NoContent();
  }
  rapidjson::Document body;
  std::string error;
  if (!ParseBody(request.body(), body, error)) return BadRequest(error);
  const auto& r = rows[0];
  KeyState key;
  key.label = r[3].as<std::string>();
  key.is_active = r[4].as<bool>();
  if (!r[6].is_null()) key.rate_limit_count = r[6].as<std::int64_t>();
  if (!r[7].is_null()) key.rate_limit_window = r[7].as<std::int64_t>();
  key.allowed_origins = ParseStringArray(r[8].as<std::string>());
  if (auto message = ApplyKeyChanges(body, key); !message.empty()) return BadRequest(message);
  SaveKey(tx, project.id, route.key_id, key);
  return KeyAnswer(tx, http::Status::ok, project.id, route.key_id, config);
}

http::Response ProjectScoped(pqxx::connection& connection, const OrgRow& org, const Route& route,
                             const http::Request& request, const Principal& principal, const WebConfig& config) {
  pqxx::work tx(connection);
  const auto rows = tx.exec_prepared(kProjectBySlug, org.id, route.project_slug);
  if (rows.empty()) return NotFoundResponse();
  const ProjectRow project = ReadProject(rows[0]);
  if (route.endpoint != Endpoint::kProject) return Keys(tx, org, project, route, request, principal, config);
  switch (request.method()) {
    case bhttp::verb::put:
      if (!MayManage(principal, org, {"project:write", "project:admin"})) return Forbidden();
      return UpdateProject(tx, org, project, request);
    case bhttp::verb::delete_:
      if (!MayManage(principal, org, {"project:admin", "org:admin"})) return Forbidden();
      tx.exec_prepared(kDeleteProject, project.id);
      tx.commit();
      spdlog::info("organization {}: user {} deleted project {}", org.slug, principal.user_id, project.slug);
      return NoContent();
    default: return ProjectAnswer(http::Status::ok, project, org);
  }
}

// ---- API tokens ---------------------------------------------------------------------------------

void WriteToken(JsonWriter& w, std::int64_t id, const std::string& name, const std::vector<std::string>& scopes,
                std::int64_t created_ms) {
  WriteIdString(w, "id", id);
  WriteString(w, "name", name);
  WriteStrings(w, "scopes", scopes);
  WriteTime(w, "dateCreated", created_ms);
}

http::Response ApiTokens(pqxx::connection& connection, const Route& route, const http::Request& request,
                         const Principal& principal) {
  pqxx::work tx(connection);
  if (route.endpoint == Endpoint::kApiToken) {
    if (tx.exec_prepared(kDeleteToken, route.object_id, principal.user_id).affected_rows() == 0) {
      return NotFoundResponse();
    }
    tx.commit();
    return NoContent();
  }
  if (request.method() == bhttp::verb::post) {
    rapidjson::Document body;
    std::string error;
    if (!ParseBody(request.body(), body, error)) return BadRequest(error);
    const auto name = ReadString(body, "name", kMaxNameChars, error);
    const auto scopes = error.empty() ? ReadStringList(body, "scopes", 32, 32, error) : std::nullopt;
    if (!error.empty()) return BadRequest(error);
    if (!scopes || scopes->empty()) return BadRequest("scopes: This field is required.");
    for (const auto& scope : *scopes) {
      const auto& all = AllScopes();
      if (std::find(all.begin(), all.end(), scope) == all.end()) {
        return BadRequest("scopes: \"" + scope + "\" is not a valid scope");
      }
      // A token cannot mint a token that may do more than its maker.
      if (!principal.Has(scope)) return BadRequest("scopes: \"" + scope + "\" is more than you may grant");
    }
    const std::string token = RandomHex(32);
    const auto row =
        tx.exec_prepared(kCreateToken, principal.user_id, token, name.value_or(""), JsonStringArray(*scopes));
    tx.commit();
    spdlog::info("user {} created API token {}", principal.user_id, row[0][0].as<std::int64_t>());
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    WriteToken(w, row[0][0].as<std::int64_t>(), name.value_or(""), *scopes, row[0][1].as<std::int64_t>());
    WriteString(w, "token", token);
    w.EndObject();
    http::Response response = Json(http::Status::created, buffer);
    response.set(bhttp::field::cache_control, "no-store");
    return response;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartArray();
  for (const auto& row : tx.exec_prepared(kTokens, principal.user_id)) {
    w.StartObject();
    WriteToken(w, row[0].as<std::int64_t>(), row[1].as<std::string>(), ParseStringArray(row[2].as<std::string>()),
               row[3].as<std::int64_t>());
    w.EndObject();
  }
  w.EndArray();
  tx.commit();
  return Json(http::Status::ok, buffer);
}

}  // namespace

void PrepareOrgApi(pqxx::connection& c) {
  const std::string org_columns = "o.id, o.slug, o.name, " ROOKERY_MS("o.created_at") ", m.role, o.retention_days";
  c.prepare("org_api_update_org", "UPDATE organizations SET name = $2, retention_days = $3 WHERE id = $1");
  c.prepare(kOrgAccess, "SELECT " + org_columns +
                            " FROM organizations o JOIN organization_members m ON m.organization_id = o.id "
                            "AND m.user_id = $2 WHERE o.slug = $1");
  c.prepare(kOrgsOf, "SELECT " + org_columns +
                         " FROM organizations o JOIN organization_members m ON m.organization_id = o.id "
                         "WHERE m.user_id = $1 ORDER BY o.name, o.id");
  c.prepare(kOrgSlugTaken, "SELECT 1 FROM organizations WHERE slug = $1");
  c.prepare(kCreateOrg,
            "INSERT INTO organizations (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING "
            "RETURNING id, " ROOKERY_MS("created_at"));
  c.prepare(kAddMember,
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING RETURNING id");
  c.prepare(kCreateTeam,
            "INSERT INTO teams (organization_id, slug, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id");
  c.prepare(kAddTeamMember, "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING");
  c.prepare(kMembers,
            "SELECT m.id, u.id, u.email, u.name, m.role, " ROOKERY_MS(
                "m.created_at") ", u.password_hash IS NULL, "
                                "coalesce((SELECT array_to_json(array_agg(t.slug ORDER BY t.slug)) FROM teams t "
                                "JOIN team_members tm ON tm.team_id = t.id "
                                "WHERE t.organization_id = m.organization_id AND tm.user_id = u.id)::text, '[]'), "
                                "u.password_hash IS NULL AND NOT EXISTS (SELECT 1 FROM password_links l "
                                "WHERE l.user_id = u.id AND l.used_at IS NULL AND l.expires_at > now()) "
                                "FROM organization_members m JOIN users u ON u.id = m.user_id "
                                "WHERE m.organization_id = $1 AND ($2 = 0 OR m.id = $2) ORDER BY m.id");
  c.prepare(kUserIdByEmail, "SELECT id FROM users WHERE lower(email) = lower($1) ORDER BY id LIMIT 1");
  c.prepare(kCreateInvitedUser, "INSERT INTO users (email) VALUES ($1) RETURNING id");
  c.prepare(kTeamBySlug, "SELECT id FROM teams WHERE organization_id = $1 AND slug = $2");
  c.prepare(kLockOwners,
            "SELECT count(*) FROM (SELECT 1 FROM organization_members WHERE organization_id = $1 AND role = 'owner' "
            "FOR UPDATE) owners");
  c.prepare(kSetRole, "UPDATE organization_members SET role = $3 WHERE organization_id = $1 AND id = $2");
  c.prepare(kRemoveMember, "DELETE FROM organization_members WHERE organization_id = $1 AND id = $2");
  c.prepare(kRemoveTeamMember, "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2");
  c.prepare(kRemoveTeamMemberships,
            "DELETE FROM team_members WHERE user_id = $2 AND team_id IN "
            "(SELECT id FROM teams WHERE organization_id = $1)");
  c.prepare(kTeams, "SELECT t.id, t.slug, t.name, " ROOKERY_MS(
                        "t.created_at") ", EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = t.id "
                                        "AND tm.user_id = $2), (SELECT count(*) FROM team_members tm "
                                        "WHERE tm.team_id = t.id) FROM teams t WHERE t.organization_id = $1 "
                                        "ORDER BY t.slug");
  c.prepare(kFirstTeam, "SELECT id FROM teams WHERE organization_id = $1 ORDER BY id LIMIT 1");
  c.prepare(kProjects,
            std::string("SELECT ") + kProjectColumns + " FROM projects p WHERE p.organization_id = $1 ORDER BY p.slug");
  c.prepare(kProjectBySlug,
            std::string("SELECT ") + kProjectColumns + " FROM projects p WHERE p.organization_id = $1 AND p.slug = $2");
  c.prepare(kProjectSlugTaken, "SELECT 1 FROM projects WHERE organization_id = $1 AND slug = $2");
  c.prepare(kCreateProject,
            "INSERT INTO projects (organization_id, slug, name, platform) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (organization_id, slug) DO NOTHING RETURNING id");
  c.prepare(kAddProjectTeam, "INSERT INTO project_teams (project_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING");
  c.prepare(kUpdateProject,
            "UPDATE projects SET slug = $2, name = $3, platform = $4, retention_days = $5, scrub_data = $6, "
            "scrub_ip_addresses = $7, sensitive_fields = ARRAY(SELECT jsonb_array_elements_text($8::jsonb)), "
            "safe_fields = ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), fingerprinting_rules = $10, "
            "stacktrace_rules = $11 WHERE id = $1");
  c.prepare(kDeleteProject, "DELETE FROM projects WHERE id = $1");
  c.prepare(kKeys, std::string("SELECT ") + kKeyColumns + " FROM project_keys k WHERE k.project_id = $1 ORDER BY k.id");
  c.prepare(kKey, std::string("SELECT ") + kKeyColumns +
                      " FROM project_keys k WHERE k.project_id = $1 AND "
                      "k.public_key = $2");
  c.prepare(kCreateKey, "INSERT INTO project_keys (project_id, public_key, secret_key, label) VALUES ($1, $2, $3, $4)");
  c.prepare(kUpdateKey,
            "UPDATE project_keys SET label = $3, is_active = $4, rate_limit_count = $5, "
            "rate_limit_window_seconds = $6, allowed_origins = ARRAY(SELECT jsonb_array_elements_text($7::jsonb)) "
            "WHERE project_id = $1 AND public_key = $2");
  c.prepare(kDeleteKey, "DELETE FROM project_keys WHERE project_id = $1 AND public_key = $2");
  c.prepare(kTokens, "SELECT id, name, array_to_json(scopes)::text, " ROOKERY_MS(
                         "created_at") " FROM api_tokens WHERE user_id = $1 ORDER BY id");
  c.prepare(kCreateToken,
            "INSERT INTO api_tokens (user_id, token_hash, name, scopes) VALUES ($1, sha256(convert_to($2, 'UTF8')), "
            "$3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb))) RETURNING id, " ROOKERY_MS("created_at"));
  c.prepare(kDeleteToken, "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2");
}

OrgRow CreateOrganization(pqxx::work& tx, const std::string& name, std::int64_t owner_user_id) {
  std::string base = Slugify(name);
  if (base.empty()) base = "organization";
  OrgRow org;
  org.name = name;
  org.role = "owner";
  for (int attempt = 1;; ++attempt) {
    const std::string slug = attempt == 1 ? base : base.substr(0, 45) + "-" + std::to_string(attempt);
    const auto created = tx.exec_prepared(kCreateOrg, slug, name);
    if (!created.empty()) {
      org.id = created[0][0].as<std::int64_t>();
      org.created_ms = created[0][1].as<std::int64_t>();
      org.slug = slug;
      break;
    }
    if (attempt > 1000) throw std::runtime_error("no free organization slug");
  }
  tx.exec_prepared(kAddMember, org.id, owner_user_id, "owner");
  const auto team = tx.exec_prepared(kCreateTeam, org.id, org.slug, name);
  tx.exec_prepared(kAddTeamMember, team[0][0].as<std::int64_t>(), owner_user_id);
  return org;
}

void WriteOrganization(JsonWriter& w, const OrgRow& org) {
  w.StartObject();
  WriteIdString(w, "id", org.id);
  WriteString(w, "slug", org.slug);
  WriteString(w, "name", org.name);
  WriteTime(w, "dateCreated", org.created_ms);
  w.Key("status");
  w.StartObject();
  WriteString(w, "id", "active");
  WriteString(w, "name", "active");
  w.EndObject();
  w.Key("isEarlyAdopter");
  w.Bool(false);
  w.Key("require2FA");
  w.Bool(false);
  w.Key("features");
  w.StartArray();
  w.EndArray();
  if (!org.role.empty()) {
    WriteString(w, "role", org.role);
    WriteString(w, "orgRole", org.role);
  }
  // Days events and issues are kept, unless a project sets its own (retention runs hourly).
  w.Key("retentionDays");
  w.Int(org.retention_days);
  w.EndObject();
}

http::Response ExecuteOrgApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                             const Principal& principal, const WebConfig& config) {
  if (route.endpoint == Endpoint::kApiTokens || route.endpoint == Endpoint::kApiToken) {
    // As in Sentry, tokens are managed with a session only: a leaked token of any scope must not
    // mint more tokens or revoke the ones that would replace it.
    if (!principal.via_session) {
      return http::MakeErrorResponse(http::Status::forbidden, "API tokens cannot manage API tokens");
    }
    return ApiTokens(connection, route, request, principal);
  }
  if (route.endpoint == Endpoint::kOrganizations) {
    pqxx::read_transaction tx(connection);
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartArray();
    for (const auto& row : tx.exec_prepared(kOrgsOf, principal.user_id)) WriteOrganization(w, ReadOrg(row));
    w.EndArray();
    return Json(http::Status::ok, buffer);
  }
  std::optional<OrgRow> org;
  {
    pqxx::read_transaction tx(connection);
    org = OrgFor(tx, route.org_slug, principal.user_id);
  }
  // Not a member: the organization and everything in it do not exist, as far as the caller can tell.
  if (!org) return NotFoundResponse();
  switch (route.endpoint) {
    case Endpoint::kOrganization: {
      if (request.method() == boost::beast::http::verb::put) {
        if (!MayManage(principal, *org, {"org:write", "org:admin"})) return Forbidden();
        rapidjson::Document body;
        std::string error;
        if (!ParseBody(request.body(), body, error)) return BadRequest(error);
        if (auto name = ReadString(body, "name", kMaxNameChars, error)) {
          if (name->empty()) return BadRequest("name: must not be empty");
          org->name = *name;
        }
        if (!error.empty()) return BadRequest(error);
        if (const auto days = body.FindMember("retentionDays"); days != body.MemberEnd()) {
          if (!days->value.IsInt() || days->value.GetInt() < 1 || days->value.GetInt() > 3650) {
            return BadRequest("retentionDays: must be a whole number of days from 1 to 3650");
          }
          org->retention_days = days->value.GetInt();
        }
        pqxx::work tx(connection);
        tx.exec_prepared("org_api_update_org", org->id, org->name, org->retention_days);
        tx.commit();
      }
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      WriteOrganization(w, *org);
      return Json(http::Status::ok, buffer);
    }
    case Endpoint::kOrgMembers: return Members(connection, *org, request, principal, config);
    case Endpoint::kOrgMember: return Member(connection, *org, route.object_id, request, principal, config);
    case Endpoint::kOrgMemberTeam: return MemberTeam(connection, *org, route, request, principal);
    case Endpoint::kOrgTeams: return Teams(connection, *org, request, principal);
    case Endpoint::kOrgProjects: return OrgProjects(connection, *org, request, principal);
    case Endpoint::kTeamProjects: {
      pqxx::work tx(connection);
      const auto team = tx.exec_prepared(kTeamBySlug, org->id, route.team_slug);
      if (team.empty()) return NotFoundResponse();
      return CreateProject(tx, *org, team[0][0].as<std::int64_t>(), request, principal);
    }
    case Endpoint::kProject:
    case Endpoint::kProjectKeys:
    case Endpoint::kProjectKey: return ProjectScoped(connection, *org, route, request, principal, config);
    default: return NotFoundResponse();
  }
}

std::string MakeDsn(const std::string& relay_public_url, const std::string& public_key, std::int64_t project_id,
                    const std::string& secret_key) {
  const std::size_t scheme_end = relay_public_url.find("://");
  if (scheme_end == std::string::npos) return relay_public_url;
  const std::string credentials = secret_key.empty() ? public_key : public_key + ":" + secret_key;
  return relay_public_url.substr(0, scheme_end + 3) + credentials + "@" + relay_public_url.substr(scheme_end + 3) +
         "/" + std::to_string(project_id);
}

}  // namespace rookery::web
