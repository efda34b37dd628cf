#include "core/cache/cache_key.h"

#include <openssl/evp.h>

namespace llmeval::cache {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // Fails only on a broken OpenSSL installation (no SHA-256 provider).
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string cache_key(std::string_view request_identity, int sample) {
  std::string material = "llmeval-judge-cache-v1\nsample=" + std::to_string(sample) + "\n";
  material.append(request_identity);
  return sha256_hex(material);  // empty if OpenSSL failed: the call is then not cached
}

}  // namespace llmeval::cache
