// AnthropicBatchApi: Anthropic's Message Batches API as a BatchApi (batch_api.h). The spool
// file is the create body itself, {"requests": [element, ...]} with Provider::batch_request's
// elements, POSTed straight from disk; results are the JSONL at the batch's results_url,
// streamed to disk.
//
// Endpoints, under config.base_url (the host), as anthropic-sdk-python calls them
// (src/anthropic/resources/messages/batches.py) and platform.claude.com's API reference
// describes them:
//   POST /v1/messages/batches {"requests"}                      -> MessageBatch
//   GET  /v1/messages/batches/{id}, POST .../{id}/cancel        -> MessageBatch
//   GET  results_url (MessageBatch.results_url, once ended)     -> JSONL of
//        MessageBatchIndividualResponse {"custom_id", "result"}
// `http` must outlive the BatchApi; calls in flight keep what they need themselves.
#pragma once

#include <memory>

#include "core/batch/batch_api.h"

namespace llmeval::batch {

std::unique_ptr<BatchApi> make_anthropic_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config);

}  // namespace llmeval::batch
