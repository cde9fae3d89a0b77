#include "engine/service/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adoption {

void Metrics::RecordRpc(const std::string& method, const std::string& code, double seconds) {
  absl::MutexLock lock(&mu_);
  ++requests_[{method, code}];
  Histogram& h = latency_[method];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  if (b < kBuckets.size()) ++h.buckets[b];
  ++h.count;
  h.sum += seconds;
}

void Metrics::RecordFit(const std::string& fitter, const std::string& status, int64_t count) {
  absl::MutexLock lock(&mu_);
  fits_[{fitter, status}] += count;
}

void Metrics::RecordFitRuns(const std::vector<FitRun>& runs) {
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const FitRun& r : runs) ++counts[{r.outcome.fitter, FitStatusName(r.outcome.status)}];
  for (const auto& [key, n] : counts) RecordFit(key.first, key.second, n);
}

void Metrics::RecordRejection(const std::string& method, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  ++rejected_[{method, reason}];
}

void Metrics::RecordHostFault(const std::string& fitter, const std::string& kind) {
  absl::MutexLock lock(&mu_);
  ++host_faults_[{fitter, kind}];
}

namespace {

// A counter with two labels: its HELP and TYPE lines, then one sample per
// key.
void AppendCounter(std::string* out, const char* name, const char* help, const char* label1,
                   const char* label2,
                   const std::map<std::pair<std::string, std::string>, uint64_t>& samples) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n");
  for (const auto& [key, n] : samples) {
    absl::StrAppend(out, name, "{", label1, "=\"", key.first, "\",", label2, "=\"", key.second,
                    "\"} ", n, "\n");
  }
}

}  // namespace

std::string Metrics::Render(const Gauges& g) const {
  absl::MutexLock lock(&mu_);
  std::string out;
  AppendCounter(&out, "adoption_rpc_requests_total", "RPCs handled, by method and status code.",
                "method", "code", requests_);
  absl::StrAppend(&out,
                  "# HELP adoption_rpc_latency_seconds RPC latency, by method.\n"
                  "# TYPE adoption_rpc_latency_seconds histogram\n");
  for (const auto& [method, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.buckets[b];
      absl::StrAppend(&out, "adoption_rpc_latency_seconds_bucket{method=\"", method, "\",le=\"",
                      absl::StrFormat("%g", kBuckets[b]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "adoption_rpc_latency_seconds_bucket{method=\"", method,
                    "\",le=\"+Inf\"} ", h.count, "\n");
    absl::StrAppend(&out, "adoption_rpc_latency_seconds_sum{method=\"", method, "\"} ",
                    absl::StrFormat("%.6f", h.sum), "\n");
    absl::StrAppend(&out, "adoption_rpc_latency_seconds_count{method=\"", method, "\"} ", h.count,
                    "\n");
  }
  AppendCounter(&out, "adoption_fits_total",
                "Fits run (including cross-validation folds), by fitter and status.", "fitter",
                "status", fits_);
  AppendCounter(&out, "adoption_rpc_rejected_total",
                "Calls refused before any work, by method and reason (concurrency_limit: "
                "RESOURCE_EXHAUSTED over --max-concurrent-requests; draining: UNAVAILABLE "
                "during shutdown).",
                "method", "reason", rejected_);
  AppendCounter(&out, "adoption_fitter_host_faults_total",
                "Fitter host processes (--plugin-isolation=process) that failed a call, by "
                "fitter and kind (fault: crashed or broke the protocol; deadline: killed past "
                "the fit's deadline; cancelled: killed on cancellation; start: could not "
                "start).",
                "fitter", "kind", host_faults_);
  absl::StrAppend(&out,
                  "# HELP adoption_rpc_in_flight AdoptionService calls admitted and running.\n"
                  "# TYPE adoption_rpc_in_flight gauge\n"
                  "adoption_rpc_in_flight ",
                  g.in_flight, "\n",
                  "# HELP adoption_rpc_max_concurrent Calls admitted at once "
                  "(--max-concurrent-requests).\n"
                  "# TYPE adoption_rpc_max_concurrent gauge\n"
                  "adoption_rpc_max_concurrent ",
                  g.max_in_flight, "\n",
                  "# HELP adoption_draining 1 while the server shuts down.\n"
                  "# TYPE adoption_draining gauge\n"
                  "adoption_draining ",
                  g.draining ? 1 : 0, "\n");
  absl::StrAppend(&out,
                  "# HELP adoption_store_series Series in the store.\n"
                  "# TYPE adoption_store_series gauge\n"
                  "adoption_store_series ",
                  g.store_series, "\n",
                  "# HELP adoption_plugins_loaded Fitter plugins loaded.\n"
                  "# TYPE adoption_plugins_loaded gauge\n"
                  "adoption_plugins_loaded ",
                  g.plugins_loaded, "\n",
                  "# HELP adoption_plugins_rejected Plugin files refused at start.\n"
                  "# TYPE adoption_plugins_rejected gauge\n"
                  "adoption_plugins_rejected ",
                  g.plugins_rejected, "\n");
  absl::StrAppend(&out,
                  "# HELP adoption_store_condition 1 for the store's condition (healthy, "
                  "disk_full: the last write found no space, corrupt: damage found).\n"
                  "# TYPE adoption_store_condition gauge\n");
  for (const char* condition : {"healthy", "disk_full", "corrupt"}) {
    absl::StrAppend(&out, "adoption_store_condition{condition=\"", condition, "\"} ",
                    std::string(condition) == g.store_condition ? 1 : 0, "\n");
  }
  return out;
}

}  // namespace adoption
