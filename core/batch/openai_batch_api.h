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
//
// Azure OpenAI's batch API is the same one at other URLs (make_azure_batch_api): the same
// client, parameterised by where the files and batches live and what the batch's `endpoint` is.
// It uses the dated data-plane API that the Azure provider's deployments calls use, under
// {base_url}/openai with config.api_version on every call, as the AzureOpenAI client of
// openai-python sends files and batches calls (src/openai/lib/azure.py: only completions,
// embeddings, audio and images go under /deployments/{model}; everything else under
// {azure_endpoint}/openai with ?api-version=V):
//   POST /openai/files?api-version=V (multipart: purpose=batch, file)  (REST "Files - Upload":
//        POST {endpoint}/openai/files?api-version=2024-10-21, answered 201)
//   POST /openai/batches?api-version=V {input_file_id, "endpoint": "/chat/completions",
//        completion_window "24h", metadata}  (REST "Batch - Create", api-version 2024-10-21,
//        the first GA version with batch; its sample batch has "endpoint": "/chat/completions")
//   GET  /openai/batches?api-version=V&limit=100, GET /openai/batches/{id}?api-version=V,
//   POST /openai/batches/{id}/cancel?api-version=V  (REST "Batch - List", "Batch - Get",
//        "Batch - Cancel")
//   GET  /openai/files/{id}/content?api-version=V  (REST "Files - Get File Content")
// with the key in `api-key`, never Bearer. The default api_version (provider_config.h) has
// batch; a configured version without it is answered 404, which the calls report as it is.
// Azure's newer v1 API (/openai/v1/files, /openai/v1/batches, no api-version: MicrosoftDocs/
// azure-ai-docs articles/ai-foundry/openai/includes/batch/batch-rest.md) is the OpenAI client
// with base_url https://RESOURCE.openai.azure.com/openai/v1, which make_openai_batch_api serves
// already. Azure's input lines (Provider::batch_request of an Azure provider) name the
// deployment as the model; results and statuses are OpenAI's.
#pragma once

#include <memory>

#include "core/batch/batch_api.h"

namespace llmeval::batch {

std::unique_ptr<BatchApi> make_openai_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config);
// Azure OpenAI's global batch (config.type kAzure): base_url the resource, api_version set.
std::unique_ptr<BatchApi> make_azure_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config);

}  // namespace llmeval::batch
