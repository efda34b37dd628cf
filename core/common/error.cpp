#include "core/common/error.h"

namespace llmeval {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kConnect: return "connect";
    case ErrorKind::kRateLimited: return "rate_limited";
    case ErrorKind::kServer: return "server";
    case ErrorKind::kBadRequest: return "bad_request";
    case ErrorKind::kAuth: return "auth";
    case ErrorKind::kParse: return "parse";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kCancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace llmeval
