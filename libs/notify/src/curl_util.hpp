// Internal: what the SMTP and webhook senders share around libcurl.
#pragma once

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>

namespace rookery::notify::internal {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

class CurlList {
 public:
  /// False when libcurl could not allocate; the list is then unchanged.
  bool Append(const std::string& line) {
    curl_slist* head = curl_slist_append(list_.get(), line.c_str());
    if (head == nullptr) return false;
    if (!list_) list_.reset(head);  // the first append creates the head; later ones return it unchanged
    return true;
  }
  [[nodiscard]] curl_slist* Get() const { return list_.get(); }

 private:
  std::unique_ptr<curl_slist, CurlListDeleter> list_;
};

using CurlErrorBuffer = std::array<char, CURL_ERROR_SIZE>;

/// A new easy handle with what every Rookery transfer needs: both timeouts, no signals (the
/// senders run on worker threads), TLS verification as configured, only `protocols` spoken, and
/// libcurl's message for a failure written to `error`. Null when libcurl cannot be initialised.
CurlEasy NewEasy(const char* protocols, std::chrono::milliseconds connect_timeout, std::chrono::milliseconds timeout,
                 bool verify_tls, const std::string& ca_file, CurlErrorBuffer& error);

/// libcurl's own message for the failure, or its generic text for the code.
std::string FailureText(CURLcode code, const CurlErrorBuffer& error);

/// Failures that the same request will meet again however long one waits: a bad URL, a protocol
/// we refuse to speak, a certificate that does not verify, credentials refused, TLS required but
/// not offered. These need an operator, not a retry.
bool IsPermanentCurlFailure(CURLcode code);

}  // namespace rookery::notify::internal
