#include "engine/service/adoption_service.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/service/log_text.h"
#include "engine/service/page_token.h"
#include "engine/service/report_proto.h"
#include "engine/service/series_proto.h"
#include "engine/store/calendar.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// Status messages are cut to this (log_text.h: ClipText says why).
constexpr size_t kMaxStatusMessageBytes = 2048;

// Logs one finished RPC as a structured line and records it in the metrics.
class RpcLog {
 public:
  RpcLog(const char* method, Metrics* metrics)
      : method_(method), metrics_(metrics), start_(absl::Now()) {}
  grpc::Status Done(grpc::Status status) {
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
    if (metrics_ != nullptr) {
      metrics_->RecordRpc(
          method_, absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
          ms / 1000);
    }
    if (status.ok()) {
      spdlog::info("event=rpc method={} code=OK latency_ms={:.2f}", method_, ms);
    } else {
      spdlog::warn("event=rpc method={} code={} latency_ms={:.2f} message=\"{}\"", method_,
                   static_cast<int>(status.error_code()), ms, LogText(status.error_message()));
    }
    return status;
  }

 private:
  const char* method_;
  Metrics* metrics_;
  absl::Time start_;
};

// Prefixes a store error with the request field it concerns, so NOT_FOUND
// messages name the field like every other error.
absl::Status InField(const absl::Status& s, const std::string& field) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

// What an upsert removed from a stored series, for the response's warnings.
std::string ShrinkWarning(const Replacement& r) {
  std::string what;
  if (!r.removed_t.empty()) {
    absl::StrAppend(
        &what, r.old_points, " points replaced by ", r.new_points, ", ", r.removed_t.size(),
        " of them no longer there (t ",
        absl::StrJoin(r.removed_t.begin(),
                      r.removed_t.begin() + std::min<size_t>(5, r.removed_t.size()), ", "),
        r.removed_t.size() > 5 ? ", ..." : "", ")");
  }
  if (!r.dropped_keys.empty()) {
    absl::StrAppend(&what, what.empty() ? "" : "; ", "metadata ",
                    absl::StrJoin(r.dropped_keys, ", "), " dropped");
  }
  if (!r.calendar_change.empty())
    absl::StrAppend(&what, what.empty() ? "" : "; ", r.calendar_change);
  return absl::StrCat("series[", r.index, "] (\"", r.id, "\"): ", what,
                      r.removed_t.empty() ? "" : "; to add new points, use AppendPoints");
}

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;
Digest Sha256(const std::string& text) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      ClipText(status.message(), kMaxStatusMessageBytes));
}

AdoptionServiceImpl::AdoptionServiceImpl(SeriesStore* store, const FitterRegistry* registry,
                                         Planner* planner, const ServiceOptions& options,
                                         Metrics* metrics)
    : store_(store),
      registry_(registry),
      options_(options),
      metrics_(metrics),
      gate_(options.max_concurrent_requests),
      comparison_(store, registry, planner),
      forecaster_(store, registry, planner, ForecasterOptions{options.max_horizon}) {}

template <typename Body>
grpc::Status AdoptionServiceImpl::Serve(const char* method, grpc::ServerContext* context,
                                        Body&& body) {
  RpcLog log(method, metrics_);
  if (absl::Status a = Authorize(context); !a.ok()) return log.Done(ToGrpc(a));
  RequestGate::Ticket ticket;
  RequestGate::Refusal refusal = RequestGate::Refusal::kNone;
  if (absl::Status s = gate_.Enter(&ticket, &refusal); !s.ok()) {
    if (metrics_ != nullptr) {
      metrics_->RecordRejection(
          method, refusal == RequestGate::Refusal::kDraining ? "draining" : "concurrency_limit");
    }
    return log.Done(ToGrpc(s));
  }
  return log.Done(ToGrpc(body()));
}

RunControl AdoptionServiceImpl::MakeRunControl(grpc::ServerContext* context) const {
  RunControl control;
  control.deadline = absl::Now() + options_.max_request_time;
  // gRPC reports "no deadline" as a time far in the future.
  const auto client = context->deadline();
  if (client < std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    control.deadline = std::min(control.deadline, absl::FromChrono(client));
  }
  control.is_cancelled = [context] { return context->IsCancelled(); };
  return control;
}

absl::Status AdoptionServiceImpl::Authorize(grpc::ServerContext* context) const {
  if (options_.bearer_token.empty()) return absl::OkStatus();
  const auto& md = context->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError(
        "missing credentials: send metadata \"authorization: Bearer <token>\"");
  }
  // Constant time in the token's content and length: digests of both, compared
  // by OpenSSL's CRYPTO_memcmp.
  const Digest presented = Sha256(std::string(it->second.data(), it->second.size()));
  const Digest expected = Sha256("Bearer " + options_.bearer_token);
  if (CRYPTO_memcmp(presented.data(), expected.data(), presented.size()) != 0) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

grpc::Status AdoptionServiceImpl::UpsertSeries(grpc::ServerContext* context,
                                               const v1::UpsertSeriesRequest* request,
                                               v1::UpsertSeriesResponse* response) {
  return Serve("UpsertSeries", context, [&]() -> absl::Status {
    if (request->series_size() == 0) {
      return absl::InvalidArgumentError("series: must not be empty");
    }
    if (request->series_size() > options_.max_series_per_request) {
      return absl::InvalidArgumentError(
          absl::StrCat("series: ", request->series_size(), " series exceed the limit of ",
                       options_.max_series_per_request, " per request (--max-series-per-request)"));
    }
    std::vector<SeriesRecord> batch;
    batch.reserve(request->series_size());
    std::map<std::string, int> seen;
    for (int i = 0; i < request->series_size(); ++i) {
      const v1::Series& in = request->series(i);
      const std::string prefix = absl::StrCat("series[", i, "]");
      if (absl::Status s = CheckTimeUnit(in.time_unit(), absl::StrCat(prefix, ".time_unit"));
          !s.ok()) {
        return s;
      }
      SeriesRecord r = FromProto(in);
      if (absl::Status s = ValidateOrigin(r.origin, absl::StrCat(prefix, ".origin")); !s.ok()) {
        return s;
      }
      if (absl::Status s = ResolveDates(in.points(), r, absl::StrCat(prefix, ".points"), &r.points);
          !s.ok()) {
        return s;
      }
      if (absl::Status s = ValidateSeries(r, options_.series_limits, prefix); !s.ok()) return s;
      auto [it, inserted] = seen.emplace(r.id, i);
      if (!inserted) {
        return absl::InvalidArgumentError(absl::StrCat(prefix, ".id: duplicate id \"", r.id,
                                                       "\" (also series[", it->second, "])"));
      }
      batch.push_back(std::move(r));
    }
    if (request->check_revisions()) {
      for (int i = 0; i < request->series_size(); ++i)
        batch[i].revision = request->series(i).revision();
    }
    UpsertOptions upsert;
    upsert.check_revisions = request->check_revisions();
    absl::StatusOr<UpsertStats> stats = store_->Upsert(batch, upsert);
    if (!stats.ok()) return stats.status();
    response->set_created(stats->created);
    response->set_updated(stats->updated);
    response->set_unchanged(stats->unchanged);
    for (int64_t r : stats->revisions) response->add_revisions(r);
    for (const Replacement& r : stats->shrunk) response->add_warnings(ShrinkWarning(r));
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::AppendPoints(grpc::ServerContext* context,
                                               const v1::AppendPointsRequest* request,
                                               v1::AppendPointsResponse* response) {
  return Serve("AppendPoints", context, [&]() -> absl::Status {
    if (absl::Status s =
            ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
        !s.ok()) {
      return s;
    }
    if (request->points_size() == 0) return absl::InvalidArgumentError("points: must not be empty");
    // The points alone must be a valid series; how they continue the stored
    // one is the store's to check, atomically.
    SeriesRecord points;
    points.id = request->series_id();
    for (const auto& p : request->points()) points.points.push_back({p.t(), p.value()});
    // Points given by date read on the stored series' calendar (an origin
    // is set when a series is written whole, so reading it first is safe).
    bool dated = false;
    for (const auto& p : request->points()) dated = dated || !p.date().empty();
    if (dated) {
      absl::StatusOr<SeriesRecord> stored = store_->Get(request->series_id());
      if (!stored.ok()) return InField(stored.status(), "series_id");
      if (absl::Status s = ResolveDates(request->points(), *stored, "points", &points.points);
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = ValidateSeries(points, options_.series_limits, ""); !s.ok()) return s;
    AppendOptions append;
    if (request->has_expected_revision()) append.expected_revision = request->expected_revision();
    append.max_points = options_.series_limits.max_points;
    absl::StatusOr<AppendStats> stats = store_->Append(request->series_id(), points.points, append);
    if (!stats.ok()) {
      return absl::IsNotFound(stats.status()) ? InField(stats.status(), "series_id")
                                              : stats.status();
    }
    response->set_appended(stats->appended);
    response->set_already_present(stats->already_present);
    response->set_revision(stats->revision);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::GetSeries(grpc::ServerContext* context,
                                            const v1::GetSeriesRequest* request,
                                            v1::Series* response) {
  return Serve("GetSeries", context, [&]() -> absl::Status {
    if (absl::Status s = ValidateSeriesId(request->id(), "id", options_.series_limits); !s.ok()) {
      return s;
    }
    absl::StatusOr<SeriesRecord> r = store_->Get(request->id());
    if (!r.ok()) return InField(r.status(), "id");
    *response = ToProto(*r);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::ListSeries(grpc::ServerContext* context,
                                             const v1::ListSeriesRequest* request,
                                             v1::ListSeriesResponse* response) {
  return Serve("ListSeries", context, [&]() -> absl::Status {
    int page_size = request->page_size();
    if (page_size < 0 || page_size > kMaxPageSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_size: must be 0..", kMaxPageSize, ", got ", page_size));
    }
    if (page_size == 0) page_size = kDefaultPageSize;
    ListQuery q;
    q.metadata_filter.insert(request->metadata_filter().begin(), request->metadata_filter().end());
    if (absl::Status s =
            ValidateMetadataFilter(q.metadata_filter, "metadata_filter", options_.series_limits);
        !s.ok()) {
      return s;
    }
    q.limit = page_size;
    q.include_points = request->include_points();
    if (!request->page_token().empty()) {
      absl::StatusOr<std::string> after = DecodePageToken(request->page_token(), q.metadata_filter);
      if (!after.ok()) return after.status();
      q.after_id = *after;
    }
    absl::StatusOr<ListResult> r = store_->List(q);
    if (!r.ok()) return r.status();
    for (const auto& s : r->series) *response->add_series() = ToProto(s, request->include_points());
    if (r->has_more && !r->series.empty()) {
      response->set_next_page_token(EncodePageToken(q.metadata_filter, r->series.back().id));
    }
    response->set_total_size(r->total_matching);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::DeleteSeries(grpc::ServerContext* context,
                                               const v1::DeleteSeriesRequest* request,
                                               v1::DeleteSeriesResponse* response) {
  return Serve("DeleteSeries", context, [&]() -> absl::Status {
    if (absl::Status s = ValidateSeriesId(request->id(), "id", options_.series_limits); !s.ok()) {
      return s;
    }
    absl::StatusOr<bool> deleted =
        store_->Delete(request->id(), request->has_expected_revision()
                                          ? std::optional<int64_t>(request->expected_revision())
                                          : std::nullopt);
    if (!deleted.ok()) return deleted.status();
    if (!*deleted && !request->allow_missing()) {
      return absl::NotFoundError(absl::StrCat("id: no series \"", request->id(), "\""));
    }
    response->set_deleted(*deleted);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::ListFitters(grpc::ServerContext* context,
                                              const v1::ListFittersRequest*,
                                              v1::ListFittersResponse* response) {
  return Serve("ListFitters", context, [&]() -> absl::Status {
    ToProto(*registry_, response);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::Fit(grpc::ServerContext* context, const v1::FitRequest* request,
                                      v1::FitResponse* response) {
  return Serve("Fit", context, [&]() -> absl::Status {
    if (absl::Status s =
            ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
        !s.ok()) {
      return s;
    }
    const SingleFitRequest fit_request = FromProto(*request);
    if (absl::Status s = ValidateFitterOptions(fit_request.options, "options"); !s.ok()) return s;
    absl::StatusOr<FitReport> fit = comparison_.Fit(fit_request, MakeRunControl(context));
    if (!fit.ok()) return fit.status();
    *response->mutable_result() = ToProto(*fit);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::CompareModels(grpc::ServerContext* context,
                                                const v1::CompareModelsRequest* request,
                                                v1::CompareModelsResponse* response) {
  return Serve("CompareModels", context, [&]() -> absl::Status {
    absl::StatusOr<ComparisonRequest> compare = FromProto(*request, options_.series_limits);
    if (!compare.ok()) return compare.status();
    absl::StatusOr<ComparisonResult> result =
        comparison_.Compare(*compare, MakeRunControl(context));
    if (!result.ok()) return result.status();
    ToProto(*result, response);
    return absl::OkStatus();
  });
}

namespace {

// Streams a comparison's progress and reports to the client; a failed
// write (the client went away) stops the comparison.
class StreamObserver final : public ComparisonObserver {
 public:
  StreamObserver(grpc::ServerWriter<v1::CompareModelsEvent>* writer, bool send_reports)
      : writer_(writer), send_reports_(send_reports) {}
  bool OnProgress(const ComparisonProgress& p) override {
    v1::CompareModelsEvent event;
    v1::CompareProgress* progress = event.mutable_progress();
    progress->set_phase(p.phase);
    progress->set_series_done(p.series_done);
    progress->set_series_total(p.series_total);
    progress->set_fits_done(p.fits_done);
    progress->set_fits_total(p.fits_total);
    progress->set_elapsed_seconds(p.elapsed_seconds);
    return writer_->Write(event);
  }
  bool OnReports(std::vector<SeriesReport> reports) override {
    if (!send_reports_ || reports.empty()) return true;
    v1::CompareModelsEvent event;
    auto* batch = event.mutable_series()->mutable_reports();
    batch->Reserve(static_cast<int>(reports.size()));
    for (const SeriesReport& r : reports) *batch->Add() = ToProto(r);
    return writer_->Write(event);
  }

 private:
  grpc::ServerWriter<v1::CompareModelsEvent>* writer_;
  bool send_reports_;
};

}  // namespace

grpc::Status AdoptionServiceImpl::CompareModelsStream(
    grpc::ServerContext* context, const v1::CompareModelsRequest* request,
    grpc::ServerWriter<v1::CompareModelsEvent>* writer) {
  return Serve("CompareModelsStream", context, [&]() -> absl::Status {
    absl::StatusOr<ComparisonRequest> compare = FromProto(*request, options_.series_limits);
    if (!compare.ok()) return compare.status();
    StreamObserver observer(writer, !request->summary_only());
    absl::StatusOr<ComparisonResult> result =
        comparison_.Compare(*compare, MakeRunControl(context), &observer);
    if (!result.ok()) return result.status();
    v1::CompareModelsEvent last;
    ToProto(*result, last.mutable_summary());
    if (!writer->Write(last)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::Forecast(grpc::ServerContext* context,
                                           const v1::ForecastRequest* request,
                                           v1::ForecastResponse* response) {
  return Serve("Forecast", context, [&]() -> absl::Status {
    if (absl::Status s =
            ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
        !s.ok()) {
      return s;
    }
    const ForecastRequest forecast = FromProto(*request);
    if (absl::Status s = ValidateFitterOptions(forecast.options, "options"); !s.ok()) return s;
    absl::StatusOr<ForecastResult> result = forecaster_.Run(forecast, MakeRunControl(context));
    if (!result.ok()) return result.status();
    ToProto(*result, response);
    return absl::OkStatus();
  });
}

grpc::Status AdoptionServiceImpl::Predict(grpc::ServerContext* context,
                                          const v1::PredictRequest* request,
                                          v1::PredictResponse* response) {
  return Serve("Predict", context, [&]() -> absl::Status {
    if (absl::Status s =
            ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
        !s.ok()) {
      return s;
    }
    const PredictRequest predict = FromProto(*request);
    if (absl::Status s = ValidateFitterOptions(predict.options, "options"); !s.ok()) return s;
    absl::StatusOr<PredictResult> result = forecaster_.Predict(predict);
    if (!result.ok()) return result.status();
    response->mutable_values()->Add(result->values.begin(), result->values.end());
    for (std::string& d : result->dates) response->add_dates(std::move(d));
    return absl::OkStatus();
  });
}

}  // namespace adoption
