// OpenAiBatchApi: OpenAI's Batch API with its Files API, as a BatchApi (batch_api.h). Also
// serves OpenAI-compatible servers that implement it. The spool file is the batch input JSONL
// itself (one Provider::batch_request line per request), uploaded as a multipart file part
// streamed from disk; results are the output file then the error file, streamed to disk.
//
// Endpoints, under config.base_url (which for OpenAI already ends in /v1), as openai-python
// calls them (src/openai/resources/files.py, batches.py):
//   POST /files (multipart: purpose=batch, file)       -> FileObject {id}
//   POST /batches {input_file_id, endpoint, completion_window, metadata} -> Batch
//   GET  /batches/{id}, POST /batches/{id}/cancel      -> Batch (src/openai/types/batch.py)
//   GET  /files/{id}/content                           -> the file's bytes
// `http` must outlive the BatchApi; calls in flight keep what they need themselves.
#pragma once

#include <memory>

#include "core/batch/batch_api.h"

namespace llmeval::batch {

std::unique_ptr<BatchApi> make_openai_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config);

}  // namespace llmeval::batch
