// Error values shared by every area: ErrorKind, Error, Result<T>.
//
// Expected failures (a timeout, a 429, an unparseable judge reply, an unreadable file, a bad
// config) travel as values in Result<T>; retry, breaker and fallback decide on Error::kind, never
// on message text. core/ never ends the process or picks an exit code: cli/ turns the errors it
// cannot go on with into exit codes, in one place (cli/fatal_error.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace llmeval {

enum class ErrorKind {
  kTimeout,      // an attempt's deadline passed
  kConnect,      // could not connect / connection reset
  kRateLimited,  // 429 or a limiter refusal
  kServer,       // 5xx, 529, malformed provider reply
  kBadRequest,   // 4xx other than auth/429: our request was wrong, retrying will not help
  kAuth,         // 401/403: the key is wrong or lacks permission
  kParse,        // a judge reply that is not a verdict
  kIo,           // local I/O or transport failure that is not one of the above
  kCancelled,    // the run is stopping
};

// Stable lower-case name, used in logs and metrics ("timeout", "rate_limited", ...).
std::string_view to_string(ErrorKind kind);

struct Error {
  Error() = default;
  Error(ErrorKind k, std::string m, std::optional<std::chrono::milliseconds> after = std::nullopt)
      : kind(k), message(std::move(m)), retry_after(after) {}

  ErrorKind kind = ErrorKind::kIo;
  std::string message;
  // Set when the other side told us when to come back (Retry-After, limiter refusal).
  std::optional<std::chrono::milliseconds> retry_after;
  // The HTTP status of the reply this error came from; 0 when there was no reply (timeout,
  // connection failure) or no HTTP at all. For metrics; decisions use `kind`.
  int http_status = 0;
};

// What Result<Ok> holds on success: for steps that return nothing but may fail.
struct Ok {};

template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace llmeval
