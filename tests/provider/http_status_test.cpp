#include "core/provider/http_status.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using llmeval::ErrorKind;
using llmeval::provider::error_from_status;
using llmeval::provider::HttpResponse;
using llmeval::provider::kind_for_status;
using llmeval::provider::parse_retry_after;
using llmeval::provider::ReplyContext;
using llmeval::provider::vendor_error_message;

namespace {

constexpr const char* kKey = "sk-test-SECRET-0123456789";

ReplyContext context() { return ReplyContext{"primary", "OPENAI_API_KEY", kKey}; }

HttpResponse reply(long status, std::string body, llmeval::provider::Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

// 2015-10-21 07:28:00 UTC
std::chrono::system_clock::time_point october_21() { return std::chrono::system_clock::from_time_t(1445412480); }

}  // namespace

TEST_CASE("kind_for_status maps every status class to an ErrorKind", "[provider]") {
  CHECK(kind_for_status(401) == ErrorKind::kAuth);
  CHECK(kind_for_status(403) == ErrorKind::kAuth);
  CHECK(kind_for_status(408) == ErrorKind::kTimeout);
  CHECK(kind_for_status(429) == ErrorKind::kRateLimited);
  CHECK(kind_for_status(500) == ErrorKind::kServer);
  CHECK(kind_for_status(502) == ErrorKind::kServer);
  CHECK(kind_for_status(503) == ErrorKind::kServer);
  CHECK(kind_for_status(529) == ErrorKind::kServer);
  CHECK(kind_for_status(400) == ErrorKind::kBadRequest);
  CHECK(kind_for_status(404) == ErrorKind::kBadRequest);
  CHECK(kind_for_status(413) == ErrorKind::kBadRequest);
  CHECK(kind_for_status(422) == ErrorKind::kBadRequest);
  CHECK(kind_for_status(301) == ErrorKind::kBadRequest);
  CHECK(kind_for_status(102) == ErrorKind::kServer);
}

TEST_CASE("parse_retry_after reads every Retry-After form", "[provider]") {
  auto now = october_21();
  SECTION("retry-after-ms wins over retry-after") {
    auto response = reply(429, "", {{"retry-after", "9"}, {"retry-after-ms", "1500"}});
    CHECK(parse_retry_after(response, now) == 1500ms);
  }
  SECTION("fractional milliseconds round up") {
    CHECK(parse_retry_after(reply(429, "", {{"retry-after-ms", "20.2"}}), now) == 21ms);
  }
  SECTION("seconds") { CHECK(parse_retry_after(reply(429, "", {{"retry-after", "2"}}), now) == 2000ms); }
  SECTION("fractional seconds") {
    CHECK(parse_retry_after(reply(429, "", {{"retry-after", " 0.25 "}}), now) == 250ms);
  }
  SECTION("HTTP-date against now") {
    auto response = reply(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"}});
    CHECK(parse_retry_after(response, now) == 30000ms);
  }
  SECTION("HTTP-date against the reply's Date header, not the local clock") {
    auto response = reply(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"},
                                    {"date", "Wed, 21 Oct 2015 07:28:25 GMT"}});
    CHECK(parse_retry_after(response, now + 1h) == 5000ms);
  }
  SECTION("RFC 850 and asctime dates") {
    CHECK(parse_retry_after(reply(429, "", {{"retry-after", "Wednesday, 21-Oct-15 07:28:10 GMT"}}), now) ==
          10000ms);
    CHECK(parse_retry_after(reply(429, "", {{"retry-after", "Wed Oct 21 07:28:04 2015"}}), now) == 4000ms);
  }
  SECTION("a date in the past means now") {
    CHECK(parse_retry_after(reply(429, "", {{"retry-after", "Wed, 21 Oct 2015 07:00:00 GMT"}}), now) == 0ms);
  }
  SECTION("huge values are capped at a day") {
    CHECK(parse_retry_after(reply(429, "", {{"retry-after", "99999999999"}}), now) == 24h);
  }
  SECTION("absent or unparseable") {
    CHECK_FALSE(parse_retry_after(reply(429, ""), now).has_value());
    CHECK_FALSE(parse_retry_after(reply(429, "", {{"retry-after", "soon"}}), now).has_value());
    CHECK_FALSE(parse_retry_after(reply(429, "", {{"retry-after", "-5"}}), now).has_value());
    CHECK_FALSE(parse_retry_after(reply(429, "", {{"retry-after", "nan"}}), now).has_value());
  }
}

TEST_CASE("A proxy's HTML error page becomes its title and text, not markup", "[provider]") {
  const std::string nginx =
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
      "</center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
  CHECK(vendor_error_message(nginx) ==
        "an HTML page (from a proxy or gateway in front of the API?): 502 Bad Gateway nginx/1.25.3");
  const std::string page =
      "<!DOCTYPE html><html><head><title>Attention Required</title><style>body{color:red}</style>"
      "<script>var x = '<b>';</script></head><body><h1>Sorry, you have been blocked</h1></body></html>";
  CHECK(vendor_error_message(page) == "an HTML page (from a proxy or gateway in front of the API?): "
                                      "Attention Required Sorry, you have been blocked");
  CHECK(vendor_error_message("<html><body></body></html>") ==
        "an HTML page (from a proxy or gateway in front of the API?): (no text)");
  CHECK(vendor_error_message("<html><body>unclosed <b") ==
        "an HTML page (from a proxy or gateway in front of the API?): unclosed");
  CHECK(vendor_error_message("<html>" + std::string(100000, 'x')).size() <= 203);
}

TEST_CASE("vendor_error_message extracts the vendor's own words", "[provider]") {
  CHECK(vendor_error_message(R"({"error": {"message": "Invalid model", "type": "invalid_request_error"}})") ==
        "Invalid model");
  CHECK(vendor_error_message(R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})") ==
        "Overloaded");
  CHECK(vendor_error_message(R"({"error": "model 'x' not found"})") == "model 'x' not found");
  CHECK(vendor_error_message(R"({"object": "error", "message": "vllm says no"})") == "vllm says no");
  CHECK(vendor_error_message(R"({"detail": "Not Found"})") == "Not Found");
  CHECK(vendor_error_message("<html>\n  <body>Bad   Gateway</body>\n</html>\n") ==
        "an HTML page (from a proxy or gateway in front of the API?): Bad Gateway");
  CHECK(vendor_error_message("not json <b>at all</b>") == "not json <b>at all</b>");
  CHECK(vendor_error_message("").empty());
  CHECK(vendor_error_message(" \n").empty());

  SECTION("long messages are cut to 200 bytes on a UTF-8 boundary") {
    std::string text(199, 'a');
    text += "\xC3\xA9\xC3\xA9\xC3\xA9";  // "ééé": the cut lands inside the first é
    auto message = vendor_error_message(text);
    CHECK(message == std::string(199, 'a') + "...");
  }
  SECTION("the secret is scrubbed before the cut") {
    std::string text = std::string(190, 'x') + kKey;
    auto message = vendor_error_message(text, kKey);
    CHECK(message.find("sk-test") == std::string::npos);
    CHECK(message.find("[redacted]") != std::string::npos);
  }
}

TEST_CASE("error_from_status builds messages that name the provider and never the key", "[provider]") {
  auto now = october_21();
  SECTION("401 names the environment variable") {
    auto error = error_from_status(
        reply(401, R"({"error": {"message": "Incorrect API key provided: sk-test-SECRET-0123456789"}})"), context(),
        now);
    CHECK(error.kind == ErrorKind::kAuth);
    CHECK(error.message ==
          "provider primary rejected the API key (HTTP 401): Incorrect API key provided: [redacted]; check "
          "OPENAI_API_KEY");
    CHECK_FALSE(error.retry_after.has_value());
  }
  SECTION("403 with an empty key says the variable is unset") {
    auto error = error_from_status(reply(403, ""), ReplyContext{"backup", "ANTHROPIC_API_KEY", ""}, now);
    CHECK(error.kind == ErrorKind::kAuth);
    CHECK(error.message == "provider backup rejected the API key (HTTP 403); ANTHROPIC_API_KEY is empty or not set");
  }
  SECTION("429 carries retry_after") {
    auto error = error_from_status(reply(429, R"({"error": {"message": "Rate limit reached"}})", {{"retry-after", "3"}}),
                                   context(), now);
    CHECK(error.kind == ErrorKind::kRateLimited);
    REQUIRE(error.retry_after.has_value());
    CHECK(*error.retry_after == 3000ms);
    CHECK(error.message ==
          "provider primary is rate limiting requests (HTTP 429): Rate limit reached; retry after 3000ms");
  }
  SECTION("429 without a header has no retry_after") {
    auto error = error_from_status(reply(429, "slow down"), context(), now);
    CHECK(error.kind == ErrorKind::kRateLimited);
    CHECK_FALSE(error.retry_after.has_value());
  }
  SECTION("408, 5xx, 529, other 4xx, 3xx") {
    CHECK(error_from_status(reply(408, ""), context(), now).kind == ErrorKind::kTimeout);
    auto server = error_from_status(reply(503, "upstream down", {{"retry-after", "1"}}), context(), now);
    CHECK(server.kind == ErrorKind::kServer);
    CHECK(server.retry_after == 1000ms);
    CHECK(server.message.rfind("provider primary failed with a server error (HTTP 503): upstream down", 0) == 0);
    auto overloaded = error_from_status(
        reply(529, R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})"), context(),
        now);
    CHECK(overloaded.kind == ErrorKind::kServer);
    CHECK(overloaded.message == "provider primary is overloaded (HTTP 529): Overloaded");
    auto bad = error_from_status(reply(400, R"({"error": {"message": "max_tokens is too large"}})"), context(), now);
    CHECK(bad.kind == ErrorKind::kBadRequest);
    CHECK(bad.message == "provider primary refused the request (HTTP 400): max_tokens is too large");
    auto redirect = error_from_status(reply(301, ""), context(), now);
    CHECK(redirect.kind == ErrorKind::kBadRequest);
    CHECK(redirect.message.find("check base_url") != std::string::npos);
  }
}
