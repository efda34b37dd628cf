// GzipBase64Writer: gzip-compresses bytes (zlib) and writes them base64-encoded to a stream as
// they come. The HTML report embeds its rows this way: text compresses 5-10x, which keeps a
// 100,000-row report a reasonable size, and the rows never sit in memory whole. Browsers
// decode it offline with atob() and DecompressionStream("gzip").
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace llmeval::report {

// Base64 of a few bytes at once (a hash for the page's Content-Security-Policy).
std::string base64(std::string_view bytes);

class GzipBase64Writer {
 public:
  explicit GzipBase64Writer(std::ostream& out);
  ~GzipBase64Writer();
  GzipBase64Writer(const GzipBase64Writer&) = delete;
  GzipBase64Writer& operator=(const GzipBase64Writer&) = delete;

  void write(std::string_view bytes);
  // Ends the gzip stream and writes the last base64 characters (with padding). Required once.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmeval::report
