// llmeval_fake_provider: a real HTTP server on 127.0.0.1 (libevent evhttp, one thread) that
// speaks the OpenAI chat-completions and Anthropic messages wire APIs and answers like a
// deterministic LLM judge, with latency and fault injection. Integration tests and benchmarks
// start it on port 0 and read the `PORT=<n>` line it prints on stdout.
//
// Endpoints:
//   POST /v1/chat/completions, /chat/completions   OpenAI (auth: Authorization: Bearer K), or
//                                                  Ollama's OpenAI endpoint with --flavor ollama
//   POST /openai/deployments/D/chat/completions?api-version=V   Azure OpenAI (auth: api-key: K)
//   POST /openai/v1/chat/completions               Azure's v1 API (auth: api-key: K)
//   POST /v1/messages                              Anthropic (auth: x-api-key: K; needs
//                                                  anthropic-version)
//   GET  /stats, POST /stats/reset                 counters for tests (not counted themselves)
//   POST /control                                  switch faults at run time (see kUsage)
//   GET  /log                                      every API request: arrival, reply, hang-up
//   OpenAI Batch API (auth as /v1/chat/completions; also under /openai/v1/... and, with
//   ?api-version=V, /openai/files... and /openai/batches... as Azure's, with its api-key; Azure's
//   lines name a deployment as the model, the same on every line):
//   POST /v1/files (multipart: purpose, file)      a File object; GET /v1/files/{id}, /v1/files/{id}/content
//   POST /v1/batches, GET /v1/batches (list), GET /v1/batches/{id}, POST .../{id}/cancel   batches
//   Anthropic Message Batches (auth as /v1/messages):
//   POST /v1/messages/batches, GET /v1/messages/batches/{id}, POST .../{id}/cancel, GET .../{id}/results
//
// Batches: each item is judged by the same function as the online endpoint (so its verdict is
// the online verdict for the same body), once the batch's --batch-delay-ms has passed; results
// come back shuffled (seeded); markers script single items; see kUsage.
//
// The verdict, {"reason": "...", "score": N}: the score range comes from a `Scale: MIN-MAX` line
// (user messages first, then the system prompt; default 1-5; `binary` means 0-1); the score is
// FNV-1a(last user message; its ends when long) mod range + MIN, held to a response schema's
// properties.score.enum if there is one (--fixed-score N: always N). Markers `[[fake:key=value]]`
// in any user message script one request (see kUsage). Latency is an evtimer, never a sleep, so
// a single thread holds thousands of requests in flight.
//
// Pairwise comparison: a request whose user messages (any of them: a repair turn does not
// repeat them) hold both an `<answer_a>\n...\n</answer_a>` and an `<answer_b>\n...\n</answer_b>`
// section gets {"reason": "fake judge: ...", "winner": "A"|"B"|"tie"}, the label as shown in
// that request: with --pairwise better (default) the section with the higher
// [[fake:quality=N]] wins (absent: 0; equal: "tie"), so the same answer wins in either order;
// with --pairwise first it is always "A". --verdict garbage makes every reply (score or
// pairwise, first attempt or repair) prose without a JSON object: a juror that never answers.
//
// Each API's documented parameter rules apply by model name (after the last '/', any case), so
// that a client's request shapes meet them here before they meet the vendor: reasoning models
// (OpenAI o<digit>*, gpt-5*; Claude Fable, Opus 5.5+) spend reasoning tokens within their cap
// and may come back empty; newer models refuse parameters with the vendors' exact 400 bodies;
// response_format / output_config are validated; prompt caching shows in usage. See kUsage.
//
// --rpm/--tpm model a provider account's limits as token buckets that refill continuously, the
// way Anthropic documents its own: a request is checked on arrival and refused with a 429 that
// says when enough will have refilled. Times in /stats and /log are milliseconds since the
// server started, on a steady clock (`now_ms` relates them to the moment of the answer).
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace {

using nlohmann::json;

constexpr const char* kUsage = R"(usage: llmeval_fake_provider [options]
  --port N          port on 127.0.0.1 (default 0: pick a free one; printed as PORT=<n>)
  --latency-ms N    latency added to every API reply (default 0)
  --jitter-ms N     extra uniform random latency in [0, N] (default 0)
  --error-rate P    fraction of API requests answered 500 (default 0)
  --rate-429 P      fraction of API requests answered 429 with retry-after: 1 (default 0)
  --seed N          seed for latency jitter and injected errors (default 1)
  --api-key K       require this key (Bearer / x-api-key / Azure's api-key); default: accept any
  --rpm N           requests per minute, enforced like a provider account (default 0: off)
  --tpm N           tokens per minute (prompt + completion as `usage` reports them; default 0: off)
  --burst-s S       bucket capacity in seconds of refill: max(1, N/60*S) (default 1.0)
  --files DIR       also serve GET /files/NAME from DIR (datasets by URL); ?cut=N sends the
                    first N bytes under the whole file's Content-Length, then hangs up
    Each limit is a token bucket refilling at N/60 a second and starting full. A request is
    admitted when every bucket holds its charge (or, for a charge above the capacity, when the
    bucket is full: it then goes into debt). A refused request costs nothing and gets an
    immediate 429 with retry-after-ms (until enough has refilled) and retry-after (ceil s).
    Requests refused as invalid (401, 400) are not charged; scripted faults are.
  --verdict V       normal (default) | garbage: every judge reply's text, score or pairwise,
                    first attempt or repair, is prose with no JSON object: "I would rather not
                    give a number." (score) / "I would rather not pick either answer." (pairwise)
  --fixed-score N   every score verdict is N (not held to a schema's enum); a [[fake:score=N]]
                    marker still wins
  --pairwise P      better (default) | first: how a pairwise request's winner is picked (below)
Markers in a user message: [[fake:score=N]] [[fake:status=NNN]] [[fake:delay_ms=N]]
  [[fake:reply=unparseable|unparseable_once|fenced|out_of_range|no_score]] [[fake:fail_first=N]]
  [[fake:body=not_json|error_object]] [[fake:exhausted=N]] (rate-limit headers: used up for N s)
  [[fake:retry_after_ms=N]] (with status=NNN: retry-after-ms: N, retry-after: ceil(N/1000))
  [[fake:quality=N]] inside an <answer_a>/<answer_b> section: that answer's quality (Pairwise)
  Hostile replies: [[fake:body=html]] a proxy's HTML error page (text/html; with status=NNN,
  that status; else 200); [[fake:body=cut]] the completion cut in half (a consistent
  Content-Length); [[fake:body=truncated]] a Content-Length of the whole completion but only
  half of it sent, then the connection closed; [[fake:body=huge]] a 50 MiB completion
  (Content-Length set, streamed from one 1 MiB block); [[fake:body=huge_chunked]] the same
  in chunked encoding, with no length up front; [[fake:content_type=T]] sends
  Content-Type T on whatever the reply is (text/plain, text/html, ...).
Pairwise: a request is pairwise when its user messages (any of them) hold both a section
  `<answer_a>\n...\n</answer_a>` and a section `<answer_b>\n...\n</answer_b>` (the first
  `</answer_a>` after `<answer_a>\n` closes it: a client escapes one inside the content as
  `<\/answer_a`). Its reply is {"reason": "fake judge: ...", "winner": "A"|"B"|"tie"}, the label
  as shown in this request. --pairwise first: always "A" (total position bias). --pairwise
  better: the section holding the higher [[fake:quality=N]] (integer; absent 0) wins, equal is
  "tie"; so the same answer wins in either order. Reasons: "the first answer shown", "the
  higher quality marker", "equal quality". Other markers apply as to a score request (score=
  is ignored); reply=no_score drops the winner, reply=out_of_range answers winner "C". A
  response schema without properties.score (the pairwise one: reason + winner enum A|B|tie)
  is validated like any other.
Control (not counted as API requests):
  POST /control {"mode": "ok"|"fail"|"hang", "status": NNN, "throttle_ms": N}
    fail: every API request arriving later gets `status` (default 500) after the latency;
    hang: every API request arriving later is held, unanswered, until its client hangs up;
    throttle_ms: for the next N ms every API request gets an immediate 429 whose
    retry-after-ms is the rest of that window. Answers {"ok":true}, or 400 and a message.
    Also {"batch_expire": true|false, "batch_delay_ms": N}: the batch knobs below, from now
    on (for batches not yet processed).
  GET /log   {"requests": [{"path", "arrived_ms", "finished_ms" (null while pending),
             "status" (0 until answered), "client_closed"}, ...], "log_dropped", "now_ms"}
             API requests in arrival order; the first 200000 are kept, the rest only counted.
  POST /stats/reset also clears the log, sets mode ok, ends a throttle and refills the buckets.
Order for an API request: a throttle window, then the mode, then validation, --rpm/--tpm, markers.
Vendor rules (model = the name after its last '/', any case; a 400 is not charged):
  --reasoning-tokens N  tokens a reasoning model thinks before answering (default 600);
                        [[fake:reasoning=N]] for one request
  --refuse LIST     comma list of max_tokens,max_completion_tokens,temperature,response_format,
                    reasoning_effort: a model outside the known families (o<digit>*, gpt-5*,
                    gpt-4*, gpt-3.5*, claude-*) refuses those fields with OpenAI's 400 bodies,
                    checked in that order (on /v1/messages: temperature, Anthropic's body)
  --flavor F        openai (default) | ollama: the plain OpenAI paths act like Ollama: max_tokens
                    caps the text, max_completion_tokens is ignored, usage has no *_details, no
                    model rule or --refuse applies, response_format is not checked
  --azure-deployment NAME=MODEL  (repeatable) the model behind an Azure deployment (default:
                    the deployment's name); the reply's "model" says it. An Azure batch line's
                    body "model" must then be one of the NAMEs (else any name is its own model)
  OpenAI (and Azure): o<digit>* and gpt-5* refuse max_tokens (unsupported_parameter) and a
    temperature other than 1 (unsupported_value, echoing the number as sent); they spend R
    reasoning tokens: if max_completion_tokens < R + text tokens, a 200 with content "",
    finish_reason "length" and completion = reasoning = the cap; else completion = text + R.
    response_format: {"type":"json_object"} needs "json" (any case) in the messages;
    json_schema needs json_schema.name [A-Za-z0-9_-]{1,64}; with "strict": true every object
    schema needs additionalProperties false and all its properties required ("Invalid schema
    for response_format '<name>': ..."); "text" passes; other types are 400s. usage always
    has prompt_tokens_details.cached_tokens and completion_tokens_details.reasoning_tokens.
    Caching: a system prompt of >= 1024 tokens (chars/4) seen before with the same model gets
    cached_tokens = its tokens rounded down to 128 (prompt_tokens still counts them).
  Azure: a deployment path without api-version: 404 {"error":{"code":"404",...}}; with
    --api-key, a missing/wrong api-key header: 401 {"error":{"code":"401",...}}.
  Anthropic: claude-opus-4-7+ and every Claude 5+ model refuse temperature ("`temperature` is
    deprecated for this model."). output_config: format {"type":"json_schema","schema":{...}}
    for 4.5+ models (older: "output_config.format: Extra inputs are not permitted"; the schema
    needs additionalProperties false on objects and no minimum/maximum), effort low|medium|
    high|xhigh|max, other keys refused. Caching: system blocks up to the last one with
    cache_control, if >= 1024 tokens (4096 opus-4-5..4-7 and haiku-4-5, 2048 sonnet-4-6): the
    first time cache_creation_input_tokens, then cache_read_input_tokens (input_tokens is the
    rest; both fields always present). Thinking models (claude-fable-*, claude-opus-5-5+) send
    a thinking block first and spend R: if max_tokens < R + text tokens, only the thinking
    block, stop_reason "max_tokens", output_tokens = max_tokens.
  GET /stats "usage": the successful replies' usage summed (prompt_tokens, completion_tokens,
    cached_tokens, cache_write_tokens): what the account was billed.
  GET /stats "sent": API requests that carried max_tokens, max_completion_tokens, temperature,
    response_format_json_schema, response_format_json_object, output_config_format,
    output_config_effort, reasoning_effort, cache_control (whatever the answer; not those a
    throttle or mode answered). /stats/reset zeroes them and forgets the prompt caches.
)";

// --refuse: the fields a model outside the known families is made to refuse.
enum RefuseBit : unsigned {
  kRefuseMaxTokens = 1,
  kRefuseMaxCompletionTokens = 2,
  kRefuseTemperature = 4,
  kRefuseResponseFormat = 8,
  kRefuseReasoningEffort = 16,
};

enum class Flavor { kOpenAi, kOllama };

// --verdict: what every judge reply says. --pairwise: how a pairwise judge picks its winner.
enum class VerdictMode { kNormal, kGarbage };
enum class PairwiseMode { kBetter, kFirst };

struct Options {
  int port = 0;
  int latency_ms = 0;
  int jitter_ms = 0;
  double error_rate = 0;
  double rate_429 = 0;
  std::uint64_t seed = 1;
  std::optional<std::string> api_key;
  std::int64_t rpm = 0;  // 0: no limit
  std::int64_t tpm = 0;  // 0: no limit
  double burst_s = 1.0;
  std::string files_dir;  // --files: GET /files/NAME serves DIR/NAME
  Flavor flavor = Flavor::kOpenAi;  // what the plain OpenAI paths behave like
  std::uint64_t reasoning_tokens = 600;  // R: what a reasoning model spends before its answer
  unsigned refuse = 0;  // RefuseBit set
  std::map<std::string, std::string> azure_deployments;  // deployment name -> model
  VerdictMode verdict = VerdictMode::kNormal;  // garbage: every reply is prose without JSON
  std::optional<int> fixed_score;  // every score verdict (a [[fake:score=N]] marker still wins)
  PairwiseMode pairwise = PairwiseMode::kBetter;
  int batch_delay_ms = 200;    // --batch-delay-ms: processing time of a batch
  bool batch_expire = false;   // --batch-expire: batches expire instead of completing
  bool batch_shuffle = true;   // --batch-order shuffled (default) | input
};

[[noreturn]] void usage_error(const std::string& message);

unsigned parse_refuse(const std::string& list) {
  unsigned bits = 0;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = std::min(list.find(',', start), list.size());
    std::string item = list.substr(start, comma - start);
    if (item == "temperature") bits |= kRefuseTemperature;
    else if (item == "max_tokens") bits |= kRefuseMaxTokens;
    else if (item == "max_completion_tokens") bits |= kRefuseMaxCompletionTokens;
    else if (item == "response_format") bits |= kRefuseResponseFormat;
    else if (item == "reasoning_effort") bits |= kRefuseReasoningEffort;
    else if (!item.empty()) usage_error("--refuse: unknown field '" + item + "'");
    start = comma + 1;
  }
  return bits;
}

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "llmeval_fake_provider: " << message << "\n" << kUsage;
  std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T value{};
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      value = static_cast<T>(std::stod(text, &used));
      if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
  } else {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  }
  usage_error("bad value for " + flag + ": '" + text + "'");
}

// Accepts `--flag value` and `--flag=value`.
Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("missing value for " + flag);
    }
    if (flag == "--port") options.port = parse_number<int>(flag, value);
    else if (flag == "--latency-ms") options.latency_ms = parse_number<int>(flag, value);
    else if (flag == "--jitter-ms") options.jitter_ms = parse_number<int>(flag, value);
    else if (flag == "--error-rate") options.error_rate = parse_number<double>(flag, value);
    else if (flag == "--rate-429") options.rate_429 = parse_number<double>(flag, value);
    else if (flag == "--seed") options.seed = parse_number<std::uint64_t>(flag, value);
    else if (flag == "--api-key") options.api_key = value;
    else if (flag == "--files") options.files_dir = value;
    else if (flag == "--rpm") options.rpm = parse_number<std::int64_t>(flag, value);
    else if (flag == "--tpm") options.tpm = parse_number<std::int64_t>(flag, value);
    else if (flag == "--burst-s") options.burst_s = parse_number<double>(flag, value);
    else if (flag == "--reasoning-tokens") options.reasoning_tokens = parse_number<std::uint64_t>(flag, value);
    else if (flag == "--refuse") options.refuse |= parse_refuse(value);
    else if (flag == "--flavor") {
      if (value == "openai") options.flavor = Flavor::kOpenAi;
      else if (value == "ollama") options.flavor = Flavor::kOllama;
      else usage_error("--flavor: expected openai or ollama");
    } else if (flag == "--azure-deployment") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        usage_error("--azure-deployment: expected NAME=MODEL");
      }
      options.azure_deployments[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (flag == "--verdict") {
      if (value == "normal") options.verdict = VerdictMode::kNormal;
      else if (value == "garbage") options.verdict = VerdictMode::kGarbage;
      else usage_error("--verdict: expected normal or garbage");
    } else if (flag == "--fixed-score") {
      options.fixed_score = parse_number<int>(flag, value);
    } else if (flag == "--pairwise") {
      if (value == "better") options.pairwise = PairwiseMode::kBetter;
      else if (value == "first") options.pairwise = PairwiseMode::kFirst;
      else usage_error("--pairwise: expected better or first");
    }
    else if (flag == "--batch-delay-ms") options.batch_delay_ms = parse_number<int>(flag, value);
    else if (flag == "--batch-expire") {
      if (value == "on") options.batch_expire = true;
      else if (value == "off") options.batch_expire = false;
      else usage_error("--batch-expire: expected on or off");
    } else if (flag == "--batch-order") {
      if (value == "shuffled") options.batch_shuffle = true;
      else if (value == "input") options.batch_shuffle = false;
      else usage_error("--batch-order: expected shuffled or input");
    }
    else usage_error("unknown option " + flag);
  }
  if (options.batch_delay_ms < 0) usage_error("--batch-delay-ms must be >= 0");
  if (options.port < 0 || options.port > 65535) usage_error("--port out of range");
  if (options.latency_ms < 0 || options.jitter_ms < 0) usage_error("latencies must be >= 0");
  if (options.rpm < 0 || options.tpm < 0) usage_error("--rpm and --tpm must be >= 0");
  if (!(options.burst_s > 0)) usage_error("--burst-s must be > 0");
  return options;
}

// ---- the judge's side: scale, markers, verdict text (pure) ----

// FNV-1a, 64-bit: cheap, stable across platforms, good enough to spread scores. A text over
// 64 KiB is hashed by its first and last 32 KiB and its length: a byte-at-a-time hash of a 1 MB
// output cost the fake a millisecond per request, more than the server it stands in front of.
std::uint64_t fnv1a(std::string_view text) {
  constexpr std::size_t kEnds = 32 * 1024;
  auto mix = [](std::uint64_t hash, std::string_view part) {
    for (unsigned char c : part) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
    return hash;
  };
  std::uint64_t hash = 14695981039346656037ULL;
  if (text.size() <= 2 * kEnds) return mix(hash, text);
  hash = mix(hash, text.substr(0, kEnds));
  hash = mix(hash, text.substr(text.size() - kEnds));
  return mix(hash, std::to_string(text.size()));
}

struct Scale {
  int min = 1;
  int max = 5;
};

// Finds `Scale: MIN-MAX` (or `Scale: binary`) anywhere in text.
std::optional<Scale> find_scale(std::string_view text) {
  constexpr std::string_view kKey = "Scale:";
  for (auto pos = text.find(kKey); pos != std::string_view::npos; pos = text.find(kKey, pos + 1)) {
    std::string_view rest = text.substr(pos + kKey.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.substr(0, 6) == "binary") return Scale{0, 1};
    Scale scale;
    auto [mid, ec1] = std::from_chars(rest.data(), rest.data() + rest.size(), scale.min);
    if (ec1 != std::errc() || mid == rest.data() + rest.size() || *mid != '-') continue;
    auto [end, ec2] = std::from_chars(mid + 1, rest.data() + rest.size(), scale.max);
    if (ec2 == std::errc() && scale.max > scale.min) return scale;
  }
  return std::nullopt;
}

struct Markers {
  std::optional<int> score;
  std::optional<int> status;
  std::optional<int> delay_ms;
  std::optional<int> fail_first;
  std::optional<int> exhausted_s;  // rate-limit headers: budget used up, resets in N seconds
  std::optional<int> retry_after_ms;  // with status: retry-after-ms / retry-after headers
  std::optional<int> reasoning;  // reasoning tokens a reasoning/thinking model spends (else --reasoning-tokens)
  std::optional<int> quality;  // pairwise: an answer's quality, read per <answer_a>/<answer_b> section
  std::string reply;  // unparseable | unparseable_once | fenced | out_of_range | no_score
  std::string body;   // not_json | error_object | html | cut | truncated | huge | huge_chunked
  std::string content_type;  // overrides the reply's Content-Type
};

// Reads every `[[fake:key=value]]` in text into markers; later ones win. Unknown keys and bad
// numbers are ignored so that a typo shows up as a normal reply rather than a crash.
void read_markers(std::string_view text, Markers& markers) {
  constexpr std::string_view kOpen = "[[fake:";
  for (auto pos = text.find(kOpen); pos != std::string_view::npos; pos = text.find(kOpen, pos + 1)) {
    auto close = text.find("]]", pos);
    if (close == std::string_view::npos) return;
    std::string_view item = text.substr(pos + kOpen.size(), close - pos - kOpen.size());
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    int number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    bool numeric = ec == std::errc() && end == value.data() + value.size();
    if (key == "score" && numeric) markers.score = number;
    else if (key == "status" && numeric && number >= 100 && number <= 599) markers.status = number;
    else if (key == "delay_ms" && numeric) markers.delay_ms = number;
    else if (key == "fail_first" && numeric) markers.fail_first = number;
    else if (key == "exhausted" && numeric) markers.exhausted_s = number;
    else if (key == "retry_after_ms" && numeric && number >= 0) markers.retry_after_ms = number;
    else if (key == "reasoning" && numeric && number >= 0) markers.reasoning = number;
    else if (key == "quality" && numeric) markers.quality = number;
    else if (key == "reply") markers.reply = value;
    else if (key == "body") markers.body = value;
    else if (key == "content_type") markers.content_type = value;
  }
}

// The verdict the judge prompt asks for: reason first, then the score.
std::string verdict_text(int score) {
  return R"({"reason": "fake judge: deterministic score", "score": )" + std::to_string(score) + "}";
}

// --verdict garbage: what such a juror says instead of a verdict (no JSON object in either).
constexpr std::string_view kGarbageScore = "I would rather not give a number.";
constexpr std::string_view kGarbagePairwise = "I would rather not pick either answer.";

// A pairwise verdict: reason first, then the winner ("A", "B" or "tie", as shown).
std::string pairwise_verdict_text(std::string_view winner, std::string_view reason) {
  return R"({"reason": "fake judge: )" + std::string(reason) + R"(", "winner": ")" + std::string(winner) + "\"}";
}

// The content of the first `<tag>\n...\n</tag>` section in text, or nullopt. A "</tag" inside
// the content is escaped by the client ("<\/tag"), so the first "</tag>" after the opening
// tag closes it.
std::optional<std::string_view> find_section(std::string_view text, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">\n";
  const std::string close = "</" + std::string(tag) + ">";
  auto start = text.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  start += open.size();
  auto end = text.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view content = text.substr(start, end - start);
  if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
  return content;
}

// The two answers of a pairwise request, as shown (A first).
struct AnswerPair {
  std::string_view a;
  std::string_view b;
};

// A request is pairwise when its user messages hold both an <answer_a> and an <answer_b>
// section (in any of them: a repair turn does not repeat the sections).
std::optional<AnswerPair> find_answer_pair(std::string_view all_user) {
  auto a = find_section(all_user, "answer_a");
  if (!a) return std::nullopt;
  auto b = find_section(all_user, "answer_b");
  if (!b) return std::nullopt;
  return AnswerPair{*a, *b};
}

// An answer's [[fake:quality=N]] (the last one in its section; absent: 0).
int answer_quality(std::string_view section) {
  Markers markers;
  read_markers(section, markers);
  return markers.quality.value_or(0);
}

// The value of `allowed` nearest to score (the lower one on a tie): what a decoder held to a
// schema's `enum` could produce. `allowed` empty: score.
int clamp_into(int score, const std::vector<int>& allowed) {
  if (allowed.empty()) return score;
  int best = allowed.front();
  for (int value : allowed) {
    long distance = std::labs(static_cast<long>(value) - score);
    long best_distance = std::labs(static_cast<long>(best) - score);
    if (distance < best_distance || (distance == best_distance && value < best)) best = value;
  }
  return best;
}

// ---- model families: which vendor rules a model name is held to ----

// The name the rules look at: anything up to the last '/' dropped (openai/gpt-5, a proxy's
// anthropic/claude-...), lower case.
std::string rule_name(std::string_view model) {
  if (auto slash = model.rfind('/'); slash != std::string_view::npos) model.remove_prefix(slash + 1);
  std::string name(model);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// o1, o3-mini, o4-mini, gpt-5, gpt-5.1, gpt-5-mini ...: reasoning models.
bool openai_reasoning(std::string_view m) {
  return (m.size() >= 2 && m[0] == 'o' && std::isdigit(static_cast<unsigned char>(m[1])) != 0) ||
         starts_with(m, "gpt-5");
}

// Models whose rules the fake knows; --refuse applies to every other name.
bool known_family(std::string_view m) {
  return openai_reasoning(m) || starts_with(m, "gpt-4") || starts_with(m, "gpt-3.5") || starts_with(m, "claude-");
}

// claude-<family>-<major>[-<minor>][-<date>] (claude-opus-4-5-20251101, claude-sonnet-5), or
// the older claude-<major>[-<minor>]-<family>[-<date>] (claude-3-5-sonnet-20241022). A '.'
// also separates major and minor (claude-sonnet-4.5). Unparsed: no version-bound rule applies.
struct ClaudeModel {
  bool parsed = false;
  std::string family;
  int major = 0;
  int minor = 0;
  int version() const { return major * 100 + minor; }
};

ClaudeModel parse_claude(std::string_view m) {
  ClaudeModel model;
  if (!starts_with(m, "claude-")) return model;
  m.remove_prefix(7);
  auto read_int = [](std::string_view& text, int& out, std::size_t max_digits) {
    std::size_t n = 0;
    while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n])) != 0) ++n;
    if (n == 0 || n > max_digits) return false;
    std::from_chars(text.data(), text.data() + n, out);
    text.remove_prefix(n);
    return true;
  };
  auto read_minor = [&](std::string_view& text) {
    if (text.size() < 2 || (text[0] != '-' && text[0] != '.')) return;
    std::string_view rest = text.substr(1);
    int minor = 0;
    if (read_int(rest, minor, 2) && (rest.empty() || rest[0] == '-' || rest[0] == '@')) {
      model.minor = minor;
      text = rest;
    }
  };
  auto read_word = [](std::string_view& text) {
    std::size_t n = 0;
    while (n < text.size() && std::isalpha(static_cast<unsigned char>(text[n])) != 0) ++n;
    std::string word(text.substr(0, n));
    text.remove_prefix(n);
    return word;
  };
  if (std::isdigit(static_cast<unsigned char>(m.front())) != 0) {
    if (!read_int(m, model.major, 2)) return model;
    read_minor(m);
    if (m.empty() || m[0] != '-') return model;
    m.remove_prefix(1);
    model.family = read_word(m);
  } else {
    model.family = read_word(m);
    if (m.size() < 2 || m[0] != '-') return model;
    m.remove_prefix(1);
    if (!read_int(m, model.major, 2)) return model;
    read_minor(m);
  }
  model.parsed = !model.family.empty();
  return model;
}

// Opus 4.7 and later, and every Claude 5+ model, refuse `temperature`.
bool claude_refuses_temperature(const ClaudeModel& c) {
  return c.parsed && ((c.family == "opus" && c.version() >= 407) || c.major >= 5);
}

// output_config.format (structured outputs): 4.5 and later. An unparsed name is not refused.
bool claude_structured_outputs(const ClaudeModel& c) { return !c.parsed || c.version() >= 405; }

// The smallest prefix (tokens) a cache_control breakpoint caches.
std::uint64_t claude_cache_minimum(const ClaudeModel& c) {
  if (!c.parsed) return 1024;
  if ((c.family == "opus" && c.version() >= 405 && c.version() <= 407) ||
      (c.family == "haiku" && c.version() == 405)) {
    return 4096;
  }
  if (c.family == "sonnet" && c.version() == 406) return 2048;
  return 1024;
}

// Always-thinking models: Fable, and Opus 5.5 and later.
bool claude_thinks(const ClaudeModel& c) {
  return c.parsed && (c.family == "fable" || (c.family == "opus" && c.version() >= 505));
}

// ---- the wire side: requests in, vendor-shaped bodies out ----

enum class Vendor { kOpenAi, kAnthropic };

// What the judge needs from a request, whichever vendor's shape it came in.
struct Conversation {
  std::string model;
  std::string last_user;   // content of the last user message
  std::string all_user;    // every user message, in order (markers may sit in an earlier turn)
  std::string system;      // system prompt(s): a fallback place for the Scale line
  std::string assistant;    // every assistant message (json_object looks for "json" in all)
  bool has_assistant = false;  // a repair attempt replays the bad reply as an assistant turn
  std::size_t total_chars = 0;
  // Anthropic: the system text up to and including the last block with cache_control.
  std::optional<std::size_t> cache_prefix_chars;
};

// Requests are read with simdjson: the fake must not be the bottleneck of the throughput
// benchmark, and nlohmann's per-character lexer made request parsing most of its CPU.
using simdjson::dom::element;

// Message content is a string or (both vendors) an array of parts; the text parts count.
std::optional<std::string> content_text(element content) {
  if (content.is_string()) return std::string(std::string_view(content));
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (element part : content.get_array()) {
    element part_text;
    if (part.is_object() && part["text"].get(part_text) == simdjson::SUCCESS && part_text.is_string()) {
      text += std::string_view(part_text);
    }
  }
  return text;
}

// Validates the request shape the way the real APIs do (so provider bugs surface here) and
// returns the conversation, or an error message for a 400.
// model_override: an Azure deployment's model (the body then needs no model).
std::variant<Conversation, std::string> read_conversation(Vendor vendor, element body,
                                                          const std::optional<std::string>& model_override) {
  if (!body.is_object()) return std::string("request body must be a JSON object");
  Conversation conv;
  element field;
  if (model_override) {
    conv.model = *model_override;
  } else if (body["model"].get(field) != simdjson::SUCCESS || !field.is_string()) {
    return std::string("model: required string");
  } else {
    conv.model = std::string(std::string_view(field));
  }
  if (vendor == Vendor::kAnthropic) {
    if (body["max_tokens"].get(field) != simdjson::SUCCESS || !(field.is_int64() || field.is_uint64())) {
      return std::string("max_tokens: Field required");
    }
    if (body["system"].get(field) == simdjson::SUCCESS) {
      auto system = content_text(field);
      if (!system) return std::string("system: must be a string or a list of text blocks");
      conv.system = *system;
      if (field.is_array()) {
        std::size_t chars = 0;
        for (element block : field.get_array()) {
          element text;
          if (block.is_object() && block["text"].get(text) == simdjson::SUCCESS && text.is_string()) {
            chars += std::string_view(text).size();
          }
          element cache;
          if (block.is_object() && block["cache_control"].get(cache) == simdjson::SUCCESS && cache.is_object()) {
            conv.cache_prefix_chars = chars;
          }
        }
      }
    }
  }
  simdjson::dom::array messages;
  if (body["messages"].get(messages) != simdjson::SUCCESS || messages.size() == 0) {
    return std::string("messages: required non-empty array");
  }
  bool seen_user = false;
  for (element message : messages) {
    element role_field;
    if (!message.is_object() || message["role"].get(role_field) != simdjson::SUCCESS || !role_field.is_string()) {
      return std::string("messages: each message needs a string role");
    }
    std::string role{std::string_view(role_field)};
    element content;
    auto text = message["content"].get(content) == simdjson::SUCCESS ? content_text(content) : std::nullopt;
    if (!text) return std::string("messages: content must be a string or a list of parts");
    conv.total_chars += text->size();
    if (role == "user") {
      seen_user = true;
      conv.all_user += *text;
      conv.all_user += '\n';
      conv.last_user = std::move(*text);
    } else if (role == "assistant") {
      conv.has_assistant = true;
      conv.assistant += *text;
    } else if (vendor == Vendor::kAnthropic) {
      // Anthropic takes the system prompt as a top-level field, never as a message.
      return "messages: unexpected role '" + role + "' (use the top-level system field)";
    } else if (role == "system" || role == "developer") {
      conv.system += *text;
    }
  }
  if (!seen_user) return std::string("messages: at least one user message is required");
  // OpenAI's system messages were counted with the messages; Anthropic's system field was not.
  if (vendor == Vendor::kAnthropic) conv.total_chars += conv.system.size();
  return conv;
}

std::string openai_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "invalid_request_error";
    case 403: return "permission_error";
    case 404: return "invalid_request_error";
    case 429: return "rate_limit_exceeded";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string anthropic_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

using ordered_json = nlohmann::ordered_json;

// Anthropic's errors carry the request's id, as the real API's do.
std::string anthropic_error_body(const std::string& type, const std::string& message) {
  static std::uint64_t next_request = 0;
  return ordered_json{{"type", "error"},
                      {"error", {{"type", type}, {"message", message}}},
                      {"request_id", "req_fake" + std::to_string(++next_request)}}
      .dump();
}

// An OpenAI error with its fields in the vendor's order (null param/code: pass nullptr).
std::string openai_error_body(const std::string& message, const json& param, const json& code,
                              const std::string& type = "invalid_request_error") {
  return ordered_json{{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}}.dump();
}

// Azure's own errors (before a request reaches the model): {"error":{"code","message"}}.
std::string azure_error_body(const std::string& code, const std::string& message) {
  return ordered_json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

std::string error_body(Vendor vendor, int status, const std::string& message) {
  if (vendor == Vendor::kAnthropic) return anthropic_error_body(anthropic_error_type(status), message);
  json code = status == 401 ? json("invalid_api_key") : status == 429 ? json("rate_limit_exceeded") : json(nullptr);
  return json{{"error", {{"message", message}, {"type", openai_error_type(status)}, {"param", nullptr}, {"code", code}}}}
      .dump();
}

// ---- the request's parameters and the vendors' rules about them ----

// The top-level parameters the vendor rules and the /stats "sent" counters look at, read in
// one pass over the body's keys. A null value counts as absent. The elements live as long as
// the parser's document (the request).
struct Fields {
  bool max_tokens = false;
  std::int64_t max_tokens_value = 0;
  bool max_completion_tokens = false;
  std::int64_t max_completion_tokens_value = 0;
  bool temperature = false;
  double temperature_value = 1;
  bool temperature_integer = false;  // sent as 0, not 0.0
  element response_format;
  bool has_response_format = false;
  std::string_view response_format_type;  // "" unless a string
  bool reasoning_effort = false;
  element output_config;
  bool has_output_config = false;
  bool output_config_format = false;
  bool output_config_effort = false;
  bool cache_control = false;  // top level, or on an Anthropic system block or message part
  std::vector<int> score_enum;  // the schema's properties.score.enum (filled by the rules)
};

std::int64_t integer_or_zero(element value) {
  if (value.is_int64()) return std::int64_t(value);
  if (value.is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(std::uint64_t(value), INT64_MAX));
  if (value.is_double()) return static_cast<std::int64_t>(double(value));
  return 0;
}

bool has_cache_control(element content) {
  if (!content.is_array()) return false;
  for (element part : content.get_array()) {
    element cache;
    if (part.is_object() && part["cache_control"].get(cache) == simdjson::SUCCESS && !cache.is_null()) return true;
  }
  return false;
}

Fields read_fields(Vendor vendor, element body) {
  Fields f;
  simdjson::dom::object object;
  if (body.get(object) != simdjson::SUCCESS) return f;
  for (auto field : object) {
    std::string_view key = field.key;
    element value = field.value;
    if (value.is_null()) continue;
    if (key == "max_tokens") {
      f.max_tokens = true;
      f.max_tokens_value = integer_or_zero(value);
    } else if (key == "max_completion_tokens") {
      f.max_completion_tokens = true;
      f.max_completion_tokens_value = integer_or_zero(value);
    } else if (key == "temperature") {
      f.temperature = true;
      f.temperature_integer = value.is_int64() || value.is_uint64();
      if (value.is_number()) f.temperature_value = f.temperature_integer ? double(integer_or_zero(value)) : double(value);
    } else if (key == "response_format") {
      f.has_response_format = true;
      f.response_format = value;
      element type;
      if (value.is_object() && value["type"].get(type) == simdjson::SUCCESS && type.is_string()) {
        f.response_format_type = std::string_view(type);
      }
    } else if (key == "reasoning_effort") {
      f.reasoning_effort = true;
    } else if (key == "output_config") {
      f.has_output_config = true;
      f.output_config = value;
      element inner;
      f.output_config_format = value.is_object() && value["format"].get(inner) == simdjson::SUCCESS && !inner.is_null();
      f.output_config_effort = value.is_object() && value["effort"].get(inner) == simdjson::SUCCESS && !inner.is_null();
    } else if (key == "cache_control") {
      f.cache_control = true;
    }
  }
  if (vendor == Vendor::kAnthropic && !f.cache_control) {
    element system;
    if (body["system"].get(system) == simdjson::SUCCESS) f.cache_control = has_cache_control(system);
    simdjson::dom::array messages;
    if (!f.cache_control && body["messages"].get(messages) == simdjson::SUCCESS) {
      for (element message : messages) {
        element content;
        if (message.is_object() && message["content"].get(content) == simdjson::SUCCESS && has_cache_control(content)) {
          f.cache_control = true;
          break;
        }
      }
    }
  }
  return f;
}

// The number as the client wrote it ("0", "0.0", "0.2"): the first `"key": <number>` in the raw
// body whose value is `value` (a "key" inside a string is escaped, so cannot match). Failing
// that, the number printed back.
std::string raw_number_text(std::string_view raw, std::string_view key, double value, bool integer) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  for (auto pos = raw.find(quoted); pos != std::string_view::npos; pos = raw.find(quoted, pos + 1)) {
    std::size_t at = pos + quoted.size();
    while (at < raw.size() && std::isspace(static_cast<unsigned char>(raw[at])) != 0) ++at;
    if (at >= raw.size() || raw[at] != ':') continue;
    ++at;
    while (at < raw.size() && std::isspace(static_cast<unsigned char>(raw[at])) != 0) ++at;
    std::size_t end = at;
    while (end < raw.size() && std::strchr("+-0123456789.eE", raw[end]) != nullptr && raw[end] != '\0') ++end;
    std::string token(raw.substr(at, end - at));
    char* parsed_end = nullptr;
    if (!token.empty() && std::strtod(token.c_str(), &parsed_end) == value && *parsed_end == '\0') return token;
  }
  if (integer) return std::to_string(static_cast<std::int64_t>(value));
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

// "json" in any case. The usual spellings first: find() runs on memchr, and a judge prompt's
// user turn can be a megabyte.
bool mentions_json(std::string_view text) {
  for (std::string_view usual : {"JSON", "json", "Json"}) {
    if (text.find(usual) != std::string_view::npos) return true;
  }
  for (std::size_t i = 0; i + 4 <= text.size(); ++i) {
    if ((text[i] | 0x20) == 'j' && (text[i + 1] | 0x20) == 's' && (text[i + 2] | 0x20) == 'o' &&
        (text[i + 3] | 0x20) == 'n') {
      return true;
    }
  }
  return false;
}

// schema.properties.score.enum, as integers.
std::vector<int> score_enum(element schema) {
  std::vector<int> values;
  element allowed;
  if (!schema.is_object() || schema.at_pointer("/properties/score/enum").get(allowed) != simdjson::SUCCESS ||
      !allowed.is_array()) {
    return values;
  }
  for (element value : allowed.get_array()) {
    if (value.is_number()) values.push_back(static_cast<int>(integer_or_zero(value)));
  }
  return values;
}

std::string_view string_or_empty(element object, std::string_view key) {
  element value;
  if (object.is_object() && object[key].get(value) == simdjson::SUCCESS && value.is_string()) {
    return std::string_view(value);
  }
  return {};
}

// Python's repr of a tuple of strings, as OpenAI's schema errors print a context: (), ('properties', 'x').
std::string context_repr(const std::vector<std::string>& context) {
  std::string out = "(";
  for (std::size_t i = 0; i < context.size(); ++i) {
    if (i > 0) out += ", ";
    out += "'" + context[i] + "'";
  }
  if (context.size() == 1) out += ",";
  return out + ")";
}

// OpenAI strict mode: every object schema says additionalProperties: false and requires every
// one of its properties. Returns the problem, or nullopt.
std::optional<std::string> strict_schema_problem(element schema, std::vector<std::string>& context) {
  if (!schema.is_object()) return std::nullopt;
  element properties;
  bool has_properties = schema["properties"].get(properties) == simdjson::SUCCESS && properties.is_object();
  if (string_or_empty(schema, "type") == "object" || has_properties) {
    element additional;
    if (schema["additionalProperties"].get(additional) != simdjson::SUCCESS || !additional.is_bool() ||
        bool(additional)) {
      return "In context=" + context_repr(context) +
             ", 'additionalProperties' is required to be supplied and to be false.";
    }
    if (has_properties) {
      element required;
      bool has_required = schema["required"].get(required) == simdjson::SUCCESS && required.is_array();
      for (auto property : properties.get_object()) {
        bool listed = false;
        if (has_required) {
          for (element name : required.get_array()) {
            if (name.is_string() && std::string_view(name) == property.key) listed = true;
          }
        }
        if (!listed) {
          return "In context=" + context_repr(context) +
                 ", 'required' is required to be supplied and to be an array including every key in properties. "
                 "Missing '" + std::string(property.key) + "'.";
        }
      }
      for (auto property : properties.get_object()) {
        context.emplace_back("properties");
        context.emplace_back(property.key);
        auto problem = strict_schema_problem(property.value, context);
        context.resize(context.size() - 2);
        if (problem) return problem;
      }
    }
  }
  element items;
  if (schema["items"].get(items) == simdjson::SUCCESS) {
    context.emplace_back("items");
    auto problem = strict_schema_problem(items, context);
    context.pop_back();
    if (problem) return problem;
  }
  return std::nullopt;
}

// Anthropic structured outputs: additionalProperties: false on every object, no numeric bounds.
std::optional<std::string> anthropic_schema_problem(element schema) {
  if (schema.is_array()) {
    for (element item : schema.get_array()) {
      if (auto problem = anthropic_schema_problem(item)) return problem;
    }
    return std::nullopt;
  }
  if (!schema.is_object()) return std::nullopt;
  element value;
  std::string_view type = string_or_empty(schema, "type");
  bool has_properties = schema["properties"].get(value) == simdjson::SUCCESS;
  if (type == "object" || has_properties) {
    element additional;
    if (schema["additionalProperties"].get(additional) != simdjson::SUCCESS || !additional.is_bool() ||
        bool(additional)) {
      return std::string("output_config.format.schema: For 'object' type, 'additionalProperties' must be explicitly "
                         "set to false");
    }
  }
  for (const char* bound : {"minimum", "maximum"}) {
    if (schema[bound].get(value) == simdjson::SUCCESS) {
      return "output_config.format.schema: For '" + std::string(type.empty() ? "number" : type) + "' type, property '" +
             bound + "' is not supported";
    }
  }
  for (const char* nested : {"properties", "$defs", "definitions"}) {
    if (schema[nested].get(value) == simdjson::SUCCESS && value.is_object()) {
      for (auto item : value.get_object()) {
        if (auto problem = anthropic_schema_problem(item.value)) return problem;
      }
    }
  }
  for (const char* nested : {"items", "anyOf", "allOf"}) {
    if (schema[nested].get(value) == simdjson::SUCCESS) {
      if (auto problem = anthropic_schema_problem(value)) return problem;
    }
  }
  return std::nullopt;
}

// Appends text as a JSON string literal. Success bodies are built by hand because they are the
// hot path of the benchmark: a json DOM plus dump() per reply showed up at ~25% of user time.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// The token counts a reply's `usage` reports: ~4 characters a token, like the vendors' rough rule.
std::uint64_t prompt_tokens(const Conversation& conv) { return conv.total_chars / 4; }
std::uint64_t completion_tokens(std::string_view text) { return text.size() / 4; }

// What a successful reply says besides its text: token counts and how the completion ended.
struct Outcome {
  std::uint64_t prompt = 0;      // every prompt token (cached ones included)
  std::uint64_t completion = 0;  // output tokens, reasoning included
  std::uint64_t reasoning = 0;   // OpenAI reasoning_tokens; Anthropic: a thinking block is sent
  std::uint64_t cached = 0;      // OpenAI prompt_tokens_details.cached_tokens
  std::uint64_t cache_creation = 0;  // Anthropic cache_creation_input_tokens
  std::uint64_t cache_read = 0;      // Anthropic cache_read_input_tokens
  bool length = false;    // the cap ended it: finish_reason length / stop_reason max_tokens
  bool details = true;    // OpenAI *_tokens_details (Ollama has none)
  bool thinking = false;  // Anthropic: a thinking block comes first
};

std::string completion_body(Vendor vendor, const std::string& id, const std::string& model, const Outcome& o,
                            std::string_view text) {
  std::string out;
  out.reserve(400 + text.size() + model.size());
  if (vendor == Vendor::kAnthropic) {
    out += R"({"id":")" + id + R"(","type":"message","role":"assistant","model":)";
    append_json_string(out, model);
    out += R"(,"content":[)";
    if (o.thinking) {
      out += R"({"type":"thinking","thinking":"fake judge: weighing the answer","signature":"sig"})";
      if (!o.length) out += ',';
    }
    if (!o.length || !o.thinking) {
      out += R"({"type":"text","text":)";
      append_json_string(out, text);
      out += '}';
    }
    out += o.length ? R"(],"stop_reason":"max_tokens")" : R"(],"stop_reason":"end_turn")";
    std::uint64_t cached = o.cache_creation + o.cache_read;
    out += R"(,"stop_sequence":null,"usage":{"input_tokens":)" + std::to_string(o.prompt - std::min(o.prompt, cached)) +
           R"(,"cache_creation_input_tokens":)" + std::to_string(o.cache_creation) +
           R"(,"cache_read_input_tokens":)" + std::to_string(o.cache_read) + R"(,"output_tokens":)" +
           std::to_string(o.completion) + "}}";
    return out;
  }
  out += R"({"id":")" + id + R"(","object":"chat.completion","created":1700000000,"model":)";
  append_json_string(out, model);
  out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  append_json_string(out, text);
  out += o.length ? R"(},"finish_reason":"length"}])" : R"(},"finish_reason":"stop"}])";
  out += R"(,"usage":{"prompt_tokens":)" + std::to_string(o.prompt) + R"(,"completion_tokens":)" +
         std::to_string(o.completion) + R"(,"total_tokens":)" + std::to_string(o.prompt + o.completion);
  if (o.details) {
    out += R"(,"prompt_tokens_details":{"cached_tokens":)" + std::to_string(o.cached) +
           R"(},"completion_tokens_details":{"reasoning_tokens":)" + std::to_string(o.reasoning) + "}";
  }
  out += "}}";
  return out;
}

struct Reply {
  explicit Reply(int s = 200, std::string b = {}, const char* type = "application/json", bool after = false)
      : status(s), body(std::move(b)), content_type(type), retry_after(after) {}

  int status = 200;
  std::string body;
  const char* content_type = "application/json";
  bool retry_after = false;  // 429s tell the client to come back in 1 s
  // Set: retry-after-ms: N and retry-after: ceil(N / 1000) instead (limits, throttle, marker).
  std::optional<std::int64_t> retry_after_ms;
  bool immediate = false;  // sent at once, without the latency (the 429s of a limit or throttle)
  // Vendor rate-limit headers saying the request budget is used up for this many seconds.
  std::optional<int> exhausted_s;
  Vendor vendor = Vendor::kOpenAi;
  std::string content_type_override;  // [[fake:content_type=T]]; empty: content_type
  // How the body goes out: as it is; only its first half under the whole body's Content-Length,
  // then a hang-up; or with 50 MiB of filler where the text's placeholder is, with a
  // Content-Length or in chunked encoding.
  enum class Shape { kWhole, kTruncated, kHuge, kHugeChunked } shape = Shape::kWhole;
  std::optional<std::size_t> truncate_at;  // kTruncated: bytes sent (default: half)
};

// A proxy's error page, as nginx sends it in front of an API.
std::string html_error_page(int status) {
  const char* phrase = status == 200   ? "OK"
                       : status == 502 ? "Bad Gateway"
                       : status == 503 ? "Service Temporarily Unavailable"
                       : status == 504 ? "Gateway Time-out"
                                       : "Error";
  const std::string title = std::to_string(status) + " " + phrase;
  return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
         "</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n";
}

// body=huge: the completion text is this placeholder, replaced on the wire by kHugeBytes of 'x'
// (a JSON-escaped control character cannot occur in a real verdict).
constexpr std::string_view kHugePlaceholder = "\x01";
constexpr std::string_view kHugePlaceholderOnWire = "\\u0001";
constexpr std::size_t kHugeBlock = 1 << 20;
constexpr std::size_t kHugeBytes = 50 * kHugeBlock;

Reply error_reply(Vendor vendor, int status, const std::string& message) {
  return Reply{status, error_body(vendor, status, message), "application/json", status == 429};
}

// libevent knows the RFC 2616 phrases; the vendors' newer codes would read "Client Error".
const char* reason_phrase(int status) {
  switch (status) {
    case 429: return "Too Many Requests";
    case 529: return "Overloaded";
    default: return nullptr;  // evhttp fills in its own
  }
}

std::string header_or_empty(evhttp_request* req, const char* name) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return value != nullptr ? value : "";
}

std::string_view request_body(evhttp_request* req) {
  evbuffer* buffer = evhttp_request_get_input_buffer(req);
  auto size = evbuffer_get_length(buffer);
  if (size == 0) return {};
  // One contiguous copy inside libevent; the view lives as long as the request.
  auto* data = reinterpret_cast<const char*>(evbuffer_pullup(buffer, -1));
  return {data, size};
}

// ---- the server ----

// One limit of a provider account (requests or tokens per minute) as a token bucket that refills
// continuously at N/60 a second up to max(1, N/60 * burst_s), starting full. The caller passes
// the time, in seconds since the server started.
class TokenBucket {
 public:
  TokenBucket(std::int64_t per_minute, double burst_s)
      : rate_(static_cast<double>(per_minute) / 60.0), capacity_(std::max(1.0, rate_ * burst_s)), level_(capacity_) {}

  bool enabled() const { return rate_ > 0; }

  void refill(double now_s) {
    level_ = std::min(capacity_, level_ + rate_ * (now_s - last_s_));
    last_s_ = now_s;
  }

  // Seconds until a request costing `charge` is admitted; 0: now. A charge above the capacity
  // would never fit, so it waits for a full bucket instead and then drives the level negative.
  double wait_s(double charge) const {
    if (!enabled()) return 0;
    double needed = std::min(charge, capacity_);
    return level_ >= needed ? 0 : (needed - level_) / rate_;
  }

  void take(double charge) {
    if (enabled()) level_ -= charge;
  }

  void fill(double now_s) {
    level_ = capacity_;
    last_s_ = now_s;
  }

 private:
  double rate_;  // tokens a second
  double capacity_;
  double level_;
  double last_s_ = 0;
};

constexpr std::string_view kAnthropicPath = "/v1/messages";
constexpr std::string_view kAzureV1Path = "/openai/v1/chat/completions";
constexpr std::string_view kAzureDeploymentsPrefix = "/openai/deployments/";
constexpr std::string_view kChatCompletionsSuffix = "/chat/completions";
constexpr std::array<std::string_view, 4> kApiPaths{"/v1/chat/completions", "/chat/completions", kAnthropicPath,
                                                    kAzureV1Path};

// Which API a path speaks. Azure's are OpenAI's wire format behind Azure's URL and auth.
enum class Api { kOpenAi, kAnthropic, kAzureDeployment, kAzureV1 };

struct Route {
  Api api = Api::kOpenAi;
  std::string_view path;   // for /log: a constant, or a path interned by the server
  std::string deployment;  // kAzureDeployment
  Vendor vendor() const { return api == Api::kAnthropic ? Vendor::kAnthropic : Vendor::kOpenAi; }
};
constexpr std::size_t kLogCapacity = 200000;
constexpr int kIdleTimeoutS = 120;  // idle keep-alive connections from benchmarks linger

// One API request in GET /log.
struct LogEntry {
  std::string_view path;  // one of kApiPaths or an interned Azure path: nothing to allocate per request
  double arrived_ms = 0;
  std::optional<double> finished_ms;
  int status = 0;
  bool client_closed = false;
};

// Where a request's log entry sits. A /stats/reset starts a new epoch, and the requests still
// pending from before it then have no entry to update.
struct LogRef {
  std::uint64_t epoch = 0;
  std::size_t index = std::numeric_limits<std::size_t>::max();
};

enum class Mode { kOk, kFail, kHang };

std::optional<Mode> parse_mode(std::string_view name) {
  if (name == "ok") return Mode::kOk;
  if (name == "fail") return Mode::kFail;
  if (name == "hang") return Mode::kHang;
  return std::nullopt;
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kOk: return "ok";
    case Mode::kFail: return "fail";
    case Mode::kHang: return "hang";
  }
  return "?";
}

struct Stats {
  std::uint64_t requests = 0;
  std::int64_t in_flight = 0;
  std::int64_t max_in_flight = 0;
  std::map<std::string, std::uint64_t> by_path;
  std::map<int, std::uint64_t> status_counts;
  std::uint64_t rate_limited = 0;  // 429s from the --rpm/--tpm buckets
  std::uint64_t throttled = 0;     // 429s from a /control throttle_ms window
  // What the successful replies' usage reported, summed: what the account was billed.
  struct Usage {
    std::uint64_t prompt = 0;      // every prompt token, cached ones included
    std::uint64_t completion = 0;  // reasoning included
    std::uint64_t cached = 0;      // OpenAI cached_tokens + Anthropic cache_read_input_tokens
    std::uint64_t cache_write = 0;  // Anthropic cache_creation_input_tokens
  } usage;
  // API requests that carried each field (whatever the answer), for tests of request shapes.
  struct Sent {
    std::uint64_t max_tokens = 0;
    std::uint64_t max_completion_tokens = 0;
    std::uint64_t temperature = 0;
    std::uint64_t response_format_json_schema = 0;
    std::uint64_t response_format_json_object = 0;
    std::uint64_t output_config_format = 0;
    std::uint64_t output_config_effort = 0;
    std::uint64_t reasoning_effort = 0;
    std::uint64_t cache_control = 0;
  } sent;
  // The batch APIs' calls (not counted in requests / by_path).
  struct Batch {
    std::uint64_t calls = 0;              // every call to a batch or files endpoint
    std::uint64_t openai_created = 0;     // POST /v1/batches accepted
    std::uint64_t anthropic_created = 0;  // POST /v1/messages/batches accepted
    std::uint64_t openai_requests = 0;    // requests inside them (input file lines)
    std::uint64_t anthropic_requests = 0;
    std::uint64_t files_uploaded = 0;
    std::uint64_t openai_cancels = 0;     // cancels that started cancelling
    std::uint64_t anthropic_cancels = 0;
    std::uint64_t retrieves = 0;          // GET of a batch (either API)
    std::uint64_t file_downloads = 0;     // GET /v1/files/{id}/content
    std::uint64_t results_downloads = 0;  // GET of an Anthropic results_url
  } batch;
};

class FakeServer {
 public:
  FakeServer(const Options& options, event_base* base)
      : options_(options),
        base_(base),
        rng_(options.seed),
        http_(evhttp_new(base)),
        requests_bucket_(options.rpm, options.burst_s),
        tokens_bucket_(options.tpm, options.burst_s) {
    if (http_ == nullptr) throw std::runtime_error("evhttp_new failed");
    evhttp_set_gencb(http_, &FakeServer::on_request, this);
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(http_, kIdleTimeoutS);
    if (options.latency_ms > 0 && options.jitter_ms == 0) {
      // Every reply waits the same time: libevent's common-timeout queue makes each timer
      // O(1) instead of a heap insert, which matters at tens of thousands of timers a second.
      timeval tv{options.latency_ms / 1000, (options.latency_ms % 1000) * 1000};
      common_latency_ = event_base_init_common_timeout(base, &tv);
    }
  }

  ~FakeServer() {
    // Unanswered requests are still attached to their connections, and evhttp_free frees them
    // with those; our close callback then finds nothing held.
    held_by_connection_.clear();
    pending_.clear();
    evhttp_free(http_);
  }

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Binds 127.0.0.1:port with our own listener so we choose the backlog and SO_REUSEADDR
  // (evhttp_bind_socket hard-codes a backlog of 128, too small for 1000 connects at once).
  int bind(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    constexpr unsigned kFlags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    constexpr int kBacklog = 4096;
    evconnlistener* listener = evconnlistener_new_bind(
        base_, nullptr, nullptr, kFlags, kBacklog, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (listener == nullptr) throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port));
    if (evhttp_bind_listener(http_, listener) == nullptr) {
      evconnlistener_free(listener);
      throw std::runtime_error("evhttp_bind_listener failed");
    }
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    getsockname(evconnlistener_get_fd(listener), reinterpret_cast<sockaddr*>(&bound), &len);
    return ntohs(bound.sin_port);
  }

 private:
  // A request held unanswered: a reply waiting out its latency (timer set), or one that mode
  // hang never answers (no timer). Owned by pending_; gone once answered or hung up on.
  struct Pending {
    FakeServer* server = nullptr;
    evhttp_request* req = nullptr;
    evhttp_connection* connection = nullptr;
    LogRef log;
    Reply reply;
    std::unique_ptr<event, decltype(&event_free)> timer{nullptr, &event_free};
  };

  static void on_request(evhttp_request* req, void* arg) {
    auto* self = static_cast<FakeServer*>(arg);
    try {
      self->handle(req);
    } catch (const std::exception& e) {
      // Never let an exception unwind through libevent's C frames.
      std::cerr << "llmeval_fake_provider: " << e.what() << "\n";
      evhttp_send_error(req, 500, "fake provider bug");
    }
  }

  double now_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

  void handle(evhttp_request* req) {
    const char* raw_path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    std::string path = raw_path != nullptr ? raw_path : "/";
    auto method = evhttp_request_get_command(req);
    if (path == "/stats" || path == "/stats/reset") return handle_stats(req, path, method);
    if (path == "/control") return handle_control(req, method);
    if (path == "/log") return handle_log(req, method);
    if (path.rfind("/files/", 0) == 0) return serve_file(req, path.substr(7));
    if (serve_batch_api(req, path, method)) return;

    ++stats_.requests;
    ++stats_.by_path[path];
    stats_.max_in_flight = std::max(stats_.max_in_flight, ++stats_.in_flight);

    for (std::string_view api_path : kApiPaths) {
      if (path != api_path) continue;
      Route route;
      route.path = api_path;
      route.api = api_path == kAnthropicPath ? Api::kAnthropic : api_path == kAzureV1Path ? Api::kAzureV1 : Api::kOpenAi;
      return serve_api(req, route, method);
    }
    if (starts_with(path, kAzureDeploymentsPrefix) && path.size() > kAzureDeploymentsPrefix.size() + kChatCompletionsSuffix.size() &&
        path.compare(path.size() - kChatCompletionsSuffix.size(), std::string::npos, kChatCompletionsSuffix) == 0) {
      std::string deployment = path.substr(kAzureDeploymentsPrefix.size(), path.size() - kAzureDeploymentsPrefix.size() -
                                                                             kChatCompletionsSuffix.size());
      if (deployment.find('/') == std::string::npos) {
        Route route;
        route.api = Api::kAzureDeployment;
        route.path = *interned_paths_.insert(path).first;  // node-based: the view stays valid
        route.deployment = std::move(deployment);
        return serve_api(req, route, method);
      }
    }
    finish(req, error_reply(Vendor::kOpenAi, 404, "Unknown request URL: " + path));
  }

  // GET /files/NAME (--files DIR): a dataset by URL. Not counted in the API stats.
  void serve_file(evhttp_request* req, const std::string& name) {
    bool plain = !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                                      std::string::npos && name[0] != '.';
    std::ifstream in(options_.files_dir + "/" + name, std::ios::binary);
    if (options_.files_dir.empty() || !plain || !in) return send(req, Reply{404, "no such file\n", "text/plain"});
    Reply reply{200, std::string(std::istreambuf_iterator<char>(in), {}), "application/x-ndjson"};
    evkeyvalq query;
    const char* raw_query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (raw_query != nullptr && evhttp_parse_query_str(raw_query, &query) == 0) {
      if (const char* cut = evhttp_find_header(&query, "cut")) {
        reply.shape = Reply::Shape::kTruncated;
        reply.truncate_at = static_cast<std::size_t>(std::strtoull(cut, nullptr, 10));
      }
      evhttp_clear_headers(&query);
    }
    send(req, reply);
  }

  void handle_stats(evhttp_request* req, const std::string& path, evhttp_cmd_type method) {
    if (path == "/stats/reset" && method == EVHTTP_REQ_POST) {
      stats_.requests = 0;
      stats_.by_path.clear();
      stats_.status_counts.clear();
      stats_.max_in_flight = stats_.in_flight;  // those still pending will be answered
      stats_.rate_limited = 0;
      stats_.throttled = 0;
      stats_.sent = {};
      stats_.usage = {};
      stats_.batch = {};
      batch_delay_ms_ = options_.batch_delay_ms;
      batch_expire_ = options_.batch_expire;
      openai_cache_.clear();
      anthropic_cache_.clear();
      fail_counts_.clear();
      log_.clear();
      ++log_epoch_;
      log_dropped_ = 0;
      mode_ = Mode::kOk;
      throttle_until_ms_ = 0;
      requests_bucket_.fill(now_ms() / 1000.0);
      tokens_bucket_.fill(now_ms() / 1000.0);
      return send(req, Reply{200, R"({"reset":true})"});
    }
    if (path == "/stats" && method == EVHTTP_REQ_GET) {
      json status_counts = json::object();
      for (auto [status, count] : stats_.status_counts) status_counts[std::to_string(status)] = count;
      json body{{"requests", stats_.requests},
                {"in_flight", stats_.in_flight},
                {"max_in_flight", stats_.max_in_flight},
                {"by_path", stats_.by_path},
                {"status_counts", status_counts},
                {"rate_limited", stats_.rate_limited},
                {"throttled", stats_.throttled},
                {"sent",
                 {{"max_tokens", stats_.sent.max_tokens},
                  {"max_completion_tokens", stats_.sent.max_completion_tokens},
                  {"temperature", stats_.sent.temperature},
                  {"response_format_json_schema", stats_.sent.response_format_json_schema},
                  {"response_format_json_object", stats_.sent.response_format_json_object},
                  {"output_config_format", stats_.sent.output_config_format},
                  {"output_config_effort", stats_.sent.output_config_effort},
                  {"reasoning_effort", stats_.sent.reasoning_effort},
                  {"cache_control", stats_.sent.cache_control}}},
                {"usage",
                 {{"prompt_tokens", stats_.usage.prompt},
                  {"completion_tokens", stats_.usage.completion},
                  {"cached_tokens", stats_.usage.cached},
                  {"cache_write_tokens", stats_.usage.cache_write}}},
                {"batch",
                 {{"calls", stats_.batch.calls},
                  {"openai_created", stats_.batch.openai_created},
                  {"anthropic_created", stats_.batch.anthropic_created},
                  {"openai_requests", stats_.batch.openai_requests},
                  {"anthropic_requests", stats_.batch.anthropic_requests},
                  {"files_uploaded", stats_.batch.files_uploaded},
                  {"openai_cancels", stats_.batch.openai_cancels},
                  {"anthropic_cancels", stats_.batch.anthropic_cancels},
                  {"retrieves", stats_.batch.retrieves},
                  {"file_downloads", stats_.batch.file_downloads},
                  {"results_downloads", stats_.batch.results_downloads},
                  {"delay_ms", batch_delay_ms_},
                  {"expire", batch_expire_}}},
                {"mode", mode_name(mode_)},
                {"now_ms", now_ms()}};
      return send(req, Reply{200, body.dump()});
    }
    send(req, error_reply(Vendor::kOpenAi, 405, "use GET /stats or POST /stats/reset"));
  }

  void handle_control(evhttp_request* req, evhttp_cmd_type method) {
    if (method != EVHTTP_REQ_POST) return send(req, error_reply(Vendor::kOpenAi, 405, "use POST /control"));
    std::string_view raw = request_body(req);
    json body = json::parse(raw.begin(), raw.end(), nullptr, false);
    if (auto problem = apply_control(body)) return send(req, error_reply(Vendor::kOpenAi, 400, *problem));
    send(req, Reply{200, R"({"ok":true})"});
  }

  // Checks the whole body before changing anything, so that a 400 leaves the server as it was.
  std::optional<std::string> apply_control(const json& body) {
    if (body.is_discarded()) return "body is not valid JSON";
    if (!body.is_object()) return "body must be a JSON object";
    for (const auto& item : body.items()) {
      if (item.key() != "mode" && item.key() != "status" && item.key() != "throttle_ms" &&
          item.key() != "batch_expire" && item.key() != "batch_delay_ms") {
        return "unknown field '" + item.key() + "' (mode, status, throttle_ms, batch_expire, batch_delay_ms)";
      }
    }
    std::optional<Mode> mode;
    if (auto it = body.find("mode"); it != body.end()) {
      mode = it->is_string() ? parse_mode(it->get<std::string>()) : std::nullopt;
      if (!mode) return "mode: expected \"ok\", \"fail\" or \"hang\"";
    }
    int status = 500;
    if (auto it = body.find("status"); it != body.end()) {
      if (mode != Mode::kFail) return "status: only with \"mode\": \"fail\"";
      if (!it->is_number_integer() || it->get<std::int64_t>() < 100 || it->get<std::int64_t>() > 599) {
        return "status: expected an HTTP status, 100-599";
      }
      status = it->get<int>();
    }
    std::optional<std::int64_t> throttle_ms;
    if (auto it = body.find("throttle_ms"); it != body.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 0) return "throttle_ms: expected an integer >= 0";
      throttle_ms = it->get<std::int64_t>();
    }
    std::optional<bool> batch_expire;
    if (auto it = body.find("batch_expire"); it != body.end()) {
      if (!it->is_boolean()) return "batch_expire: expected true or false";
      batch_expire = it->get<bool>();
    }
    std::optional<int> batch_delay_ms;
    if (auto it = body.find("batch_delay_ms"); it != body.end()) {
      if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() > 86400000) {
        return "batch_delay_ms: expected an integer, 0-86400000";
      }
      batch_delay_ms = it->get<int>();
    }
    if (batch_expire) batch_expire_ = *batch_expire;
    if (batch_delay_ms) batch_delay_ms_ = *batch_delay_ms;
    if (mode) {
      mode_ = *mode;
      fail_status_ = status;
    }
    if (throttle_ms) throttle_until_ms_ = now_ms() + static_cast<double>(*throttle_ms);
    return std::nullopt;
  }

  void handle_log(evhttp_request* req, evhttp_cmd_type method) {
    if (method != EVHTTP_REQ_GET) return send(req, error_reply(Vendor::kOpenAi, 405, "use GET /log"));
    json requests = json::array();
    for (const LogEntry& entry : log_) {
      requests.push_back({{"path", std::string(entry.path)},
                          {"arrived_ms", entry.arrived_ms},
                          {"finished_ms", entry.finished_ms ? json(*entry.finished_ms) : json(nullptr)},
                          {"status", entry.status},
                          {"client_closed", entry.client_closed}});
    }
    json body{{"requests", std::move(requests)}, {"log_dropped", log_dropped_}, {"now_ms", now_ms()}};
    send(req, Reply{200, body.dump()});
  }

  LogRef open_log_entry(std::string_view path) {
    if (log_.size() >= kLogCapacity) {
      ++log_dropped_;
      return LogRef{};
    }
    LogEntry& entry = log_.emplace_back();
    entry.path = path;
    entry.arrived_ms = now_ms();
    return LogRef{log_epoch_, log_.size() - 1};
  }

  void close_log_entry(LogRef ref, int status, bool client_closed) {
    if (ref.epoch != log_epoch_ || ref.index >= log_.size()) return;
    LogEntry& entry = log_[ref.index];
    entry.finished_ms = now_ms();
    entry.status = status;
    entry.client_closed = client_closed;
  }

  // One API request: draw the random faults first (always, in the same order, so a seed
  // reproduces a run), then decide the reply, then hold it for the latency. A /control
  // throttle window or mode comes before everything the request itself says.
  void serve_api(evhttp_request* req, const Route& route, evhttp_cmd_type method) {
    std::string_view path = route.path;
    Vendor vendor = route.vendor();
    int delay_ms = options_.latency_ms;
    if (options_.jitter_ms > 0) delay_ms += static_cast<int>(rng_() % (options_.jitter_ms + 1));
    double error_draw = unit_(rng_);
    double throttle_draw = unit_(rng_);
    LogRef log = open_log_entry(path);

    if (double now = now_ms(); now < throttle_until_ms_) {
      ++stats_.throttled;
      return finish(req, throttled_reply(vendor, throttle_until_ms_ - now), 0, log);
    }
    if (mode_ == Mode::kHang) {
      hold(req, log);
      return;
    }
    if (mode_ == Mode::kFail) {
      return finish(req, error_reply(vendor, fail_status_, "injected failure (mode fail)"), delay_ms, log);
    }
    Markers markers;
    Reply reply = decide(req, route, method, error_draw, throttle_draw, markers);
    reply.content_type_override = markers.content_type;
    if (markers.delay_ms) delay_ms += std::max(0, *markers.delay_ms);
    if (reply.immediate) delay_ms = 0;
    finish(req, std::move(reply), delay_ms, log);
  }

  static Reply throttled_reply(Vendor vendor, double remaining_ms) {
    auto ms = static_cast<std::int64_t>(std::ceil(remaining_ms));
    Reply reply = error_reply(vendor, 429, "Rate limit reached (throttled for " + std::to_string(ms) + "ms more)");
    reply.retry_after_ms = ms;
    reply.immediate = true;
    return reply;
  }

  Reply decide(evhttp_request* req, const Route& route, evhttp_cmd_type method, double error_draw,
               double throttle_draw, Markers& markers) {
    const Vendor vendor = route.vendor();
    if (method != EVHTTP_REQ_POST) return error_reply(vendor, 405, "method not allowed; use POST");
    if (route.api == Api::kAzureDeployment && !has_api_version(req)) {
      return Reply{404, azure_error_body("404", "Resource not found")};
    }
    return judge(req, route, request_body(req), error_draw, throttle_draw, markers);
  }

  // A request body judged as the online endpoint judges it. req is null for an item of a batch
  // (its HTTP checks were the batch call's): no rate limit, no random --error-rate/--rate-429,
  // and the markers that shape the HTTP reply (body=..., delay_ms, exhausted, content_type) do
  // not apply; status=, fail_first= and the verdict markers do. So a batch item's verdict is
  // exactly the online verdict for the same body.
  Reply judge(evhttp_request* req, const Route& route, std::string_view raw, double error_draw,
              double throttle_draw, Markers& markers) {
    const Vendor vendor = route.vendor();
    const bool batch = req == nullptr;
    element body;
    const bool parsed_json = parser_.parse(raw.data(), raw.size()).get(body) == simdjson::SUCCESS;
    Fields fields;
    if (parsed_json) {
      fields = read_fields(vendor, body);
      count_sent(fields);
    }
    if (auto auth = batch ? std::nullopt : check_auth(req, route)) return *auth;
    if (!batch && vendor == Vendor::kAnthropic && header_or_empty(req, "anthropic-version").empty()) {
      return error_reply(vendor, 400, "anthropic-version: header is required");
    }
    if (!parsed_json) return error_reply(vendor, 400, "We could not parse the JSON body of your request.");
    std::optional<std::string> deployment_model;
    if (route.api == Api::kAzureDeployment) {
      auto mapped = options_.azure_deployments.find(route.deployment);
      deployment_model = mapped != options_.azure_deployments.end() ? mapped->second : route.deployment;
    }
    auto parsed = read_conversation(vendor, body, deployment_model);
    if (auto* problem = std::get_if<std::string>(&parsed)) return error_reply(vendor, 400, *problem);
    const auto& conv = std::get<Conversation>(parsed);

    read_markers(conv.all_user, markers);
    // The vendor's rules for this model: a 400 before anything is charged.
    const std::string model = rule_name(conv.model);
    const bool ollama = route.api == Api::kOpenAi && options_.flavor == Flavor::kOllama;
    auto refused = vendor == Vendor::kAnthropic ? anthropic_rules(model, fields)
                                                : openai_rules(model, ollama, conv, fields, raw);
    if (refused) return *refused;

    std::uint64_t hash = fnv1a(conv.last_user);
    // The reply text first: a --tpm charge is what the reply's usage will report.
    std::string text = judge_text(conv, markers, hash, fields.score_enum);
    Outcome outcome = spend(vendor, model, ollama, conv, fields, markers, text);
    if (!batch) {
      if (auto limited = take_rate_limit(vendor, outcome.prompt + outcome.completion)) return *limited;
    }
    if (markers.status) {
      Reply scripted = error_reply(vendor, *markers.status, "injected status " + std::to_string(*markers.status));
      scripted.retry_after_ms = markers.retry_after_ms;
      if (markers.body == "html" && !batch) scripted = Reply{*markers.status, html_error_page(*markers.status), "text/html"};
      return scripted;
    }
    if (markers.fail_first && ++fail_counts_[hash] <= *markers.fail_first) {
      return error_reply(vendor, 500, "injected failure (fail_first)");
    }
    if (error_draw < options_.error_rate) return error_reply(vendor, 500, "injected server error");
    if (throttle_draw < options_.rate_429) return error_reply(vendor, 429, "Rate limit reached (injected)");
    if (batch) markers.body.clear();
    if (markers.body == "not_json") return Reply{200, "<html>oops</html>", "text/html"};
    if (markers.body == "html") return Reply{200, html_error_page(200), "text/html"};
    if (markers.body == "error_object") return Reply{200, R"({"error":{"message":"model overloaded"}})"};

    if (!ollama) apply_prompt_cache(vendor, model, conv, outcome);
    stats_.usage.prompt += outcome.prompt;
    stats_.usage.completion += outcome.completion;
    stats_.usage.cached += outcome.cached + outcome.cache_read;
    stats_.usage.cache_write += outcome.cache_creation;
    std::string id = (vendor == Vendor::kOpenAi ? "chatcmpl-fake-" : "msg_fake_") + std::to_string(++next_id_);
    // A reply cut off by its cap has no room for 50 MiB of text.
    const bool huge = (markers.body == "huge" || markers.body == "huge_chunked") && !outcome.length;
    Reply ok{200, completion_body(vendor, id, conv.model, outcome, huge ? kHugePlaceholder : std::string_view(text))};
    if (huge && markers.body == "huge") ok.shape = Reply::Shape::kHuge;
    if (huge && markers.body == "huge_chunked") ok.shape = Reply::Shape::kHugeChunked;
    if (markers.body == "truncated") ok.shape = Reply::Shape::kTruncated;
    if (markers.body == "cut") ok.body.resize(ok.body.size() / 2);
    ok.exhausted_s = markers.exhausted_s;
    ok.vendor = vendor;
    return ok;
  }

  static bool has_api_version(evhttp_request* req) {
    const char* raw_query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    evkeyvalq query;
    if (raw_query == nullptr || evhttp_parse_query_str(raw_query, &query) != 0) return false;
    const char* version = evhttp_find_header(&query, "api-version");
    bool present = version != nullptr && *version != '\0';
    evhttp_clear_headers(&query);
    return present;
  }

  void count_sent(const Fields& f) {
    Stats::Sent& sent = stats_.sent;
    sent.max_tokens += f.max_tokens ? 1 : 0;
    sent.max_completion_tokens += f.max_completion_tokens ? 1 : 0;
    sent.temperature += f.temperature ? 1 : 0;
    sent.response_format_json_schema += f.response_format_type == "json_schema" ? 1 : 0;
    sent.response_format_json_object += f.response_format_type == "json_object" ? 1 : 0;
    sent.output_config_format += f.output_config_format ? 1 : 0;
    sent.output_config_effort += f.output_config_effort ? 1 : 0;
    sent.reasoning_effort += f.reasoning_effort ? 1 : 0;
    sent.cache_control += f.cache_control ? 1 : 0;
  }

  static Reply bad_request(const std::string& body) { return Reply{400, body}; }

  static Reply temperature_unsupported(const Fields& f, std::string_view raw) {
    std::string value = raw_number_text(raw, "temperature", f.temperature_value, f.temperature_integer);
    return bad_request(openai_error_body("Unsupported value: 'temperature' does not support " + value +
                                             " with this model. Only the default (1) value is supported.",
                                         "temperature", "unsupported_value"));
  }

  static Reply parameter_unsupported(const std::string& name, const std::string& instead = "") {
    std::string message = "Unsupported parameter: '" + name + "' is not supported with this model.";
    if (!instead.empty()) message += " Use '" + instead + "' instead.";
    return bad_request(openai_error_body(message, name, "unsupported_parameter"));
  }

  // OpenAI (and Azure): reasoning families refuse max_tokens and a temperature other than 1;
  // --refuse makes an unknown model refuse the listed fields; response_format is checked the
  // way the API checks it (json_object needs "json" in the messages; strict schemas). Ollama
  // has none of these rules.
  std::optional<Reply> openai_rules(const std::string& model, bool ollama, const Conversation& conv, Fields& f,
                                    std::string_view raw) const {
    if (f.has_response_format && f.response_format_type == "json_schema") {
      element schema;
      if (f.response_format.at_pointer("/json_schema/schema").get(schema) == simdjson::SUCCESS) {
        f.score_enum = score_enum(schema);
      }
    }
    if (ollama) return std::nullopt;
    if (openai_reasoning(model)) {
      if (f.max_tokens) return parameter_unsupported("max_tokens", "max_completion_tokens");
      if (f.temperature && f.temperature_value != 1) return temperature_unsupported(f, raw);
    }
    if (options_.refuse != 0 && !known_family(model)) {
      const unsigned refuse = options_.refuse;
      if (f.max_tokens && (refuse & kRefuseMaxTokens)) return parameter_unsupported("max_tokens", "max_completion_tokens");
      if (f.max_completion_tokens && (refuse & kRefuseMaxCompletionTokens)) {
        return parameter_unsupported("max_completion_tokens", "max_tokens");
      }
      if (f.temperature && (refuse & kRefuseTemperature)) return temperature_unsupported(f, raw);
      if (f.has_response_format && (refuse & kRefuseResponseFormat)) return parameter_unsupported("response_format");
      if (f.reasoning_effort && (refuse & kRefuseReasoningEffort)) return parameter_unsupported("reasoning_effort");
    }
    if (f.has_response_format) return response_format_problem(conv, f);
    return std::nullopt;
  }

  static std::optional<Reply> response_format_problem(const Conversation& conv, const Fields& f) {
    element format = f.response_format;
    if (!format.is_object()) {
      return bad_request(openai_error_body("Invalid type for 'response_format': expected an object.",
                                           "response_format", "invalid_type"));
    }
    std::string_view type = f.response_format_type;
    if (type.empty()) {
      return bad_request(openai_error_body("Missing required parameter: 'response_format.type'.",
                                           "response_format.type", "missing_required_parameter"));
    }
    if (type == "text") return std::nullopt;
    if (type == "json_object") {
      if (mentions_json(conv.system) || mentions_json(conv.all_user) || mentions_json(conv.assistant)) {
        return std::nullopt;
      }
      return bad_request(openai_error_body("'messages' must contain the word 'json' in some form, to use "
                                           "'response_format' of type 'json_object'.",
                                           "messages", nullptr));
    }
    if (type != "json_schema") {
      return bad_request(openai_error_body("Invalid value: '" + std::string(type) +
                                               "'. Supported values are: 'json_object', 'json_schema', and 'text'.",
                                           "response_format.type", "invalid_value"));
    }
    element spec;
    if (format["json_schema"].get(spec) != simdjson::SUCCESS || !spec.is_object()) {
      return bad_request(openai_error_body("Missing required parameter: 'response_format.json_schema'.",
                                           "response_format.json_schema", "missing_required_parameter"));
    }
    element name_field;
    if (spec["name"].get(name_field) != simdjson::SUCCESS || !name_field.is_string()) {
      return bad_request(openai_error_body("Missing required parameter: 'response_format.json_schema.name'.",
                                           "response_format.json_schema.name", "missing_required_parameter"));
    }
    std::string name{std::string_view(name_field)};
    if (name.size() > 64) {
      return bad_request(openai_error_body(
          "Invalid 'response_format.json_schema.name': string too long. Expected a string with maximum length 64, "
          "but got a string with length " + std::to_string(name.size()) + " instead.",
          "response_format.json_schema.name", "string_above_max_length"));
    }
    bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
    if (!name_ok) {
      return bad_request(openai_error_body(
          "Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that "
          "matches the pattern '^[a-zA-Z0-9_-]+$'.",
          "response_format.json_schema.name", "invalid_value"));
    }
    element strict;
    if (spec["strict"].get(strict) != simdjson::SUCCESS || !strict.is_bool() || !bool(strict)) return std::nullopt;
    auto invalid = [&](const std::string& problem) {
      return bad_request(openai_error_body("Invalid schema for response_format '" + name + "': " + problem,
                                           "response_format", nullptr));
    };
    element schema;
    if (spec["schema"].get(schema) != simdjson::SUCCESS || !schema.is_object()) {
      return invalid("schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'.");
    }
    std::string_view root_type = string_or_empty(schema, "type");
    if (root_type != "object") {
      return invalid("schema must be a JSON Schema of 'type: \"object\"', got 'type: \"" +
                     std::string(root_type.empty() ? "None" : root_type) + "\"'.");
    }
    std::vector<std::string> context;
    if (auto problem = strict_schema_problem(schema, context)) return invalid(*problem);
    return std::nullopt;
  }

  // Anthropic: newer models refuse temperature (so does a non-Claude model under --refuse
  // temperature); output_config is checked like the API's strict request model.
  std::optional<Reply> anthropic_rules(const std::string& model, Fields& f) const {
    const ClaudeModel claude = parse_claude(model);
    auto invalid = [](const std::string& message) {
      return Reply{400, anthropic_error_body("invalid_request_error", message)};
    };
    if (f.temperature && (claude_refuses_temperature(claude) ||
                          ((options_.refuse & kRefuseTemperature) && !known_family(model)))) {
      return invalid("`temperature` is deprecated for this model.");
    }
    if (!f.has_output_config) return std::nullopt;
    simdjson::dom::object config;
    if (f.output_config.get(config) != simdjson::SUCCESS) return invalid("output_config: Input should be a valid dictionary");
    for (auto item : config) {
      std::string key(item.key);
      element value = item.value;
      if (value.is_null()) continue;
      if (key == "format") {
        if (!claude_structured_outputs(claude)) return invalid("output_config.format: Extra inputs are not permitted");
        if (!value.is_object()) return invalid("output_config.format: Input should be a valid dictionary");
        if (string_or_empty(value, "type") != "json_schema") {
          return invalid("output_config.format.type: Input should be 'json_schema'");
        }
        element schema;
        if (value["schema"].get(schema) != simdjson::SUCCESS || !schema.is_object()) {
          return invalid("output_config.format.schema: Field required");
        }
        if (auto problem = anthropic_schema_problem(schema)) return invalid(*problem);
        f.score_enum = score_enum(schema);
      } else if (key == "effort") {
        std::string_view effort = value.is_string() ? std::string_view(value) : std::string_view();
        if (effort != "low" && effort != "medium" && effort != "high" && effort != "xhigh" && effort != "max") {
          return invalid("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
        }
      } else {
        return invalid("output_config." + key + ": Extra inputs are not permitted");
      }
    }
    return std::nullopt;
  }

  // The tokens a reply spends, and whether its cap cut it off: reasoning models think first
  // (R tokens) within max_completion_tokens (OpenAI) or max_tokens (Anthropic thinking models);
  // Ollama honours max_tokens and ignores max_completion_tokens. text may be cut to fit.
  Outcome spend(Vendor vendor, const std::string& model, bool ollama, const Conversation& conv, const Fields& f,
                const Markers& markers, std::string& text) const {
    Outcome o;
    o.prompt = prompt_tokens(conv);
    const std::uint64_t text_tokens = completion_tokens(text);
    const std::uint64_t reasoning =
        markers.reasoning ? static_cast<std::uint64_t>(*markers.reasoning) : options_.reasoning_tokens;
    o.completion = text_tokens;
    auto think_within = [&](bool capped, std::int64_t cap_value) {
      auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cap_value));
      if (capped && cap < reasoning + text_tokens) {
        o.length = true;
        o.completion = cap;
        o.reasoning = std::min(cap, reasoning);
        text.clear();
      } else {
        o.completion = text_tokens + reasoning;
        o.reasoning = reasoning;
      }
    };
    if (vendor == Vendor::kAnthropic) {
      if (claude_thinks(parse_claude(model))) {
        o.thinking = true;
        think_within(true, f.max_tokens_value);
      }
    } else if (ollama) {
      o.details = false;
      if (f.max_tokens && f.max_tokens_value >= 0 && text_tokens > static_cast<std::uint64_t>(f.max_tokens_value)) {
        o.length = true;
        o.completion = static_cast<std::uint64_t>(f.max_tokens_value);
        text.resize(o.completion * 4);
      }
    } else if (openai_reasoning(model)) {
      think_within(f.max_completion_tokens, f.max_completion_tokens_value);
      if (o.length) o.reasoning = o.completion;
    }
    return o;
  }

  // Prompt caching. OpenAI: automatic for a system prefix of 1024+ tokens, in 128-token
  // steps, once the same (model, prefix) was seen. Anthropic: the system prefix up to a block
  // with cache_control, if long enough for the model: written the first time, read after.
  void apply_prompt_cache(Vendor vendor, const std::string& model, const Conversation& conv, Outcome& o) {
    if (vendor == Vendor::kOpenAi) {
      std::uint64_t prefix = conv.system.size() / 4;
      if (prefix < 1024) return;
      std::uint64_t key = fnv1a(conv.system) ^ (fnv1a(model) * 31);
      if (!openai_cache_.insert(key).second) o.cached = prefix / 128 * 128;
      return;
    }
    if (!conv.cache_prefix_chars) return;
    std::uint64_t prefix = *conv.cache_prefix_chars / 4;
    if (prefix < claude_cache_minimum(parse_claude(model))) return;
    std::uint64_t key = fnv1a(std::string_view(conv.system).substr(0, *conv.cache_prefix_chars)) ^ (fnv1a(model) * 31);
    if (anthropic_cache_.insert(key).second) {
      o.cache_creation = prefix;
    } else {
      o.cache_read = prefix;
    }
  }

  // --rpm / --tpm: admits the request and charges every bucket, or refuses it (charging
  // nothing) with a 429 saying when enough will have refilled.
  std::optional<Reply> take_rate_limit(Vendor vendor, std::uint64_t tokens) {
    if (!requests_bucket_.enabled() && !tokens_bucket_.enabled()) return std::nullopt;
    double now_s = now_ms() / 1000.0;
    requests_bucket_.refill(now_s);
    tokens_bucket_.refill(now_s);
    auto charge = static_cast<double>(tokens);
    double requests_wait = requests_bucket_.wait_s(1);
    double tokens_wait = tokens_bucket_.wait_s(charge);
    if (requests_wait <= 0 && tokens_wait <= 0) {
      requests_bucket_.take(1);
      tokens_bucket_.take(charge);
      return std::nullopt;
    }
    ++stats_.rate_limited;
    auto ms = static_cast<std::int64_t>(std::ceil(std::max(requests_wait, tokens_wait) * 1000));
    std::string message = tokens_wait > requests_wait
                              ? "Rate limit reached for tokens per min (TPM): Limit " + std::to_string(options_.tpm) +
                                    ", Requested " + std::to_string(tokens)
                              : "Rate limit reached for requests per min (RPM): Limit " + std::to_string(options_.rpm);
    Reply reply = error_reply(vendor, 429, message + ". Please try again in " + std::to_string(ms) + "ms.");
    reply.retry_after_ms = ms;
    reply.immediate = true;
    return reply;
  }

  std::optional<Reply> check_auth(evhttp_request* req, const Route& route) const {
    if (!options_.api_key) return std::nullopt;
    if (route.api == Api::kAzureDeployment || route.api == Api::kAzureV1) {
      // Azure takes the key in api-key; an Authorization header does not count.
      if (header_or_empty(req, "api-key") == *options_.api_key) return std::nullopt;
      return Reply{401, azure_error_body("401",
                                         "Access denied due to invalid subscription key or wrong API endpoint. Make "
                                         "sure to provide a valid key for an active subscription and use a correct "
                                         "regional API endpoint for your resource.")};
    }
    const Vendor vendor = route.vendor();
    std::string presented = vendor == Vendor::kOpenAi ? header_or_empty(req, "Authorization")
                                                      : header_or_empty(req, "x-api-key");
    std::string expected = vendor == Vendor::kOpenAi ? "Bearer " + *options_.api_key : *options_.api_key;
    if (presented == expected) return std::nullopt;
    return error_reply(vendor, 401, presented.empty() ? "Missing API key." : "Incorrect API key provided.");
  }

  // score_enum: the allowed scores of a response schema; a computed score is held to them
  // (markers and --fixed-score script the verdict and are not). A pairwise request (both
  // answer sections present) gets a winner instead of a score.
  std::string judge_text(const Conversation& conv, const Markers& markers, std::uint64_t hash,
                         const std::vector<int>& score_enum) const {
    const auto pair = find_answer_pair(conv.all_user);
    if (options_.verdict == VerdictMode::kGarbage) return std::string(pair ? kGarbagePairwise : kGarbageScore);
    std::string verdict;
    if (pair) {
      if (markers.reply == "no_score") return R"({"reason": "fake judge: a verdict without a winner"})";
      if (markers.reply == "out_of_range") {
        verdict = pairwise_verdict_text("C", "a label that was not shown");
      } else if (options_.pairwise == PairwiseMode::kFirst) {
        verdict = pairwise_verdict_text("A", "the first answer shown");
      } else {
        const int a = answer_quality(pair->a);
        const int b = answer_quality(pair->b);
        verdict = a == b  ? pairwise_verdict_text("tie", "equal quality")
                  : a > b ? pairwise_verdict_text("A", "the higher quality marker")
                          : pairwise_verdict_text("B", "the higher quality marker");
      }
    } else {
      // The Scale line normally sits in the last user message; a repair turn may not repeat it.
      auto scale = find_scale(conv.last_user);
      if (!scale) scale = find_scale(conv.all_user);
      if (!scale) scale = find_scale(conv.system);
      Scale range = scale.value_or(Scale{});
      int computed = options_.fixed_score
                         ? *options_.fixed_score
                         : clamp_into(range.min + static_cast<int>(hash % static_cast<std::uint64_t>(
                                                                           range.max - range.min + 1)),
                                      score_enum);
      int score = markers.score.value_or(computed);
      if (markers.reply == "out_of_range") score = range.max + 5;
      if (markers.reply == "no_score") return R"({"reason": "fake judge: a verdict without a score"})";
      verdict = verdict_text(score);
    }
    if (markers.reply == "unparseable" || (markers.reply == "unparseable_once" && !conv.has_assistant)) {
      return "I think it is pretty good.";
    }
    if (markers.reply == "fenced") return "Here is my verdict:\n```json\n" + verdict + "\n```\nHope this helps.";
    return verdict;
  }

  // Answers now, or after delay_ms on an evtimer.
  void finish(evhttp_request* req, Reply reply, int delay_ms = 0, LogRef log = {}) {
    if (delay_ms <= 0) return answer(req, reply, log);
    Pending& pending = hold(req, log);
    pending.reply = std::move(reply);
    pending.timer.reset(evtimer_new(base_, &FakeServer::on_timer, &pending));
    timeval tv{delay_ms / 1000, (delay_ms % 1000) * 1000};
    bool common = common_latency_ != nullptr && delay_ms == options_.latency_ms;
    evtimer_add(pending.timer.get(), common ? common_latency_ : &tv);
  }

  void answer(evhttp_request* req, const Reply& reply, LogRef log) {
    --stats_.in_flight;
    ++stats_.status_counts[reply.status];
    close_log_entry(log, reply.status, false);
    send(req, reply);
  }

  // Keeps req unanswered until a timer answers it or its client hangs up.
  Pending& hold(evhttp_request* req, LogRef log) {
    auto owned = std::make_unique<Pending>();
    Pending& pending = *owned;
    pending.server = this;
    pending.req = req;
    pending.log = log;
    watch_hang_up(pending);
    pending_.emplace(&pending, std::move(owned));
    return pending;
  }

  // evhttp stops reading a connection while its request is handled, so by itself it notices a
  // client's hang-up only when a reply fails to go out. While we hold a request we read on, with
  // no read callback, as evhttp itself does while it writes a reply (evhttp_write_buffer): what
  // the client sends waits in the input buffer, and EOF or a reset reaches evhttp's event
  // callback. evhttp then detaches the unanswered request (req->evcon = NULL; libevent 2.1's
  // evhttp_connection_incoming_fail), frees the connection and calls on_connection_close, which
  // frees the request. No read timeout meanwhile: mode hang holds a request for as long as the
  // client waits, and the latency is ours to keep.
  void watch_hang_up(Pending& pending) {
    evhttp_connection* connection = evhttp_request_get_connection(pending.req);
    bufferevent* bev = evhttp_connection_get_bufferevent(connection);
    bufferevent_data_cb write_cb = nullptr;
    bufferevent_event_cb event_cb = nullptr;
    void* cb_arg = nullptr;
    bufferevent_getcb(bev, nullptr, &write_cb, &event_cb, &cb_arg);
    bufferevent_setcb(bev, nullptr, write_cb, event_cb, cb_arg);
    timeval idle{kIdleTimeoutS, 0};
    bufferevent_set_timeouts(bev, nullptr, &idle);
    bufferevent_enable(bev, EV_READ);
    evhttp_connection_set_closecb(connection, &FakeServer::on_connection_close, this);
    pending.connection = connection;
    held_by_connection_[connection] = &pending;
  }

  // The reply is about to go out: evhttp takes the connection back (it sets its own callbacks
  // to write), with its idle timeout.
  void unwatch_hang_up(Pending& pending) {
    held_by_connection_.erase(pending.connection);
    timeval idle{kIdleTimeoutS, 0};
    bufferevent_set_timeouts(evhttp_connection_get_bufferevent(pending.connection), &idle, &idle);
  }

  static void on_timer(evutil_socket_t, short, void* arg) {
    auto* pending = static_cast<Pending*>(arg);
    FakeServer* self = pending->server;
    auto node = self->pending_.extract(pending);  // owns it until this callback returns
    self->unwatch_hang_up(*pending);
    self->answer(pending->req, pending->reply, pending->log);
  }

  // evhttp calls this whenever a connection goes, also an idle one or at evhttp_free.
  static void on_connection_close(evhttp_connection* connection, void* arg) {
    auto* self = static_cast<FakeServer*>(arg);
    auto held = self->held_by_connection_.find(connection);
    if (held == self->held_by_connection_.end()) return;
    Pending* pending = held->second;
    self->held_by_connection_.erase(held);
    auto node = self->pending_.extract(pending);  // its timer, if any, goes with it
    --self->stats_.in_flight;
    self->close_log_entry(pending->log, 0, true);
    // A hang-up detached the request and left it to us. Had the connection gone any other way,
    // the request would still be on it, and evhttp frees it with the connection.
    if (evhttp_request_get_connection(pending->req) == nullptr) evhttp_request_free(pending->req);
  }

  // OpenAI gives the reset as a duration, Anthropic as an RFC 3339 time.
  static void add_exhausted_headers(evkeyvalq* headers, Vendor vendor, int seconds) {
    if (vendor == Vendor::kOpenAi) {
      evhttp_add_header(headers, "x-ratelimit-remaining-requests", "0");
      evhttp_add_header(headers, "x-ratelimit-reset-requests", (std::to_string(seconds) + "s").c_str());
      return;
    }
    auto at = std::chrono::system_clock::now() + std::chrono::seconds(seconds);
    std::time_t whole = std::chrono::system_clock::to_time_t(at);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", std::gmtime(&whole));
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms));
    evhttp_add_header(headers, "anthropic-ratelimit-requests-remaining", "0");
    evhttp_add_header(headers, "anthropic-ratelimit-requests-reset", stamp);
  }

  static void send(evhttp_request* req, const Reply& reply) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type",
                      reply.content_type_override.empty() ? reply.content_type : reply.content_type_override.c_str());
    if (reply.retry_after_ms) {
      evhttp_add_header(headers, "retry-after-ms", std::to_string(*reply.retry_after_ms).c_str());
      evhttp_add_header(headers, "retry-after", std::to_string((*reply.retry_after_ms + 999) / 1000).c_str());
    } else if (reply.retry_after) {
      evhttp_add_header(headers, "retry-after", "1");
    }
    if (reply.exhausted_s) add_exhausted_headers(headers, reply.vendor, *reply.exhausted_s);
    evbuffer* out = evhttp_request_get_output_buffer(req);
    switch (reply.shape) {
      case Reply::Shape::kWhole:
        evbuffer_add(out, reply.body.data(), reply.body.size());
        break;
      case Reply::Shape::kTruncated:
        // evhttp keeps a Content-Length it is given, and closes after a reply that says close.
        evhttp_add_header(headers, "Content-Length", std::to_string(reply.body.size()).c_str());
        evhttp_add_header(headers, "Connection", "close");
        evbuffer_add(out, reply.body.data(), std::min(reply.body.size(), reply.truncate_at.value_or(reply.body.size() / 2)));
        break;
      case Reply::Shape::kHuge:
        add_huge_body(out, reply.body);
        break;
      case Reply::Shape::kHugeChunked: {
        // Without a Content-Length evhttp answers an HTTP/1.1 request in chunked encoding. The
        // whole body goes out as one chunk, queued at once; a client that hangs up partway is
        // evhttp's to clean up, as for any reply.
        evhttp_send_reply_start(req, reply.status, reason_phrase(reply.status));
        std::unique_ptr<evbuffer, decltype(&evbuffer_free)> chunk(evbuffer_new(), &evbuffer_free);
        add_huge_body(chunk.get(), reply.body);
        evhttp_send_reply_chunk(req, chunk.get());
        evhttp_send_reply_end(req);
        return;
      }
    }
    evhttp_send_reply(req, reply.status, reason_phrase(reply.status), nullptr);
  }

  // The body with its placeholder replaced by kHugeBytes of 'x': the same 1 MiB block added by
  // reference 50 times, so the server holds 1 MiB, not 50, and evhttp sets the Content-Length.
  static void add_huge_body(evbuffer* out, std::string_view body) {
    static const std::string block(kHugeBlock, 'x');
    const auto at = body.find(kHugePlaceholderOnWire);
    evbuffer_add(out, body.data(), at);
    for (std::size_t sent = 0; sent < kHugeBytes; sent += block.size()) {
      evbuffer_add_reference(out, block.data(), block.size(), nullptr, nullptr);
    }
    const std::string_view tail = body.substr(at + kHugePlaceholderOnWire.size());
    evbuffer_add(out, tail.data(), tail.size());
  }

  // ---- the batch APIs (OpenAI Batch + Files, Anthropic Message Batches) ----
  // Batches live in memory and move on lazily: each call that looks at a batch (retrieve,
  // cancel, results) first advances it by what the clock says. Field names, in the vendors'
  // order, are those of the official SDKs' types (cited where each object is built).

  struct StoredFile {
    std::string filename;
    std::string purpose;
    std::int64_t created_at = 0;
    std::string content;
  };
  struct BatchItem {
    std::string custom_id;
    std::string body;  // the request body, as JSON text
  };
  struct OpenAiBatch {
    ordered_json object;  // the Batch as the API returns it
    std::vector<BatchItem> items;  // until processed
    std::optional<ordered_json> errors;  // input file problems: the batch fails
    Route route;  // kOpenAi, or kAzureV1 under /openai/v1
    double created_ms = 0;
    std::uint64_t number = 0;  // seeds the shuffle
    std::optional<std::string> output_file_id;  // written at finalizing, shown once completed
    std::optional<std::string> error_file_id;
  };
  struct AnthropicBatch {
    ordered_json object;  // the MessageBatch as the API returns it
    std::vector<BatchItem> items;
    double created_ms = 0;
    std::uint64_t number = 0;
    std::string results_url;
    std::string results;  // JSONL, once ended
  };

  static bool under(std::string_view path, std::string_view prefix) {
    return path == prefix || (starts_with(path, prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
  }

  static std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  // RFC 3339 with microseconds, as Anthropic writes its batch times ("2024-08-20T18:37:24.100435Z").
  static std::string rfc3339(std::chrono::system_clock::time_point at) {
    std::time_t whole = std::chrono::system_clock::to_time_t(at);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count() % 1000000;
    char stamp[48];
    std::tm tm{};
    gmtime_r(&whole, &tm);
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%06dZ", static_cast<int>(us));
    return stamp;
  }

  // A batch call before anything else: a /control throttle window or mode fail answers it
  // (mode hang does not hold batch calls).
  std::optional<Reply> batch_gate(Vendor vendor) {
    if (double now = now_ms(); now < throttle_until_ms_) {
      ++stats_.throttled;
      return throttled_reply(vendor, throttle_until_ms_ - now);
    }
    if (mode_ == Mode::kFail) return error_reply(vendor, fail_status_, "injected failure (mode fail)");
    return std::nullopt;
  }

  static Reply openai_invalid(int status, const std::string& message, const json& param = nullptr) {
    return Reply{status, openai_error_body(message, param, nullptr)};
  }
  static Reply anthropic_invalid(int status, const std::string& message) {
    return Reply{status, anthropic_error_body(status == 404 ? "not_found_error" : "invalid_request_error", message)};
  }

  // The batch endpoints; false when path is none of them. Azure's two batch APIs are OpenAI's
  // wire format with Azure's api-key: the v1 API under /openai/v1/ (no api-version;
  // MicrosoftDocs/azure-ai-docs articles/ai-foundry/openai/includes/batch/batch-rest.md) and
  // the dated one under /openai/files and /openai/batches with ?api-version=V (REST reference
  // "Files - Upload", "Batch - Create": POST {endpoint}/openai/batches?api-version=2024-10-21;
  // openai-python's AzureOpenAI sends files and batches calls there, src/openai/lib/azure.py).
  // Both are served as the /v1/... routes below.
  bool serve_batch_api(evhttp_request* req, const std::string& full_path, evhttp_cmd_type method) {
    std::string_view path = full_path;
    std::string dated;  // /openai/files... as /v1/files...
    Route route;
    if (under(path, "/openai/v1/files") || under(path, "/openai/v1/batches")) {
      route.api = Api::kAzureV1;
      path.remove_prefix(std::string_view("/openai").size());
    } else if (under(path, "/openai/files") || under(path, "/openai/batches")) {
      route.api = Api::kAzureDeployment;  // the dated API, as the deployments path speaks it
      dated = "/v1" + std::string(path.substr(std::string_view("/openai").size()));
      path = dated;
    } else if (under(path, "/v1/messages/batches")) {
      route.api = Api::kAnthropic;
    } else if (!under(path, "/v1/files") && !under(path, "/v1/batches")) {
      return false;
    }
    ++stats_.batch.calls;
    Reply reply = batch_call(req, route, path, method);
    ++stats_.status_counts[reply.status];
    send(req, reply);
    return true;
  }

  Reply batch_call(evhttp_request* req, const Route& route, std::string_view path, evhttp_cmd_type method) {
    const Vendor vendor = route.vendor();
    if (auto gate = batch_gate(vendor)) return *gate;
    // Azure's dated API without an api-version, as its deployments path answers one.
    if (route.api == Api::kAzureDeployment && !has_api_version(req)) {
      return Reply{404, azure_error_body("404", "Resource not found")};
    }
    if (auto auth = check_auth(req, route)) return *auth;
    if (vendor == Vendor::kAnthropic && header_or_empty(req, "anthropic-version").empty()) {
      return error_reply(vendor, 400, "anthropic-version: header is required");
    }
    const bool post = method == EVHTTP_REQ_POST;
    const bool get = method == EVHTTP_REQ_GET;
    auto segments = [](std::string_view rest) {
      std::vector<std::string> out;
      while (!rest.empty()) {
        if (rest.front() == '/') rest.remove_prefix(1);
        std::size_t slash = std::min(rest.find('/'), rest.size());
        if (slash > 0) out.emplace_back(rest.substr(0, slash));
        rest.remove_prefix(slash);
      }
      return out;
    };
    if (vendor == Vendor::kAnthropic) {
      auto parts = segments(path.substr(std::string_view("/v1/messages/batches").size()));
      if (parts.empty() && post) return create_anthropic_batch(req);
      if (parts.size() == 1 && get) return retrieve_anthropic_batch(parts[0], false);
      if (parts.size() == 2 && parts[1] == "cancel" && post) return retrieve_anthropic_batch(parts[0], true);
      if (parts.size() == 2 && parts[1] == "results" && get) return anthropic_results(parts[0]);
      return anthropic_invalid(parts.size() <= 2 ? 405 : 404, "no such route: " + std::string(path));
    }
    if (under(path, "/v1/files")) {
      auto parts = segments(path.substr(std::string_view("/v1/files").size()));
      if (parts.empty() && post) return upload_file(req, route);
      if (parts.size() == 1 && get) return file_object(parts[0]);
      if (parts.size() == 2 && parts[1] == "content" && get) return file_content(parts[0]);
      return openai_invalid(parts.size() <= 2 ? 405 : 404, "no such route: " + std::string(path));
    }
    auto parts = segments(path.substr(std::string_view("/v1/batches").size()));
    if (parts.empty() && post) return create_openai_batch(req, route);
    if (parts.empty() && get) return list_openai_batches(req);
    if (parts.size() == 1 && get) return retrieve_openai_batch(parts[0], false);
    if (parts.size() == 2 && parts[1] == "cancel" && post) return retrieve_openai_batch(parts[0], true);
    return openai_invalid(parts.size() <= 2 ? 405 : 404, "no such route: " + std::string(path));
  }

  // multipart/form-data (RFC 7578), as the SDKs upload files: the parts named "purpose" and "file".
  struct FormPart {
    std::string name;
    std::string filename;
    std::string_view data;
  };
  static std::optional<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body) {
    auto at = content_type.find("boundary=");
    if (!starts_with(content_type, "multipart/form-data") || at == std::string_view::npos) return std::nullopt;
    std::string_view boundary = content_type.substr(at + 9);
    boundary = boundary.substr(0, std::min(boundary.find(';'), boundary.size()));
    if (boundary.size() >= 2 && boundary.front() == '"' && boundary.back() == '"') {
      boundary = boundary.substr(1, boundary.size() - 2);
    }
    if (boundary.empty()) return std::nullopt;
    const std::string delimiter = "--" + std::string(boundary);
    const std::string separator = "\r\n" + delimiter;
    std::size_t pos = body.find(delimiter);
    if (pos == std::string_view::npos) return std::nullopt;
    pos += delimiter.size();
    std::vector<FormPart> parts;
    for (;;) {
      if (body.substr(pos, 2) == "--") return parts;
      if (body.substr(pos, 2) != "\r\n") return std::nullopt;
      pos += 2;
      std::size_t headers_end = body.find("\r\n\r\n", pos);
      if (headers_end == std::string_view::npos) return std::nullopt;
      std::string_view headers = body.substr(pos, headers_end - pos);
      std::size_t data_start = headers_end + 4;
      std::size_t data_end = body.find(separator, data_start);
      if (data_end == std::string_view::npos) return std::nullopt;
      FormPart part;
      part.data = body.substr(data_start, data_end - data_start);
      // Content-Disposition: form-data; name="file"; filename="batch.jsonl"
      auto param = [&](std::string_view key) -> std::string {
        std::string needle = "; " + std::string(key) + "=\"";
        auto found = headers.find(needle);
        if (found == std::string_view::npos) return {};
        auto start = found + needle.size();
        auto end = headers.find('"', start);
        return end == std::string_view::npos ? std::string() : std::string(headers.substr(start, end - start));
      };
      part.name = param("name");
      part.filename = param("filename");
      parts.push_back(std::move(part));
      pos = data_end + separator.size();
    }
  }

  // FileObject: openai-python src/openai/types/file_object.py (id, bytes, created_at, filename,
  // object, purpose, status, expires_at, status_details).
  ordered_json file_json(const std::string& id, const StoredFile& file) const {
    return ordered_json{{"id", id},
                        {"object", "file"},
                        {"bytes", file.content.size()},
                        {"created_at", file.created_at},
                        {"filename", file.filename},
                        {"purpose", file.purpose},
                        {"status", "processed"},
                        {"expires_at", nullptr},
                        {"status_details", nullptr}};
  }

  std::string store_file(std::string filename, std::string purpose, std::string content) {
    std::string id = "file-fake" + std::to_string(++next_file_);
    files_[id] = StoredFile{std::move(filename), std::move(purpose), unix_now(), std::move(content)};
    return id;
  }

  // POST /v1/files: openai-python src/openai/resources/files.py (multipart, "purpose" and "file").
  // Azure's dated API answers 201 Created (REST reference, Files - Upload).
  Reply upload_file(evhttp_request* req, const Route& route) {
    auto parts = parse_multipart(header_or_empty(req, "Content-Type"), request_body(req));
    if (!parts) return openai_invalid(400, "Expected a multipart/form-data body with a boundary.");
    const FormPart* purpose = nullptr;
    const FormPart* file = nullptr;
    for (const FormPart& part : *parts) {
      if (part.name == "purpose") purpose = &part;
      if (part.name == "file") file = &part;
    }
    if (purpose == nullptr) return openai_invalid(400, "Missing required parameter: 'purpose'.", "purpose");
    if (file == nullptr) return openai_invalid(400, "Missing required parameter: 'file'.", "file");
    ++stats_.batch.files_uploaded;
    std::string id = store_file(file->filename.empty() ? "upload" : file->filename, std::string(purpose->data),
                                std::string(file->data));
    return Reply{route.api == Api::kAzureDeployment ? 201 : 200, file_json(id, files_.at(id)).dump()};
  }

  Reply file_object(const std::string& id) {
    auto it = files_.find(id);
    if (it == files_.end()) return openai_invalid(404, "No such File object: " + id, "id");
    return Reply{200, file_json(id, it->second).dump()};
  }

  Reply file_content(const std::string& id) {
    auto it = files_.find(id);
    if (it == files_.end()) return openai_invalid(404, "No such File object: " + id, "id");
    ++stats_.batch.file_downloads;
    return Reply{200, it->second.content, "application/octet-stream"};
  }

  // POST /v1/batches: openai-python src/openai/types/batch_create_params.py (input_file_id,
  // endpoint, completion_window "24h", metadata). Input lines: {"custom_id", "method": "POST",
  // "url", "body"} (the batch request input of the API reference). Line problems fail the batch
  // (status "failed", errors.data[] of BatchError: code, line, message, param; the codes are
  // the fake's own).
  //
  // Azure (both APIs): the endpoint and each line's "url" name chat completions as
  // "/chat/completions" or "/v1/chat/completions" (its how-tos show both: the dated API's
  // lines and endpoint "/chat/completions", MicrosoftDocs/azure-ai-docs articles/ai-foundry/
  // openai/includes/batch/batch-python.md; the v1 API's lines "/v1/chat/completions" under
  // endpoint "/chat/completions", batch-rest.md). Each body's "model" is a global-batch
  // deployment's name, the same on every line ("The same Global Batch model deployment name
  // must be present on each line of the batch file", both how-tos); with --azure-deployment it
  // must be one of those named. Items are judged as that deployment's model.
  Reply create_openai_batch(evhttp_request* req, const Route& route) {
    std::string_view raw = request_body(req);
    json body = json::parse(raw.begin(), raw.end(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return openai_invalid(400, "We could not parse the JSON body of your request.");
    }
    for (const char* field : {"input_file_id", "endpoint", "completion_window"}) {
      if (!body.contains(field) || !body[field].is_string()) {
        return openai_invalid(400, std::string("Missing required parameter: '") + field + "'.", field);
      }
    }
    const std::string endpoint = body["endpoint"];
    const bool azure = route.api == Api::kAzureV1 || route.api == Api::kAzureDeployment;
    auto names_chat = [azure, &endpoint](const json& url) {
      if (!url.is_string()) return false;
      if (!azure) return url == endpoint;
      return url == "/chat/completions" || url == "/v1/chat/completions";
    };
    if (endpoint != "/v1/chat/completions" && !(azure && endpoint == "/chat/completions")) {
      return openai_invalid(400, "The fake provider batches only /v1/chat/completions, not '" + endpoint + "'.",
                            "endpoint");
    }
    if (body["completion_window"] != "24h") {
      return openai_invalid(400, "Invalid value for 'completion_window': only '24h' is supported.",
                            "completion_window");
    }
    if (body.contains("metadata") && !body["metadata"].is_null() && !body["metadata"].is_object()) {
      return openai_invalid(400, "Invalid type for 'metadata': expected an object.", "metadata");
    }
    const std::string input_file_id = body["input_file_id"];
    auto file = files_.find(input_file_id);
    if (file == files_.end()) return openai_invalid(404, "No such File object: " + input_file_id, "input_file_id");
    if (file->second.purpose != "batch") {
      return openai_invalid(400, "The input file must be uploaded with purpose 'batch'.", "input_file_id");
    }

    OpenAiBatch batch;
    batch.route = route;
    batch.number = ++next_batch_;
    batch.created_ms = now_ms();
    ordered_json errors = ordered_json::array();
    std::unordered_set<std::string> seen;
    std::string_view content = file->second.content;
    std::size_t line_number = 0;
    json model = nullptr;
    while (!content.empty()) {
      std::size_t end = std::min(content.find('\n'), content.size());
      std::string_view line = content.substr(0, end);
      content.remove_prefix(std::min(end + 1, content.size()));
      ++line_number;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      auto problem = [&](const char* code, const std::string& message, const json& param) {
        if (errors.size() < 1000) {
          errors.push_back(ordered_json{{"code", code}, {"line", line_number}, {"message", message}, {"param", param}});
        }
      };
      json item = json::parse(line.begin(), line.end(), nullptr, false);
      if (item.is_discarded() || !item.is_object()) {
        problem("invalid_json_line", "This line is not parseable as valid JSON.", nullptr);
        continue;
      }
      if (!item.contains("custom_id") || !item["custom_id"].is_string()) {
        problem("missing_custom_id", "Each line needs a string 'custom_id'.", "custom_id");
        continue;
      }
      if (item.value("method", "") != "POST") {
        problem("invalid_method", "The 'method' of each line must be 'POST'.", "method");
        continue;
      }
      if (!item.contains("url") || !names_chat(item["url"])) {
        problem("mismatched_url",
                azure ? "The 'url' of each line must be /chat/completions (or /v1/chat/completions)."
                      : "The 'url' of each line must be the batch's endpoint, " + endpoint + ".",
                "url");
        continue;
      }
      if (!item.contains("body") || !item["body"].is_object()) {
        problem("invalid_body", "Each line needs an object 'body'.", "body");
        continue;
      }
      if (azure) {
        const json& deployment = item["body"].contains("model") ? item["body"]["model"] : json();
        if (!deployment.is_string() || deployment.get_ref<const std::string&>().empty()) {
          problem("missing_model", "Each line's body needs the global batch deployment's name as 'model'.",
                  "body.model");
          continue;
        }
        const std::string& name = deployment.get_ref<const std::string&>();
        if (!options_.azure_deployments.empty() && options_.azure_deployments.count(name) == 0) {
          problem("model_not_found", "The deployment '" + name + "' does not exist.", "body.model");
          continue;
        }
        if (!model.is_null() && model != deployment) {
          problem("mixed_deployments",
                  "Every line must name the same deployment as 'model'; the first names " + model.get<std::string>() +
                      ".",
                  "body.model");
          continue;
        }
      }
      std::string custom_id = item["custom_id"];
      if (!seen.insert(custom_id).second) {
        problem("duplicate_custom_id", "The custom_id '" + custom_id + "' appears more than once.", "custom_id");
        continue;
      }
      if (model.is_null() && item["body"].contains("model")) model = item["body"]["model"];
      batch.items.push_back(BatchItem{std::move(custom_id), item["body"].dump()});
    }
    if (batch.items.empty() && errors.empty()) {
      errors.push_back(ordered_json{{"code", "empty_file"}, {"line", nullptr}, {"message", "The input file is empty."},
                                    {"param", nullptr}});
    }
    if (!errors.empty()) batch.errors = ordered_json{{"object", "list"}, {"data", std::move(errors)}};
    if (azure && model.is_string()) {
      // Judged as the deployment's model, as its deployments path would judge them.
      batch.route.api = Api::kAzureDeployment;
      batch.route.deployment = model.get<std::string>();
    }
    const std::int64_t now = unix_now();
    // Batch: openai-python src/openai/types/batch.py; request_counts: batch_request_counts.py.
    std::string id = "batch_fake" + std::to_string(batch.number);
    batch.object = ordered_json{{"id", id},
                                {"object", "batch"},
                                {"endpoint", endpoint},
                                {"model", model},
                                {"errors", nullptr},
                                {"input_file_id", input_file_id},
                                {"completion_window", "24h"},
                                {"status", "validating"},
                                {"output_file_id", nullptr},
                                {"error_file_id", nullptr},
                                {"created_at", now},
                                {"in_progress_at", nullptr},
                                {"expires_at", now + 24 * 3600},
                                {"finalizing_at", nullptr},
                                {"completed_at", nullptr},
                                {"failed_at", nullptr},
                                {"expired_at", nullptr},
                                {"cancelling_at", nullptr},
                                {"cancelled_at", nullptr},
                                {"request_counts", {{"total", 0}, {"completed", 0}, {"failed", 0}}},
                                {"usage", nullptr},
                                {"metadata", body.contains("metadata") ? ordered_json(body["metadata"]) : nullptr}};
    ++stats_.batch.openai_created;
    stats_.batch.openai_requests += batch.items.size();
    ordered_json reply = batch.object;
    openai_batches_.emplace(id, std::move(batch));
    return Reply{200, reply.dump()};
  }

  // A line of an output or error file: {"id", "custom_id", "response": {"status_code",
  // "request_id", "body"}, "error": {"code", "message"} | null} (BatchRequestOutput in OpenAI's
  // OpenAPI spec; error codes batch_expired, batch_cancelled, request_timeout).
  ordered_json openai_output_line(const std::string& custom_id, const ordered_json& response, const ordered_json& error) {
    return ordered_json{{"id", "batch_req_fake" + std::to_string(++next_batch_request_)},
                        {"custom_id", custom_id},
                        {"response", response},
                        {"error", error}};
  }

  std::optional<std::string> write_lines(std::vector<std::string>& lines, std::uint64_t seed) {
    if (lines.empty()) return std::nullopt;
    if (batch_shuffle_) {
      std::mt19937_64 shuffle_rng(options_.seed * 1000003 + seed);
      std::shuffle(lines.begin(), lines.end(), shuffle_rng);
    }
    std::string content;
    for (const std::string& line : lines) content += line + "\n";
    return store_file("batch_output.jsonl", "batch_output", std::move(content));
  }

  void advance_openai(OpenAiBatch& b) {
    ordered_json& o = b.object;
    const std::string status = o["status"];
    const std::int64_t now = unix_now();
    auto unfinished = [&](const char* code, const char* message) {
      std::vector<std::string> lines;
      for (const BatchItem& item : b.items) {
        lines.push_back(openai_output_line(item.custom_id, nullptr, {{"code", code}, {"message", message}}).dump());
      }
      o["request_counts"]["failed"] = b.items.size();
      b.items.clear();
      b.items.shrink_to_fit();
      auto error_file = write_lines(lines, b.number);
      o["error_file_id"] = error_file ? ordered_json(*error_file) : nullptr;
    };
    if (status == "validating") {
      if (b.errors) {
        o["status"] = "failed";
        o["failed_at"] = now;
        o["errors"] = *b.errors;
        b.items.clear();
        return;
      }
      o["status"] = "in_progress";
      o["in_progress_at"] = now;
      o["request_counts"]["total"] = b.items.size();
    } else if (status == "in_progress" && now_ms() - b.created_ms >= batch_delay_ms_) {
      if (batch_expire_) {
        o["status"] = "expired";
        o["expired_at"] = now;
        unfinished("batch_expired", "This request could not be executed before the completion window expired.");
        return;
      }
      o["status"] = "finalizing";
      o["finalizing_at"] = now;
      std::vector<std::string> outputs;
      std::vector<std::string> failures;
      std::uint64_t input = 0, output = 0, cached = 0, reasoning = 0;
      for (const BatchItem& item : b.items) {
        Markers markers;
        Reply reply = judge(nullptr, b.route, item.body, 2.0, 2.0, markers);
        ordered_json body = ordered_json::parse(reply.body, nullptr, false);
        ordered_json response{{"status_code", reply.status},
                              {"request_id", "req_fake" + std::to_string(++next_batch_request_)},
                              {"body", body.is_discarded() ? ordered_json(reply.body) : body}};
        if (reply.status == 200) {
          const ordered_json& usage = body["usage"];
          input += usage.value("prompt_tokens", 0ULL);
          output += usage.value("completion_tokens", 0ULL);
          if (usage.contains("prompt_tokens_details")) cached += usage["prompt_tokens_details"].value("cached_tokens", 0ULL);
          if (usage.contains("completion_tokens_details")) {
            reasoning += usage["completion_tokens_details"].value("reasoning_tokens", 0ULL);
          }
        }
        (reply.status == 200 ? outputs : failures)
            .push_back(openai_output_line(item.custom_id, response, nullptr).dump());
      }
      o["request_counts"]["completed"] = outputs.size();
      o["request_counts"]["failed"] = failures.size();
      // BatchUsage: openai-python src/openai/types/batch_usage.py.
      o["usage"] = ordered_json{{"input_tokens", input},
                                {"input_tokens_details", {{"cached_tokens", cached}}},
                                {"output_tokens", output},
                                {"output_tokens_details", {{"reasoning_tokens", reasoning}}},
                                {"total_tokens", input + output}};
      b.items.clear();
      b.items.shrink_to_fit();
      b.output_file_id = write_lines(outputs, b.number);
      b.error_file_id = write_lines(failures, b.number + 1);
    } else if (status == "finalizing") {
      o["status"] = "completed";
      o["completed_at"] = now;
      o["output_file_id"] = b.output_file_id ? ordered_json(*b.output_file_id) : nullptr;
      o["error_file_id"] = b.error_file_id ? ordered_json(*b.error_file_id) : nullptr;
    } else if (status == "cancelling") {
      o["status"] = "cancelled";
      o["cancelled_at"] = now;
      unfinished("batch_cancelled", "This request was not executed because the batch was cancelled.");
    }
  }

  // GET /v1/batches?limit=N&after=ID (openai-ruby models/batch_list_params.rbi: limit 1..100,
  // default 20; `after` the last id of the page before): a CursorPage {"object": "list",
  // "data", "first_id", "last_id", "has_more"}, newest first. Listing does not move batches on.
  Reply list_openai_batches(evhttp_request* req) {
    std::int64_t limit = 20;
    std::string after;
    evkeyvalq query;
    const char* raw_query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (raw_query != nullptr && evhttp_parse_query_str(raw_query, &query) == 0) {
      if (const char* text = evhttp_find_header(&query, "limit")) limit = std::atoll(text);
      if (const char* text = evhttp_find_header(&query, "after")) after = text;
      evhttp_clear_headers(&query);
    }
    if (limit < 1 || limit > 100) return openai_invalid(400, "limit must be between 1 and 100.", "limit");
    std::vector<const OpenAiBatch*> newest_first;
    for (const auto& [id, batch] : openai_batches_) newest_first.push_back(&batch);
    std::sort(newest_first.begin(), newest_first.end(), [](const OpenAiBatch* a, const OpenAiBatch* b) {
      const std::int64_t ca = a->object["created_at"], cb = b->object["created_at"];
      return ca != cb ? ca > cb : a->number > b->number;
    });
    ordered_json data = ordered_json::array();
    bool started = after.empty(), more = false;
    for (const OpenAiBatch* batch : newest_first) {
      if (!started) {
        started = batch->object["id"] == after;
        continue;
      }
      if (static_cast<std::int64_t>(data.size()) == limit) {
        more = true;
        break;
      }
      data.push_back(batch->object);
    }
    ordered_json page = {{"object", "list"},
                         {"data", data},
                         {"first_id", data.empty() ? ordered_json(nullptr) : data.front()["id"]},
                         {"last_id", data.empty() ? ordered_json(nullptr) : data.back()["id"]},
                         {"has_more", more}};
    return Reply{200, page.dump()};
  }

  // GET /v1/batches/{id}; POST /v1/batches/{id}/cancel (openai-python resources/batches.py).
  Reply retrieve_openai_batch(const std::string& id, bool cancel) {
    auto it = openai_batches_.find(id);
    if (it == openai_batches_.end()) return openai_invalid(404, "No batch found with id '" + id + "'.", "batch_id");
    OpenAiBatch& b = it->second;
    advance_openai(b);
    if (cancel) {
      const std::string status = b.object["status"];
      if (status == "validating" || status == "in_progress") {
        ++stats_.batch.openai_cancels;
        b.object["status"] = "cancelling";
        b.object["cancelling_at"] = unix_now();
      } else if (status != "cancelling") {
        return openai_invalid(409, "Cannot cancel a batch with status '" + status + "'.");
      }
    } else {
      ++stats_.batch.retrieves;
    }
    return Reply{200, b.object.dump()};
  }

  static bool valid_custom_id(const std::string& id) {
    // ^[a-zA-Z0-9_-]{1,64}$ (Anthropic API reference, Create a Message Batch).
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
  }

  // POST /v1/messages/batches: anthropic-sdk-python src/anthropic/types/messages/
  // batch_create_params.py ({"requests": [{"custom_id", "params"}]}, 1 to 100,000 requests).
  Reply create_anthropic_batch(evhttp_request* req) {
    std::string_view raw = request_body(req);
    json body = json::parse(raw.begin(), raw.end(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return anthropic_invalid(400, "We could not parse the JSON body of your request.");
    }
    if (!body.contains("requests") || !body["requests"].is_array()) return anthropic_invalid(400, "requests: Field required");
    const json& requests = body["requests"];
    if (requests.empty() || requests.size() > 100000) {
      return anthropic_invalid(400, "requests: expected between 1 and 100000 items");
    }
    AnthropicBatch batch;
    batch.number = ++next_batch_;
    batch.created_ms = now_ms();
    std::unordered_set<std::string> seen;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const json& request = requests[i];
      const std::string where = "requests." + std::to_string(i);
      if (!request.is_object() || !request.contains("custom_id") || !request["custom_id"].is_string()) {
        return anthropic_invalid(400, where + ".custom_id: Field required");
      }
      std::string custom_id = request["custom_id"];
      if (!valid_custom_id(custom_id)) {
        return anthropic_invalid(400, where + ".custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'");
      }
      if (!seen.insert(custom_id).second) {
        return anthropic_invalid(400, where + ".custom_id: duplicate custom_id '" + custom_id + "'");
      }
      if (!request.contains("params") || !request["params"].is_object()) {
        return anthropic_invalid(400, where + ".params: Field required");
      }
      batch.items.push_back(BatchItem{std::move(custom_id), request["params"].dump()});
    }
    std::string id = "msgbatch_fake" + std::to_string(batch.number);
    std::string host = header_or_empty(req, "Host");
    batch.results_url = "http://" + (host.empty() ? std::string("127.0.0.1") : host) + "/v1/messages/batches/" + id +
                        "/results";
    auto created = std::chrono::system_clock::now();
    // MessageBatch: anthropic-sdk-python src/anthropic/types/messages/message_batch.py;
    // request_counts: message_batch_request_counts.py.
    batch.object = ordered_json{{"id", id},
                                {"type", "message_batch"},
                                {"processing_status", "in_progress"},
                                {"request_counts",
                                 {{"processing", batch.items.size()},
                                  {"succeeded", 0},
                                  {"errored", 0},
                                  {"canceled", 0},
                                  {"expired", 0}}},
                                {"ended_at", nullptr},
                                {"created_at", rfc3339(created)},
                                {"expires_at", rfc3339(created + std::chrono::hours(24))},
                                {"archived_at", nullptr},
                                {"cancel_initiated_at", nullptr},
                                {"results_url", nullptr}};
    ++stats_.batch.anthropic_created;
    stats_.batch.anthropic_requests += batch.items.size();
    ordered_json reply = batch.object;
    anthropic_batches_.emplace(id, std::move(batch));
    return Reply{200, reply.dump()};
  }

  // Results lines: message_batch_individual_response.py {"custom_id", "result"}; result is
  // message_batch_{succeeded,errored,canceled,expired}_result.py: {"type": "succeeded",
  // "message"}, {"type": "errored", "error": ErrorResponse (shared/error_response.py: type,
  // error, request_id)}, {"type": "canceled"}, {"type": "expired"}.
  void advance_anthropic(AnthropicBatch& b) {
    ordered_json& o = b.object;
    const std::string status = o["processing_status"];
    const bool canceling = status == "canceling";
    if (status == "ended" || (!canceling && now_ms() - b.created_ms < batch_delay_ms_)) return;
    std::vector<std::string> lines;
    ordered_json& counts = o["request_counts"];
    Route route;
    route.api = Api::kAnthropic;
    for (const BatchItem& item : b.items) {
      ordered_json result;
      if (canceling || batch_expire_) {
        const char* type = canceling ? "canceled" : "expired";
        result = ordered_json{{"type", type}};
        counts[type] = counts[type].get<std::uint64_t>() + 1;
      } else {
        Markers markers;
        Reply reply = judge(nullptr, route, item.body, 2.0, 2.0, markers);
        ordered_json body = ordered_json::parse(reply.body, nullptr, false);
        if (reply.status == 200 && !body.is_discarded()) {
          result = ordered_json{{"type", "succeeded"}, {"message", body}};
          counts["succeeded"] = counts["succeeded"].get<std::uint64_t>() + 1;
        } else {
          result = ordered_json{{"type", "errored"}, {"error", body.is_discarded() ? ordered_json(reply.body) : body}};
          counts["errored"] = counts["errored"].get<std::uint64_t>() + 1;
        }
      }
      lines.push_back(ordered_json{{"custom_id", item.custom_id}, {"result", std::move(result)}}.dump());
    }
    counts["processing"] = 0;
    b.items.clear();
    b.items.shrink_to_fit();
    if (batch_shuffle_) {
      std::mt19937_64 shuffle_rng(options_.seed * 1000003 + b.number);
      std::shuffle(lines.begin(), lines.end(), shuffle_rng);
    }
    for (const std::string& line : lines) b.results += line + "\n";
    o["processing_status"] = "ended";
    o["ended_at"] = rfc3339(std::chrono::system_clock::now());
    o["results_url"] = b.results_url;
  }

  // GET /v1/messages/batches/{id}; POST .../cancel (anthropic-sdk-python
  // src/anthropic/resources/messages/batches.py). Canceling an ended batch returns it as it is.
  Reply retrieve_anthropic_batch(const std::string& id, bool cancel) {
    auto it = anthropic_batches_.find(id);
    if (it == anthropic_batches_.end()) return anthropic_invalid(404, "No message batch found with id '" + id + "'.");
    AnthropicBatch& b = it->second;
    advance_anthropic(b);
    if (cancel) {
      if (b.object["processing_status"] == "in_progress") {
        ++stats_.batch.anthropic_cancels;
        b.object["processing_status"] = "canceling";
        b.object["cancel_initiated_at"] = rfc3339(std::chrono::system_clock::now());
      }
    } else {
      ++stats_.batch.retrieves;
    }
    return Reply{200, b.object.dump()};
  }

  // GET results_url: the results as JSONL (the SDK sends Accept: application/binary).
  Reply anthropic_results(const std::string& id) {
    auto it = anthropic_batches_.find(id);
    if (it == anthropic_batches_.end()) return anthropic_invalid(404, "No message batch found with id '" + id + "'.");
    advance_anthropic(it->second);
    if (it->second.object["processing_status"] != "ended") {
      return anthropic_invalid(400, "Message batch " + id + " is still processing; results are available once it ended.");
    }
    ++stats_.batch.results_downloads;
    return Reply{200, it->second.results, "application/binary"};
  }

  Options options_;
  event_base* base_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  evhttp* http_;
  const timeval* common_latency_ = nullptr;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  Stats stats_;
  std::unordered_map<std::uint64_t, int> fail_counts_;  // only requests carrying fail_first
  simdjson::dom::parser parser_;  // reused: its buffers grow once to the largest request
  std::unordered_map<Pending*, std::unique_ptr<Pending>> pending_;
  std::unordered_map<evhttp_connection*, Pending*> held_by_connection_;  // at most one per connection
  std::uint64_t next_id_ = 0;
  TokenBucket requests_bucket_;
  TokenBucket tokens_bucket_;
  Mode mode_ = Mode::kOk;
  int fail_status_ = 500;
  double throttle_until_ms_ = 0;  // now_ms() before which API requests get 429
  std::vector<LogEntry> log_;
  std::uint64_t log_epoch_ = 0;
  std::uint64_t log_dropped_ = 0;
  std::unordered_set<std::string> interned_paths_;  // Azure deployment paths, for /log
  std::unordered_set<std::uint64_t> openai_cache_;     // (model, system prefix) hashes seen
  std::unordered_set<std::uint64_t> anthropic_cache_;  // (model, cache_control prefix) hashes seen
  std::map<std::string, StoredFile> files_;  // uploaded and output files, by id
  std::map<std::string, OpenAiBatch> openai_batches_;
  std::map<std::string, AnthropicBatch> anthropic_batches_;
  std::uint64_t next_file_ = 0;
  std::uint64_t next_batch_ = 0;
  std::uint64_t next_batch_request_ = 0;
  int batch_delay_ms_ = options_.batch_delay_ms;  // /control batch_delay_ms
  bool batch_expire_ = options_.batch_expire;     // /control batch_expire
  bool batch_shuffle_ = options_.batch_shuffle;
};

// Benchmarks open thousands of connections; lift the soft fd limit to the hard one.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void on_signal(evutil_socket_t, short, void* arg) { event_base_loopbreak(static_cast<event_base*>(arg)); }

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  raise_fd_limit();

  // With the changelist, epoll_ctl calls are batched per loop iteration, and evhttp's
  // disable-read/enable-write/enable-read dance around each request mostly cancels out.
  std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(), &event_config_free);
  event_config_set_flag(config.get(), EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  std::unique_ptr<event_base, decltype(&event_base_free)> base(event_base_new_with_config(config.get()),
                                                               &event_base_free);
  if (!base) {
    std::cerr << "llmeval_fake_provider: event_base_new failed\n";
    return 1;
  }
  std::unique_ptr<event, decltype(&event_free)> sigterm(evsignal_new(base.get(), SIGTERM, on_signal, base.get()),
                                                        &event_free);
  std::unique_ptr<event, decltype(&event_free)> sigint(evsignal_new(base.get(), SIGINT, on_signal, base.get()),
                                                       &event_free);
  evsignal_add(sigterm.get(), nullptr);
  evsignal_add(sigint.get(), nullptr);

  try {
    FakeServer server(options, base.get());
    int port = server.bind(options.port);
    std::printf("PORT=%d\n", port);
    std::fflush(stdout);
    event_base_dispatch(base.get());
  } catch (const std::exception& e) {
    std::cerr << "llmeval_fake_provider: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
