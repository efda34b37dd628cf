// UrlStream: a dataset at an http(s) URL (a pre-signed object-storage URL, say) read as it
// downloads. A background thread runs the transfer (libcurl) and writes the body into a pipe;
// the reader reads the pipe's non-blocking end like a pipe on stdin, so the event loop never
// waits on the network and the file is never held whole: the pipe's 64 KiB is all that is
// buffered, and a slow reader slows the download.
//
// One thread per run, not per request. The transfer follows redirects, only over http and
// https, and gives up when fewer than 1 byte/s arrives for 60 s. A failed download (HTTP status
// >= 400, a cut connection) ends the stream early: error() says what happened once the reader
// has hit the end. URLs can carry credentials in their query: to_display() drops the query.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/common/error.h"

namespace llmeval::fetch {

bool is_url(std::string_view path);

// "https://bucket.example.com/data.jsonl?X-Amz-Signature=..." -> "https://bucket.example.com/data.jsonl"
std::string to_display(std::string_view url);

class UrlStream {
 public:
  // Starts the download; an error when the pipe cannot be made.
  static Result<std::unique_ptr<UrlStream>> open(std::string url);
  // Stops a download still running (the reader stopped early) and waits for its thread.
  ~UrlStream();
  UrlStream(const UrlStream&) = delete;
  UrlStream& operator=(const UrlStream&) = delete;

  std::FILE* file() const;  // the pipe's read end, non-blocking
  // After the reader has read to the end: waits for the transfer to end, then empty when the
  // whole body arrived, else why not.
  std::string finish();

 private:
  struct State;
  explicit UrlStream(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace llmeval::fetch
