// Metrics: counters and latency histograms of adoptiond, rendered in the
// Prometheus text exposition format (served on --metrics-listen).
//
//   adoption_rpc_requests_total{method,code}           counter
//   adoption_rpc_latency_seconds{method} (histogram)   _bucket/_sum/_count
//   adoption_fits_total{fitter,status}                 counter
//   adoption_rpc_rejected_total{method,reason}         counter: calls refused
//       before any work, reason "concurrency_limit" (RESOURCE_EXHAUSTED,
//       --max-concurrent-requests) or "draining" (UNAVAILABLE, shutdown)
//   adoption_fitter_host_faults_total{fitter,kind}     counter (RecordHostFault)
//   adoption_store_series                              gauge (at scrape)
//   adoption_plugins_loaded / adoption_plugins_rejected gauges
//   adoption_rpc_in_flight, adoption_rpc_max_concurrent gauges (at scrape)
//   adoption_draining                                  gauge: 1 while shutting down
//   adoption_store_condition{condition}                gauge: 1 for the store's condition
//       (healthy, disk_full, corrupt; see engine/store/series_store.h)
//
// Thread-safe: every method may be called from any thread.
//
// Rendered by hand, not with prometheus-cpp (Debian's prometheus-cpp-dev
// 1.0.1, weighed for this): its Registry sorts labels by name, so it would
// print adoption_rpc_requests_total{code=...,method=...} (the same series to
// Prometheus, not the text tests/integration match) and omit a family until
// its first sample; its Exposer (civetweb) can bind port 0 and report it, but
// adds exposer_* families to every scrape and throws on a failed bind; and
// gauges read at scrape time need a hand-built Collectable. Its TextSerializer
// alone, fed MetricFamily structs built from the maps below, would save about
// ten lines of Render() for a new library in adoptiond and the Bazel overlay.
// Label values are method names, status codes and fitter names ([a-z0-9_],
// checked in engine/plugins/fitter_registry.cc): none needs escaping.
#ifndef ADOPTION_ENGINE_SERVICE_METRICS_H_
#define ADOPTION_ENGINE_SERVICE_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "engine/plugins/fit_outcome.h"

namespace adoption {

class Metrics {
 public:
  // Upper bounds of the latency buckets, seconds (+Inf is implied).
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};

  void RecordRpc(const std::string& method, const std::string& code, double seconds);
  void RecordFit(const std::string& fitter, const std::string& status, int64_t count = 1);
  // Every fit of one planner run, counted by fitter and status (the
  // planner's on_run).
  void RecordFitRuns(const std::vector<FitRun>& runs);
  // A call refused before any work; reason "concurrency_limit" or "draining".
  void RecordRejection(const std::string& method, const std::string& reason);
  // A fitter host (--plugin-isolation=process) that failed a call: kind
  // "fault" (crashed, or a broken reply), "deadline" (killed past the fit's
  // deadline), "cancelled" (killed on cancellation) or "start" (could not
  // be started).
  void RecordHostFault(const std::string& fitter, const std::string& kind);

  // Gauges read at scrape time.
  struct Gauges {
    int64_t store_series = -1;
    int plugins_loaded = 0;
    int plugins_rejected = 0;
    int in_flight = 0;      // AdoptionService calls admitted and running
    int max_in_flight = 0;  // --max-concurrent-requests
    bool draining = false;
    // StoreConditionName() of the store's condition.
    std::string store_condition = "healthy";
  };
  // The exposition text.
  std::string Render(const Gauges& gauges) const;

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> fits_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> rejected_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> host_faults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_METRICS_H_
