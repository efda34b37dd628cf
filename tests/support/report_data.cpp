#include "tests/support/report_data.h"

#include <zlib.h>

#include <stdexcept>

namespace llmeval::testing {

std::string base64_decode(std::string_view text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const auto value = alphabet.find(c);
    if (value == std::string::npos) throw std::runtime_error("not base64: " + std::string(1, c));
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::string gunzip(std::string_view bytes) {
  z_stream zlib{};
  if (inflateInit2(&zlib, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  zlib.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zlib.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char chunk[64 * 1024];
  int status = Z_OK;
  while (status == Z_OK) {
    zlib.next_out = reinterpret_cast<Bytef*>(chunk);
    zlib.avail_out = sizeof chunk;
    status = inflate(&zlib, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - zlib.avail_out);
  }
  const bool whole = status == Z_STREAM_END && zlib.avail_in == 0;
  inflateEnd(&zlib);
  if (!whole) throw std::runtime_error("not a whole gzip stream");
  return out;
}

nlohmann::json report_data(const std::string& html) {
  const std::string open = "<script id=\"report-data\" type=\"application/octet-stream\" data-encoding=\"gzip+base64\">";
  const auto start = html.find(open);
  if (start == std::string::npos) throw std::runtime_error("no report-data element");
  const auto end = html.find("</script>", start);
  const std::string_view encoded(html.data() + start + open.size(), end - start - open.size());
  return nlohmann::json::parse(gunzip(base64_decode(encoded)));
}

}  // namespace llmeval::testing
