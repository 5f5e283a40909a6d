// The issue endpoints of the REST API (lists with search, stats and cursors; one issue; bulk
// status, assignment, merge and delete; events; hashes and unmerge; tags) and the dispatch to the
// alert-rule endpoints. Api (api.cpp) authenticates, then hands these routes over.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>
#include <pqxx/connection>

#include "rookery/http/server.hpp"
#include "router.hpp"

namespace rookery::web {

/// Who is asking: the token's user and a test for its scopes.
struct Caller {
  std::int64_t user_id = 0;
  std::function<bool(std::string_view)> has_scope;
  bool HasAny(std::initializer_list<std::string_view> scopes) const {
    for (const auto scope : scopes) {
      if (has_scope(scope)) return true;
    }
    return false;
  }
};

bool IsIssuesApiEndpoint(Endpoint endpoint);
/// The methods each of those endpoints answers (others get 405).
bool IssuesApiAllowsMethod(Endpoint endpoint, boost::beast::http::verb method);
/// Prepares the statements on a new connection.
void PrepareIssuesApi(pqxx::connection& connection);
/// Runs one authenticated request. Objects of organizations the caller is not a member of are 404.
http::Response HandleIssuesApi(pqxx::connection& connection, const Route& route, const http::Request& request,
                               const Caller& caller, const std::string& public_url);

}  // namespace rookery::web
