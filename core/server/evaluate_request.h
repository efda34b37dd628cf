// EvaluateRequest: the body of `POST /v1/evaluate` (docs/formats.md §6) turned into dataset rows. Pure.
//
// A body is one dataset row (a JSON object, as a line of a dataset), or a batch
// `{"rows": [row, ...]}`: an object with a "rows" key is a batch. Rows are numbered from 1 in
// body order (their result's `line`). A bad row of a batch becomes an InvalidLine in place, as
// in `run` (duplicate ids included); a bad single row, or a body that is not JSON, is an error
// for the whole request: 400 with the row's invalid kind, or "invalid_request" for a batch
// whose "rows" is not an array. A batch of more than `max_rows` rows is 413
// "batch_too_large": it could never fit in the queue.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset/jsonl_reader.h"

namespace llmeval::server {

struct RequestError {
  int status = 400;
  std::string kind;
  std::string message;
};

struct EvaluateRequest {
  bool batch = false;
  std::vector<dataset::ReadItem> rows;
  std::optional<RequestError> error;  // set: answer it, rows is empty
};

EvaluateRequest parse_evaluate_request(std::string_view body, const dataset::ReaderOptions& options,
                                       std::size_t max_rows);

}  // namespace llmeval::server
