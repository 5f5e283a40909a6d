#include "curl_util.hpp"

namespace rookery::notify::internal {
namespace {

bool InitOnce() {
  // Thread-safe through the static, and before any handle exists, as libcurl asks.
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

}  // namespace

CurlEasy NewEasy(const char* protocols, std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout,
                 bool verify_tls, const std::string& ca_file, CurlErrorBuffer& error) {
  if (!InitOnce()) return nullptr;
  CurlEasy curl(curl_easy_init());
  if (!curl) return nullptr;
  CURL* handle = curl.get();
  error[0] = '\0';
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, verify_tls ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, verify_tls ? 2L : 0L);
  if (!ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file.c_str());
  return curl;
}

std::string FailureText(CURLcode code, const CurlErrorBuffer& error) {
  return error[0] != '\0' ? std::string(error.data()) : std::string(curl_easy_strerror(code));
}

bool IsPermanentCurlFailure(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS: return true;
    default: return false;
  }
}

}  // namespace rookery::notify::internal
