// ServingHealth: the statuses adoptiond publishes through grpc.health.v1,
// from what it knows of itself.
//
//   ""                            liveness: SERVING unless the server drains
//                                 or its store found damage (kCorrupt: a
//                                 restart then refuses the file and says
//                                 how to recover it)
//   adoption.v1.AdoptionService   readiness: SERVING when, besides, at least
//                                 one fitter plugin loaded and the store's
//                                 last write did not fail for lack of space
//                                 (kDiskFull)
//
// Each change is logged once (event=health ... reason="..."). While the
// store is kDiskFull, a thread of this class asks it for a probe write
// (SeriesStore::ProbeWrite) every `probe_every`, so that readiness comes
// back once space is freed even when clients stopped writing because
// readiness said NOT_SERVING.
//
// Thread-safe. Construct it before the store is shared (its listener must
// be registered before the first call) and attach the gRPC health service
// once the server is built; Stop() before the store is destroyed.
#ifndef ADOPTION_ENGINE_SERVICE_SERVING_HEALTH_H_
#define ADOPTION_ENGINE_SERVICE_SERVING_HEALTH_H_

#include <string>
#include <thread>

#include <grpcpp/health_check_service_interface.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/store/series_store.h"

namespace adoption {

class ServingHealth {
 public:
  // store: not owned, must outlive Stop(). service_name: the readiness
  // entry. no_fitters_reason: empty when fitters loaded, else why not (the
  // service is then NOT_SERVING for good).
  ServingHealth(SeriesStore* store, std::string service_name, std::string no_fitters_reason,
                absl::Duration probe_every = absl::Seconds(5));
  ~ServingHealth();
  ServingHealth(const ServingHealth&) = delete;
  ServingHealth& operator=(const ServingHealth&) = delete;

  // Publishes the statuses to `health` (not owned; the server's) from now on.
  void Attach(grpc::HealthCheckServiceInterface* health);
  // Both NOT_SERVING for good (the graceful shutdown).
  void StartDrain();
  // Stops the probe thread; no store call is made after it returns.
  void Stop();

  StoreCondition store_condition() const;

 private:
  void OnStoreCondition(StoreCondition condition, const std::string& reason);
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ProbeLoop();

  SeriesStore* const store_;
  const std::string service_name_;
  const std::string no_fitters_reason_;
  const absl::Duration probe_every_;

  mutable absl::Mutex mu_;
  grpc::HealthCheckServiceInterface* health_ ABSL_GUARDED_BY(mu_) = nullptr;
  StoreCondition condition_ ABSL_GUARDED_BY(mu_) = StoreCondition::kHealthy;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Last published, to log changes only.
  int published_live_ ABSL_GUARDED_BY(mu_) = -1;
  int published_ready_ ABSL_GUARDED_BY(mu_) = -1;
  std::string last_reason_ ABSL_GUARDED_BY(mu_);
  std::thread prober_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_SERVING_HEALTH_H_
