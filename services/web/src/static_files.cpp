#include "static_files.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <zlib.h>

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rookery/core/strings.hpp"
#include "rookery/http/response.hpp"

namespace rookery::web {
namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";
constexpr std::string_view kIndex = "index.html";
// Below this, gzip's header costs more than it saves.
constexpr std::size_t kMinCompressBytes = 1024;

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Percent-decoding for a path: unlike a query string, '+' is a plus here. nullopt for a
// malformed escape, so "%2" cannot slip past the segment checks as something else.
std::optional<std::string> DecodePath(std::string_view path) {
  const auto hex = HexDigitValue;
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out.push_back(path[i]);
      continue;
    }
    if (i + 2 >= path.size() || hex(path[i + 1]) < 0 || hex(path[i + 2]) < 0) return std::nullopt;
    out.push_back(static_cast<char>(hex(path[i + 1]) * 16 + hex(path[i + 2])));
    i += 2;
  }
  return out;
}

bool IsCompressible(std::string_view content_type) {
  return StartsWithIgnoreCase(content_type, "text/") || StartsWithIgnoreCase(content_type, "application/json") ||
         StartsWithIgnoreCase(content_type, "image/svg+xml") ||
         StartsWithIgnoreCase(content_type, "application/manifest+json");
}

struct FileInfo {
  bool regular = false;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
};

FileInfo Stat(const std::string& path) {
  struct stat st {};
  FileInfo info;
  // stat follows symlinks: the build never makes any, and following one is no worse than a
  // copy of the file put there.
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return info;
  info.regular = true;
  info.size = st.st_size;
  info.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return info;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ETagOf(const FileInfo& info, bool gzipped) {
  std::ostringstream tag;
  tag << '"' << std::hex << info.size << '-' << info.mtime_ns << (gzipped ? "-gz" : "") << '"';
  return tag.str();
}

bool ETagMatches(std::string_view if_none_match, const std::string& etag) {
  if (TrimWhitespace(if_none_match) == "*") return true;
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view candidate = TrimWhitespace(if_none_match.substr(0, comma));
    if (StartsWithIgnoreCase(candidate, "W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool IsUiPath(std::string_view target) {
  const std::string_view path = http::PathOf(target);
  if (path == "/api" || path.starts_with("/api/")) return false;
  std::string_view bare = path;
  while (bare.size() > 1 && bare.back() == '/') bare.remove_suffix(1);
  return bare != "/healthz" && bare != "/readyz";
}

std::optional<std::string> AssetPath(std::string_view target) {
  const auto decoded = DecodePath(http::PathOf(target));
  if (!decoded) return std::nullopt;
  std::string relative;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (segment.empty()) continue;
    // "." and ".." could walk out of the directory; other dot-names (.git, .env) are never part
    // of a build and are refused rather than guessed at.
    if (segment.front() == '.') return std::nullopt;
    if (segment.find('\\') != std::string_view::npos || segment.find('\0') != std::string_view::npos) {
      return std::nullopt;
    }
    if (!relative.empty()) relative += '/';
    relative += segment;
  }
  return relative;
}

std::string_view ContentTypeFor(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  const std::string extension = AsciiLower(name.substr(dot));
  for (const auto& [ext, type] : kTypes) {
    if (ext == extension) return type;
  }
  return "application/octet-stream";
}

std::string_view CacheControlFor(std::string_view relative_path) {
  if (relative_path.starts_with("assets/")) return "public, max-age=31536000, immutable";
  // index.html names the current hashed bundles: the browser must ask again every time (a 304
  // when nothing changed), or a deploy would not reach it.
  return "no-cache";
}

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    const std::string_view item = TrimWhitespace(accept_encoding.substr(0, comma));
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    const std::size_t semicolon = item.find(';');
    const std::string coding = AsciiLower(TrimWhitespace(item.substr(0, semicolon)));
    if (coding != "gzip" && coding != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    std::string params = AsciiLower(item.substr(semicolon + 1));
    std::erase(params, ' ');
    // q=0, q=0.0, q=0.000: "not acceptable".
    if (params.starts_with("q=0") && params.find_first_not_of("0.", 2) == std::string::npos) return false;
    return true;
  }
  return false;
}

std::string GzipCompress(std::string_view data) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const std::size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(written);
  return out;
}

void AddSecurityHeaders(http::Response& response) {
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "same-origin");
}

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

http::Response StaticFiles::Serve(const http::Request& request) const {
  if (request.method() != bhttp::verb::get) {
    http::Response response = http::MakeErrorResponse(http::Status::method_not_allowed, "Method not allowed");
    response.set(bhttp::field::allow, "GET");
    return response;
  }
  if (root_.empty()) return http::MakeErrorResponse(http::Status::not_found, "The web UI is disabled");
  const auto relative = AssetPath(request.target());
  if (!relative) return http::MakeErrorResponse(http::Status::bad_request, "Invalid path");

  std::string name = relative->empty() ? std::string(kIndex) : *relative;
  FileInfo info = Stat(root_ + "/" + name);
  if (!info.regular) {
    // A hashed bundle that is gone (an old page after a deploy) must fail as a 404, not load
    // index.html as a script.
    if (name.starts_with("assets/")) {
      return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
    }
    name = std::string(kIndex);  // a client-side route: the app itself finds the page
    info = Stat(root_ + "/" + name);
    if (!info.regular) {
      return http::MakeResponse(http::Status::not_found,
                                "The web UI is not built: run `npm ci && npm run build` in web/ (scripts/dev.sh up "
                                "does), or set ROOKERY_WEB_ASSETS_DIR.\n",
                                "text/plain; charset=utf-8");
    }
  }

  const std::string_view content_type = ContentTypeFor(name);
  const bool compressible = IsCompressible(content_type);
  const bool gzip = compressible && AcceptsGzip(request[bhttp::field::accept_encoding]);
  std::string path = root_ + "/" + name;
  bool precompressed = false;
  if (gzip) {
    if (const FileInfo gz = Stat(path + ".gz"); gz.regular && gz.mtime_ns >= info.mtime_ns) {
      path += ".gz";
      precompressed = true;
    }
  }
  const std::string etag = ETagOf(info, gzip);

  http::Response response{http::Status::ok, 11};
  response.set(bhttp::field::content_type, content_type);
  response.set(bhttp::field::cache_control, CacheControlFor(name));
  response.set(bhttp::field::etag, etag);
  if (compressible) response.set(bhttp::field::vary, "Accept-Encoding");
  if (ETagMatches(request[bhttp::field::if_none_match], etag)) {
    response.result(http::Status::not_modified);
    return response;
  }
  auto body = ReadFile(path);
  if (!body) {
    spdlog::warn("web: cannot read {}", path);
    return http::MakeErrorResponse(http::Status::not_found, "The requested resource does not exist");
  }
  if (gzip && !precompressed && body->size() >= kMinCompressBytes) {
    *body = GzipCompress(*body);
    precompressed = true;
  }
  if (precompressed) response.set(bhttp::field::content_encoding, "gzip");
  response.body() = std::move(*body);
  return response;
}

}  // namespace rookery::web
