// The web UI's built files (web/dist) served by rookery-web next to the API, and the security
// headers every web response carries.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rookery/http/server.hpp"

namespace rookery::web {

/// /api/... and the health paths belong to the API; everything else may be the UI's.
bool IsUiPath(std::string_view target);

/// The file a request path names, relative to the assets directory ("" for the root, which is
/// index.html). nullopt for a path that could leave the directory or name a hidden file (a `..`
/// or `.`-prefixed segment, a backslash, a NUL), also when percent-encoded.
std::optional<std::string> AssetPath(std::string_view target);

/// Content-Type by extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view path);

/// Files under assets/ carry a content hash in their name (Vite), so they never change.
std::string_view CacheControlFor(std::string_view relative_path);

/// Whether an Accept-Encoding header allows gzip (and does not refuse it with q=0).
bool AcceptsGzip(std::string_view accept_encoding);

/// gzip (RFC 1952) of `data`.
std::string GzipCompress(std::string_view data);

/// CSP, nosniff and the referrer policy; set on every response of rookery-web.
void AddSecurityHeaders(http::Response& response);

class StaticFiles {
 public:
  /// `root` empty: no UI, every UI path answers 404.
  explicit StaticFiles(std::string root);
  /// Blocking file I/O: call off the I/O threads.
  http::Response Serve(const http::Request& request) const;
  const std::string& Root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace rookery::web
