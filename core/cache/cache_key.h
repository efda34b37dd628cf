// The judge cache's key: SHA-256 (hex) of everything that determines the judge's answer. The
// provider says what that is for a request (Provider::request_identity: for the HTTP APIs its
// endpoint URL, the model and the exact request body, so messages, temperature, token cap,
// structured-output schema and reasoning effort are all in it), and the evaluator adds the
// sample index (repeated judgments of one request are distinct entries). A format version in
// front lets a later llmeval change what a key covers without reading stale entries.
#pragma once

#include <string>
#include <string_view>

namespace llmeval::cache {

// Empty when no key can be made (then the call is neither looked up nor stored).
std::string cache_key(std::string_view request_identity, int sample);

// SHA-256 of `data` as 64 lower-case hex digits (OpenSSL's EVP interface); empty on failure.
std::string sha256_hex(std::string_view data);

}  // namespace llmeval::cache
