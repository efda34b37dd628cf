// GzipBase64Writer: gzip-compresses bytes (zlib) and writes them base64-encoded to a stream as
// they come. The HTML report embeds its rows this way: text compresses 5-10x, which keeps a
// 100,000-row report a reasonable size, and the rows never sit in memory whole. Browsers
// decode it offline with atob() and DecompressionStream("gzip").
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "core/common/error.h"

namespace llmeval::report {

// Base64 of a few bytes at once (a hash for the page's Content-Security-Policy).
std::string base64(std::string_view bytes);

// zlib fails only without memory or when misused; that comes back as an Error (kIo), the
// writer's output then being incomplete. `out` must outlive the writer.
class GzipBase64Writer {
 public:
  static Result<std::unique_ptr<GzipBase64Writer>> open(std::ostream& out);
  ~GzipBase64Writer();
  GzipBase64Writer(const GzipBase64Writer&) = delete;
  GzipBase64Writer& operator=(const GzipBase64Writer&) = delete;

  Result<Ok> write(std::string_view bytes);
  // Ends the gzip stream and writes the last base64 characters (with padding). Required once.
  Result<Ok> finish();

 private:
  struct State;
  explicit GzipBase64Writer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace llmeval::report
