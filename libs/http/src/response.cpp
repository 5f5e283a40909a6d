#include "rookery/http/response.hpp"

#include <cstdio>

#include "rookery/core/strings.hpp"

namespace rookery::http {

Response MakeResponse(Status status, std::string body, std::string_view content_type) {
  Response response{status, 11};
  response.set(boost::beast::http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

Response MakeJsonResponse(Status status, std::string json) {
  return MakeResponse(status, std::move(json), "application/json");
}

Response MakeErrorResponse(Status status, std::string_view detail) {
  return MakeJsonResponse(status, "{\"detail\":" + JsonQuote(detail) + "}");
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string_view QueryString(std::string_view target) {
  const std::size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string QueryParam(std::string_view target, std::string_view name) {
  std::string_view query = QueryString(target);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (UrlDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string{} : UrlDecode(pair.substr(eq + 1));
    }
  }
  return {};
}

}  // namespace rookery::http
