// write_metrics_file: leaves a rendered registry at a path the way node_exporter's textfile
// collector wants it, for `llmeval run --metrics-file` (a Job has no /metrics to scrape).
//
// The text goes to a temporary file in the same directory, which is then renamed over `path`.
// rename() within one filesystem is atomic, so a collector reading concurrently sees the old
// file or the new one, never half of one. The temporary name starts with '.' and does not end
// in ".prom", so the collector's *.prom glob never picks it up. There is no fsync: after a
// crash a stale or missing file is fine, the next write replaces it.
//
// A failure (missing directory, no permission, disk full) is an Error naming the path and the
// system error; the temporary file is removed first. Safe to call from several
// threads, even for the same path (each call has its own temporary; the last rename wins).
#pragma once

#include <string>

#include "core/common/error.h"

namespace llmeval::metrics {

Result<Ok> write_metrics_file(const std::string& path, const std::string& text);

}  // namespace llmeval::metrics
