// CurlHttpClient: the HttpClient that really talks to the network, on libcurl's multi *socket*
// API driven by the LibeventLoop's event_base (CURLMOPT_SOCKETFUNCTION registers one libevent
// event per socket, CURLMOPT_TIMERFUNCTION one libevent timer). No thread per request and no
// blocking call: every transfer progresses from loop callbacks. Connections are reused through
// the multi handle's connection cache; HTTP/2 is used when a TLS server offers it.
//
// `loop` must outlive the client. Loop thread only. Destroying the client abandons transfers
// in flight without calling their callbacks.
#pragma once

#include <cstddef>
#include <memory>

#include "core/common/event_loop.h"
#include "core/provider/http_client.h"

namespace llmeval::provider {

struct CurlHttpClientOptions {
  // Replies larger than this fail with kServer ("reply body over the 8 MiB limit") instead of
  // growing memory without bound; one over it by its Content-Length is not read at all.
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // Upper bound of open connections kept for reuse; set it to the run's concurrency.
  long max_connections = 64;
};

std::unique_ptr<HttpClient> make_curl_http_client(LibeventLoop& loop, CurlHttpClientOptions options);

}  // namespace llmeval::provider
