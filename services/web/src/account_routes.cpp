#include <charconv>

#include "router.hpp"

namespace rookery::web {
namespace {

bool ParsePositive(const std::string& text, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

}  // namespace

void MatchAccountRoute(const std::vector<std::string>& s, Route& route) {
  if (s.size() < 3 || s[0] != "api" || s[1] != "0") return;
  const std::string& kind = s[2];
  const std::size_t n = s.size();
  if (kind == "auth" && n == 4) {
    if (s[3] == "setup") route.endpoint = Endpoint::kAuthSetup;
    if (s[3] == "login") route.endpoint = Endpoint::kAuthLogin;
    if (s[3] == "logout") route.endpoint = Endpoint::kAuthLogout;
    if (s[3] == "password-reset") route.endpoint = Endpoint::kPasswordReset;
    if (s[3] == "password-link") route.endpoint = Endpoint::kPasswordLink;
  } else if (kind == "users" && n == 4 && s[3] == "me") {
    route.endpoint = Endpoint::kMe;
  } else if (kind == "organizations") {
    if (n == 3) {
      route.endpoint = Endpoint::kOrganizations;
      return;
    }
    route.org_slug = s[3];
    if (n == 4) route.endpoint = Endpoint::kOrganization;
    if (n == 5 && s[4] == "members") route.endpoint = Endpoint::kOrgMembers;
    if (n == 6 && s[4] == "members" && ParsePositive(s[5], route.object_id)) route.endpoint = Endpoint::kOrgMember;
    if (n == 8 && s[4] == "members" && s[6] == "teams" && ParsePositive(s[5], route.object_id)) {
      route.endpoint = Endpoint::kOrgMemberTeam;
      route.team_slug = s[7];
    }
    if (n == 5 && s[4] == "teams") route.endpoint = Endpoint::kOrgTeams;
    if (n == 5 && s[4] == "projects") route.endpoint = Endpoint::kOrgProjects;
  } else if (kind == "teams" && n == 6 && s[5] == "projects") {
    route.endpoint = Endpoint::kTeamProjects;
    route.org_slug = s[3];
    route.team_slug = s[4];
  } else if (kind == "projects" && n >= 5) {
    route.org_slug = s[3];
    route.project_slug = s[4];
    if (n == 5) route.endpoint = Endpoint::kProject;
    if (n == 6 && s[5] == "keys") route.endpoint = Endpoint::kProjectKeys;
    if (n == 7 && s[5] == "keys") {
      route.endpoint = Endpoint::kProjectKey;
      route.key_id = s[6];
    }
  } else if (kind == "api-tokens") {
    if (n == 3) route.endpoint = Endpoint::kApiTokens;
    if (n == 4 && ParsePositive(s[3], route.object_id)) route.endpoint = Endpoint::kApiToken;
  }
}

bool AccountRouteAllows(Endpoint endpoint, std::string_view method) {
  const bool get = method == "GET";
  const bool post = method == "POST";
  const bool put = method == "PUT";
  const bool del = method == "DELETE";
  switch (endpoint) {
    case Endpoint::kAuthSetup: return get || post;
    case Endpoint::kAuthLogin:
    case Endpoint::kAuthLogout:
    case Endpoint::kPasswordReset: return post;
    case Endpoint::kPasswordLink: return post || put;
    case Endpoint::kMe:
    case Endpoint::kOrganizations: return get;
    case Endpoint::kOrganization: return get || put;
    case Endpoint::kOrgMembers:
    case Endpoint::kOrgTeams:
    case Endpoint::kOrgProjects:
    case Endpoint::kProjectKeys:
    case Endpoint::kApiTokens: return get || post;
    case Endpoint::kOrgMember: return put || del;
    case Endpoint::kOrgMemberTeam: return post || del;
    case Endpoint::kTeamProjects: return post;
    case Endpoint::kProject:
    case Endpoint::kProjectKey: return get || put || del;
    case Endpoint::kApiToken: return del;
    default: return false;
  }
}

bool IsAccountRoute(Endpoint endpoint) {
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    if (AccountRouteAllows(endpoint, method)) return true;
  }
  return false;
}

}  // namespace rookery::web
