#include "core/report/gzip_base64.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "core/common/error.h"

namespace llmeval::report {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int kGzipWindowBits = 15 + 16;  // 15: the largest window; +16: a gzip header, not zlib

// Encodes the whole groups of three bytes at the front of `pending` into `out` and removes
// them; with `last`, also the final one or two bytes, with padding.
void encode_base64(std::string& pending, std::string& out, bool last) {
  const std::size_t whole = pending.size() / 3 * 3;
  for (std::size_t i = 0; i < whole; i += 3) {
    const unsigned value = (static_cast<unsigned char>(pending[i]) << 16) |
                           (static_cast<unsigned char>(pending[i + 1]) << 8) |
                           static_cast<unsigned char>(pending[i + 2]);
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += kAlphabet[(value >> 6) & 63];
    out += kAlphabet[value & 63];
  }
  pending.erase(0, whole);
  if (last && !pending.empty()) {
    const unsigned value = (static_cast<unsigned char>(pending[0]) << 16) |
                           (pending.size() > 1 ? static_cast<unsigned char>(pending[1]) << 8 : 0);
    out += kAlphabet[(value >> 18) & 63];
    out += kAlphabet[(value >> 12) & 63];
    out += pending.size() > 1 ? kAlphabet[(value >> 6) & 63] : '=';
    out += '=';
    pending.clear();
  }
}

}  // namespace

std::string base64(std::string_view bytes) {
  std::string pending(bytes), out;
  encode_base64(pending, out, true);
  return out;
}

struct GzipBase64Writer::State {
  explicit State(std::ostream& stream) : out(stream) {}

  std::ostream& out;
  z_stream zlib{};
  std::array<unsigned char, 64 * 1024> compressed{};
  std::string carry;  // 0-2 compressed bytes waiting for a full base64 group of three
  std::string encoded;
  bool finished = false;

  // Encodes whole groups of three bytes; the rest waits in `carry` unless this is the end.
  void encode(const unsigned char* data, std::size_t size, bool last) {
    carry.append(reinterpret_cast<const char*>(data), size);
    encoded.clear();
    encode_base64(carry, encoded, last);
    out.write(encoded.data(), static_cast<std::streamsize>(encoded.size()));
  }

  // Runs deflate over the pending input, encoding whatever it produces.
  Result<Ok> deflate_all(int flush) {
    int status = Z_OK;
    do {
      zlib.next_out = compressed.data();
      zlib.avail_out = static_cast<uInt>(compressed.size());
      status = deflate(&zlib, flush);
      if (status == Z_STREAM_ERROR) return Error{ErrorKind::kIo, "gzip compression failed"};
      encode(compressed.data(), compressed.size() - zlib.avail_out, flush == Z_FINISH && status == Z_STREAM_END);
    } while (zlib.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END));
    return Ok{};
  }
};

Result<std::unique_ptr<GzipBase64Writer>> GzipBase64Writer::open(std::ostream& out) {
  auto state = std::make_unique<State>(out);
  if (deflateInit2(&state->zlib, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error{ErrorKind::kIo, "cannot start gzip compression"};
  }
  return std::unique_ptr<GzipBase64Writer>(new GzipBase64Writer(std::move(state)));
}

GzipBase64Writer::GzipBase64Writer(std::unique_ptr<State> state) : state_(std::move(state)) {}

GzipBase64Writer::~GzipBase64Writer() { deflateEnd(&state_->zlib); }

Result<Ok> GzipBase64Writer::write(std::string_view bytes) {
  while (!bytes.empty()) {
    // avail_in is 32 bits: feed huge inputs in slices.
    const std::size_t slice = std::min<std::size_t>(bytes.size(), 1u << 30);
    state_->zlib.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    state_->zlib.avail_in = static_cast<uInt>(slice);
    if (auto deflated = state_->deflate_all(Z_NO_FLUSH); !deflated.ok()) return deflated;
    bytes.remove_prefix(slice);
  }
  return Ok{};
}

Result<Ok> GzipBase64Writer::finish() {
  if (state_->finished) return Ok{};
  state_->finished = true;
  state_->zlib.next_in = nullptr;
  state_->zlib.avail_in = 0;
  return state_->deflate_all(Z_FINISH);
}

}  // namespace llmeval::report
