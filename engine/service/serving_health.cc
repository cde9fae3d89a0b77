#include "engine/service/serving_health.h"

#include <utility>

#include "absl/strings/str_cat.h"

#include "engine/service/log_text.h"
#include "spdlog/spdlog.h"

namespace adoption {

ServingHealth::ServingHealth(SeriesStore* store, std::string service_name,
                             std::string no_fitters_reason, absl::Duration probe_every)
    : store_(store),
      service_name_(std::move(service_name)),
      no_fitters_reason_(std::move(no_fitters_reason)),
      probe_every_(probe_every) {
  store_->SetHealthListener([this](StoreCondition condition, const std::string& reason) {
    OnStoreCondition(condition, reason);
  });
  prober_ = std::thread([this] { ProbeLoop(); });
}

ServingHealth::~ServingHealth() { Stop(); }

void ServingHealth::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (prober_.joinable()) prober_.join();
}

void ServingHealth::Attach(grpc::HealthCheckServiceInterface* health) {
  absl::MutexLock lock(&mu_);
  health_ = health;
  Publish();
}

void ServingHealth::StartDrain() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  Publish();
}

StoreCondition ServingHealth::store_condition() const {
  absl::MutexLock lock(&mu_);
  return condition_;
}

void ServingHealth::OnStoreCondition(StoreCondition condition, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  condition_ = condition;
  last_reason_ = reason;
  if (condition == StoreCondition::kHealthy) {
    spdlog::info("event=store_condition condition=healthy reason=\"{}\"", LogText(reason));
  } else {
    spdlog::error("event=store_condition condition={} reason=\"{}\"", StoreConditionName(condition),
                  LogText(reason));
  }
  Publish();
}

void ServingHealth::Publish() {
  const bool live = !draining_ && condition_ != StoreCondition::kCorrupt;
  const bool ready = live && no_fitters_reason_.empty() && condition_ == StoreCondition::kHealthy;
  if (health_ == nullptr) return;
  health_->SetServingStatus("", live);
  health_->SetServingStatus(service_name_, ready);
  // The first publication is the start-up state (main logs it), and the
  // drain logs itself (event=draining): log the changes in between.
  const bool first = published_live_ < 0;
  if (!first && !draining_) {
    const std::string why =
        condition_ != StoreCondition::kHealthy
            ? absl::StrCat("store ", StoreConditionName(condition_), ": ", last_reason_)
            : no_fitters_reason_;
    const auto log = [&](const std::string& name, bool serving, int before) {
      if (serving == before) return;
      if (serving) {
        spdlog::info("event=health service={} status=SERVING", name);
      } else {
        spdlog::warn("event=health service={} status=NOT_SERVING reason=\"{}\"", name,
                     LogText(why));
      }
    };
    log("\"\"", live, published_live_);
    log(service_name_, ready, published_ready_);
  }
  published_live_ = live;
  published_ready_ = ready;
}

void ServingHealth::ProbeLoop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), probe_every_);
    if (stopping_ || condition_ != StoreCondition::kDiskFull) continue;
    // Unlocked: a successful probe calls OnStoreCondition, which locks.
    mu_.Unlock();
    const absl::Status probe = store_->ProbeWrite();
    mu_.Lock();
    if (!probe.ok()) spdlog::debug("event=store_probe error=\"{}\"", LogText(probe.ToString()));
  }
}

}  // namespace adoption
