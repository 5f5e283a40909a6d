#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "static_files.hpp"

using namespace rookery::web;
namespace bhttp = boost::beast::http;

namespace {

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(inflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

struct AssetsDir {
  std::filesystem::path root;
  AssetsDir() {
    root = std::filesystem::temp_directory_path() / ("rookery-assets-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root / "assets");
    Write("index.html", "<!doctype html><div id=root></div>");
    Write("assets/index-abc123.js", std::string(4000, 'x'));
    Write("favicon.svg", "<svg/>");
    // A file next to the assets directory that no request may reach.
    std::ofstream(root.parent_path() / "rookery-secret.txt") << "secret";
  }
  ~AssetsDir() {
    std::filesystem::remove_all(root);
    std::filesystem::remove(root.parent_path() / "rookery-secret.txt");
  }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(root / name, std::ios::binary) << content;
  }
};

rookery::http::Request Get(const std::string& target, const std::string& accept_encoding = "") {
  rookery::http::Request request{bhttp::verb::get, target, 11};
  if (!accept_encoding.empty()) request.set(bhttp::field::accept_encoding, accept_encoding);
  return request;
}

}  // namespace

TEST_CASE("UI paths are everything but the API and health checks", "[unit][web]") {
  CHECK(IsUiPath("/"));
  CHECK(IsUiPath("/organizations/acme/issues/1/"));
  CHECK(IsUiPath("/assets/index-abc.js"));
  CHECK(IsUiPath("/apiary"));
  CHECK_FALSE(IsUiPath("/api"));
  CHECK_FALSE(IsUiPath("/api/0/issues/1/"));
  CHECK_FALSE(IsUiPath("/api/unknown"));
  CHECK_FALSE(IsUiPath("/healthz"));
  CHECK_FALSE(IsUiPath("/readyz/"));
  CHECK_FALSE(IsUiPath("/healthz?x=1"));
}

TEST_CASE("request paths map to files inside the assets directory", "[unit][web]") {
  CHECK(AssetPath("/") == "");
  CHECK(AssetPath("") == "");
  CHECK(AssetPath("/index.html") == "index.html");
  CHECK(AssetPath("/assets/index-abc.js?v=1") == "assets/index-abc.js");
  CHECK(AssetPath("//assets///x.css") == "assets/x.css");
  CHECK(AssetPath("/organizations/acme/issues/") == "organizations/acme/issues");
  CHECK(AssetPath("/a%20b/c+d") == "a b/c+d");  // '+' is not a space in a path
}

TEST_CASE("paths that could leave the assets directory are refused", "[unit][web]") {
  CHECK_FALSE(AssetPath("/../etc/passwd"));
  CHECK_FALSE(AssetPath("/assets/../../secret"));
  CHECK_FALSE(AssetPath("/%2e%2e/secret"));
  CHECK_FALSE(AssetPath("/%2E%2E%2Fsecret"));
  CHECK_FALSE(AssetPath("/assets/%2e%2e%2f%2e%2e%2fsecret"));
  CHECK_FALSE(AssetPath("/./index.html"));
  CHECK_FALSE(AssetPath("/.git/config"));
  CHECK_FALSE(AssetPath("/..%5c..%5csecret"));
  CHECK_FALSE(AssetPath("/a%00b"));
  CHECK_FALSE(AssetPath("/bad%2"));
  CHECK_FALSE(AssetPath("/bad%zz"));
}

TEST_CASE("content types and caching", "[unit][web]") {
  CHECK(ContentTypeFor("index.html") == "text/html; charset=utf-8");
  CHECK(ContentTypeFor("assets/index-abc.js") == "text/javascript; charset=utf-8");
  CHECK(ContentTypeFor("assets/index-abc.CSS") == "text/css; charset=utf-8");
  CHECK(ContentTypeFor("favicon.svg") == "image/svg+xml");
  CHECK(ContentTypeFor("logo.png") == "image/png");
  CHECK(ContentTypeFor("README") == "application/octet-stream");
  CHECK(ContentTypeFor("archive.tar.gz") == "application/octet-stream");
  CHECK(CacheControlFor("assets/index-abc.js") == "public, max-age=31536000, immutable");
  CHECK(CacheControlFor("index.html") == "no-cache");
  CHECK(CacheControlFor("favicon.svg") == "no-cache");
}

TEST_CASE("Accept-Encoding", "[unit][web]") {
  CHECK(AcceptsGzip("gzip, deflate, br"));
  CHECK(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  CHECK(AcceptsGzip("*"));
  CHECK_FALSE(AcceptsGzip(""));
  CHECK_FALSE(AcceptsGzip("br, deflate"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip; q=0.000"));
  CHECK(AcceptsGzip("gzip;q=0.1"));
}

TEST_CASE("serving files, the SPA fallback and gzip", "[unit][web]") {
  const AssetsDir dir;
  const StaticFiles files(dir.root.string());

  auto index = files.Serve(Get("/"));
  CHECK(index.result() == bhttp::status::ok);
  CHECK(index[bhttp::field::content_type] == "text/html; charset=utf-8");
  CHECK(index[bhttp::field::cache_control] == "no-cache");
  CHECK(index.body().find("id=root") != std::string::npos);

  auto route = files.Serve(Get("/organizations/acme/issues/42/"));
  CHECK(route.result() == bhttp::status::ok);
  CHECK(route.body() == index.body());

  auto script = files.Serve(Get("/assets/index-abc123.js"));
  CHECK(script.result() == bhttp::status::ok);
  CHECK(script[bhttp::field::content_type] == "text/javascript; charset=utf-8");
  CHECK(script[bhttp::field::cache_control] == "public, max-age=31536000, immutable");
  CHECK(script[bhttp::field::content_encoding].empty());
  CHECK(script.body().size() == 4000);

  auto gzipped = files.Serve(Get("/assets/index-abc123.js", "gzip, br"));
  CHECK(gzipped[bhttp::field::content_encoding] == "gzip");
  CHECK(gzipped[bhttp::field::vary] == "Accept-Encoding");
  CHECK(gzipped.body().size() < 200);
  CHECK(Gunzip(gzipped.body()) == std::string(4000, 'x'));

  dir.Write("assets/index-abc123.js.gz", GzipCompress("precompressed"));
  CHECK(Gunzip(files.Serve(Get("/assets/index-abc123.js", "gzip")).body()) == "precompressed");

  // A missing hashed bundle is a 404, never index.html served as a script.
  CHECK(files.Serve(Get("/assets/index-gone.js")).result() == bhttp::status::not_found);
  CHECK(files.Serve(Get("/%2e%2e/rookery-secret.txt")).result() == bhttp::status::bad_request);
  CHECK(files.Serve(Get("/../rookery-secret.txt")).result() == bhttp::status::bad_request);

  auto etag = std::string(script[bhttp::field::etag]);
  auto again = Get("/assets/index-abc123.js");
  again.set(bhttp::field::if_none_match, etag);
  CHECK(files.Serve(again).result() == bhttp::status::not_modified);

  rookery::http::Request post{bhttp::verb::post, "/", 11};
  CHECK(files.Serve(post).result() == bhttp::status::method_not_allowed);
}

TEST_CASE("no UI built, or none configured", "[unit][web]") {
  const auto empty = std::filesystem::temp_directory_path() / ("rookery-no-ui-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  auto missing = StaticFiles(empty.string()).Serve(Get("/"));
  CHECK(missing.result() == bhttp::status::not_found);
  CHECK(missing.body().find("npm run build") != std::string::npos);
  std::filesystem::remove_all(empty);
  CHECK(StaticFiles("").Serve(Get("/")).result() == bhttp::status::not_found);
}

TEST_CASE("security headers", "[unit][web]") {
  rookery::http::Response response{bhttp::status::ok, 11};
  AddSecurityHeaders(response);
  CHECK(response["Content-Security-Policy"] ==
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'");
  CHECK(response["X-Content-Type-Options"] == "nosniff");
  CHECK(response["Referrer-Policy"] == "same-origin");
}
