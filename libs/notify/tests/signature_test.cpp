#include <catch2/catch.hpp>

#include <string>

#include "rookery/notify/webhook.hpp"

using rookery::notify::HmacSha256Hex;
using rookery::notify::SignWebhook;
using rookery::notify::VerifyWebhookSignature;

TEST_CASE("HMAC-SHA256 matches the RFC 4231 test vectors", "[unit][notify]") {
  // Test cases 1-4, 6 and 7 (5 is about truncated output, which is not used here).
  CHECK(HmacSha256Hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(HmacSha256Hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (char c = 1; c <= 25; ++c) key4.push_back(c);
  CHECK(HmacSha256Hex(key4, std::string(50, '\xcd')) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  const std::string long_key(131, '\xaa');  // longer than the block: hashed first
  CHECK(HmacSha256Hex(long_key, "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(HmacSha256Hex(long_key,
                      "This is a test using a larger than block-size key and a larger than block-size data. The key "
                      "needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("webhook signatures cover the timestamp and the exact body", "[unit][notify]") {
  const std::string body = R"({"a":1})";
  // Computed independently: hmac.new(b"whsec_test", b'1714566896.{"a":1}', sha256).hexdigest()
  const std::string signature = SignWebhook("whsec_test", 1714566896, body);
  CHECK(signature == "sha256=b335fc653fc30efe5b54ba633377a213cfb4f8c0559a7309a0f799877144ffec");

  CHECK(VerifyWebhookSignature("whsec_test", 1714566896, body, signature));
  CHECK_FALSE(VerifyWebhookSignature("whsec_test", 1714566897, body, signature));
  CHECK_FALSE(VerifyWebhookSignature("whsec_test", 1714566896, R"({"a":2})", signature));
  CHECK_FALSE(VerifyWebhookSignature("whsec_other", 1714566896, body, signature));
  CHECK_FALSE(VerifyWebhookSignature("whsec_test", 1714566896, body, signature.substr(0, 20)));
  CHECK_FALSE(VerifyWebhookSignature("whsec_test", 1714566896, body, ""));
}
