#include "engine/service/adoption_service.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/select/cross_validation.h"
#include "engine/select/forecast.h"
#include "engine/select/pooling.h"
#include "engine/select/report.h"
#include "engine/service/log_text.h"
#include "engine/service/page_token.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// Forecast's name for the combination of every loaded fitter.
constexpr char kCombinedFitter[] = "combined";
// Forecast warns of a tenfold surge beyond the interval from this
// probability on (ForecastPoint.tenfold_probability).
constexpr double kTenfoldWarning = 0.005;
// Status messages are cut to this (log_text.h: ClipText says why).
constexpr size_t kMaxStatusMessageBytes = 2048;

// Logs one finished RPC as a structured line.
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

absl::Status ValidateMetadataFilter(const google::protobuf::Map<std::string, std::string>& f,
                                    const std::string& field, const SeriesLimits& limits) {
  for (const auto& [k, v] : f) {
    if (k.empty() || static_cast<int>(k.size()) > limits.max_key_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": keys must be 1..", limits.max_key_bytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

FitterOptions ToOptions(const google::protobuf::Map<std::string, std::string>& m) {
  return FitterOptions(m.begin(), m.end());
}

// Fit and Forecast work on one series: a value chosen for a batch by
// cross-validation ("pooled") is a CompareModels option only.
absl::Status RefusePooled(const FitterOptions& options, const std::string& fitter) {
  for (const auto& [key, value] : options) {
    if (value != kPooledValue) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "options[", key, "]: \"", kPooledValue,
        "\" chooses one value for a batch of series by cross-validation: only "
        "CompareModels takes it (fitter_options[",
        fitter, "].options[", key, "]); the value it chose is in CompareModelsResponse.pooled"));
  }
  return absl::OkStatus();
}

// Prefixes a store error with the request field it concerns, so NOT_FOUND
// messages name the field like every other error.
absl::Status InField(const absl::Status& s, const std::string& field) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      ClipText(status.message(), kMaxStatusMessageBytes));
}

SeriesRecord FromProto(const v1::Series& s) {
  SeriesRecord r;
  r.id = s.id();
  r.metadata.insert(s.metadata().begin(), s.metadata().end());
  r.unit = s.unit();
  r.points.reserve(s.points_size());
  for (const auto& p : s.points()) r.points.push_back({p.t(), p.value()});
  return r;
}

v1::Series ToProto(const SeriesRecord& r, bool include_points) {
  v1::Series s;
  s.set_id(r.id);
  s.mutable_metadata()->insert(r.metadata.begin(), r.metadata.end());
  s.set_unit(r.unit);
  if (include_points) {
    s.mutable_points()->Reserve(static_cast<int>(r.points.size()));
    for (const auto& p : r.points) {
      auto* pp = s.add_points();
      pp->set_t(p.t);
      pp->set_value(p.value);
    }
  }
  s.set_revision(r.revision);
  s.set_update_time_unix(r.update_time_unix);
  return s;
}

AdoptionServiceImpl::AdoptionServiceImpl(SeriesStore* store, const FitterRegistry* registry,
                                         Planner* planner, const ServiceOptions& options,
                                         Metrics* metrics)
    : store_(store),
      registry_(registry),
      planner_(planner),
      options_(options),
      metrics_(metrics),
      gate_(options.max_concurrent_requests) {}

absl::Status AdoptionServiceImpl::Admit(const char* method, grpc::ServerContext* context,
                                        RequestGate::Ticket* ticket) {
  if (absl::Status a = Authorize(context); !a.ok()) return a;
  RequestGate::Refusal refusal = RequestGate::Refusal::kNone;
  absl::Status s = gate_.Enter(ticket, &refusal);
  if (!s.ok() && metrics_ != nullptr) {
    metrics_->RecordRejection(
        method, refusal == RequestGate::Refusal::kDraining ? "draining" : "concurrency_limit");
  }
  return s;
}

absl::Status AdoptionServiceImpl::CheckNotShutDown() const {
  if (!planner_->cancelled_all()) return absl::OkStatus();
  return absl::UnavailableError(
      "server is shutting down: the drain window (--shutdown-grace) ended before this "
      "request finished, and its fits were cancelled; retry on another instance or "
      "after the restart");
}

std::vector<FitRun> AdoptionServiceImpl::RunTasks(const std::vector<FitTask>& tasks,
                                                  grpc::ServerContext* context) {
  return RunTasks(tasks, MakeRunControl(context));
}

std::vector<FitRun> AdoptionServiceImpl::RunTasks(const std::vector<FitTask>& tasks,
                                                  const RunControl& control) {
  std::vector<FitRun> results = planner_->Run(tasks, control);
  if (metrics_ != nullptr) {
    std::map<std::pair<std::string, std::string>, int64_t> counts;
    for (const auto& r : results) {
      ++counts[{r.outcome.fitter, FitStatusName(r.outcome.status)}];
    }
    for (const auto& [key, n] : counts) metrics_->RecordFit(key.first, key.second, n);
  }
  return results;
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
  const std::string presented(it->second.data(), it->second.size());
  const std::string expected = "Bearer " + options_.bearer_token;
  // Constant-time comparison: the time taken does not reveal a prefix.
  unsigned char diff = presented.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ expected[i % expected.size()]);
  }
  if (diff != 0) return absl::UnauthenticatedError("invalid bearer token");
  return absl::OkStatus();
}

absl::StatusOr<const Fitter*> AdoptionServiceImpl::FindFitter(const std::string& name,
                                                              const std::string& field) const {
  if (absl::Status s = ValidateFitterName(name, field); !s.ok()) return s;
  const Fitter* f = registry_->Find(name);
  if (f == nullptr) {
    std::vector<std::string> names;
    for (const Fitter* g : registry_->fitters()) names.push_back(g->name());
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown fitter \"", name,
                     "\" (loaded: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  return f;
}

grpc::Status AdoptionServiceImpl::UpsertSeries(grpc::ServerContext* context,
                                               const v1::UpsertSeriesRequest* request,
                                               v1::UpsertSeriesResponse* response) {
  RpcLog log("UpsertSeries", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("UpsertSeries", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  if (request->series_size() == 0) {
    return log.Done(ToGrpc(absl::InvalidArgumentError("series: must not be empty")));
  }
  if (request->series_size() > options_.max_series_per_request) {
    return log.Done(ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("series: ", request->series_size(), " series exceed the limit of ",
                     options_.max_series_per_request, " per request (--max-series-per-request)"))));
  }
  std::vector<SeriesRecord> batch;
  batch.reserve(request->series_size());
  std::map<std::string, int> seen;
  for (int i = 0; i < request->series_size(); ++i) {
    SeriesRecord r = FromProto(request->series(i));
    const std::string prefix = absl::StrCat("series[", i, "]");
    if (absl::Status s = ValidateSeries(r, options_.series_limits, prefix); !s.ok()) {
      return log.Done(ToGrpc(s));
    }
    auto [it, inserted] = seen.emplace(r.id, i);
    if (!inserted) {
      return log.Done(ToGrpc(absl::InvalidArgumentError(absl::StrCat(
          prefix, ".id: duplicate id \"", r.id, "\" (also series[", it->second, "])"))));
    }
    batch.push_back(std::move(r));
  }
  absl::StatusOr<UpsertStats> stats = store_->Upsert(batch);
  if (!stats.ok()) return log.Done(ToGrpc(stats.status()));
  response->set_created(stats->created);
  response->set_updated(stats->updated);
  response->set_unchanged(stats->unchanged);
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::GetSeries(grpc::ServerContext* context,
                                            const v1::GetSeriesRequest* request,
                                            v1::Series* response) {
  RpcLog log("GetSeries", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("GetSeries", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  if (absl::Status s = ValidateSeriesId(request->id(), "id", options_.series_limits); !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  absl::StatusOr<SeriesRecord> r = store_->Get(request->id());
  if (!r.ok()) return log.Done(ToGrpc(InField(r.status(), "id")));
  *response = ToProto(*r);
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::ListSeries(grpc::ServerContext* context,
                                             const v1::ListSeriesRequest* request,
                                             v1::ListSeriesResponse* response) {
  RpcLog log("ListSeries", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("ListSeries", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  int page_size = request->page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return log.Done(ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("page_size: must be 0..", kMaxPageSize, ", got ", page_size))));
  }
  if (page_size == 0) page_size = kDefaultPageSize;
  if (absl::Status s = ValidateMetadataFilter(request->metadata_filter(), "metadata_filter",
                                              options_.series_limits);
      !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  ListQuery q;
  q.metadata_filter.insert(request->metadata_filter().begin(), request->metadata_filter().end());
  q.limit = page_size;
  q.include_points = request->include_points();
  if (!request->page_token().empty()) {
    absl::StatusOr<std::string> after = DecodePageToken(request->page_token(), q.metadata_filter);
    if (!after.ok()) return log.Done(ToGrpc(after.status()));
    q.after_id = *after;
  }
  absl::StatusOr<ListResult> r = store_->List(q);
  if (!r.ok()) return log.Done(ToGrpc(r.status()));
  for (const auto& s : r->series) {
    *response->add_series() = ToProto(s, request->include_points());
  }
  if (r->has_more && !r->series.empty()) {
    response->set_next_page_token(EncodePageToken(q.metadata_filter, r->series.back().id));
  }
  response->set_total_size(r->total_matching);
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::DeleteSeries(grpc::ServerContext* context,
                                               const v1::DeleteSeriesRequest* request,
                                               v1::DeleteSeriesResponse* response) {
  RpcLog log("DeleteSeries", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("DeleteSeries", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  if (absl::Status s = ValidateSeriesId(request->id(), "id", options_.series_limits); !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  absl::StatusOr<bool> deleted = store_->Delete(request->id());
  if (!deleted.ok()) return log.Done(ToGrpc(deleted.status()));
  if (!*deleted && !request->allow_missing()) {
    return log.Done(
        ToGrpc(absl::NotFoundError(absl::StrCat("id: no series \"", request->id(), "\""))));
  }
  response->set_deleted(*deleted);
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::ListFitters(grpc::ServerContext* context,
                                              const v1::ListFittersRequest*,
                                              v1::ListFittersResponse* response) {
  RpcLog log("ListFitters", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("ListFitters", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  for (const Fitter* f : registry_->fitters()) {
    const adoption_fitter_descriptor_v1& t = f->table();
    auto* info = response->add_fitters();
    info->set_name(f->name());
    info->set_description(t.description ? t.description : "");
    info->set_version(t.version ? t.version : "");
    info->set_abi_version(absl::StrCat(t.abi_major, ".", t.abi_minor));
    info->set_forecast_baseline(f->forecast_baseline());
    info->set_path(f->path());
    for (size_t i = 0; i < t.num_params; ++i) {
      auto* p = info->add_parameters();
      p->set_name(t.params[i].name);
      p->set_description(t.params[i].description ? t.params[i].description : "");
    }
    for (size_t i = 0; i < t.num_options; ++i) {
      auto* o = info->add_options();
      o->set_name(t.options[i].name);
      o->set_default_value(t.options[i].default_value);
      o->set_description(t.options[i].description ? t.options[i].description : "");
    }
  }
  for (const auto& r : registry_->rejected()) {
    auto* rp = response->add_rejected();
    rp->set_path(r.path);
    rp->set_reason(r.reason);
  }
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::Fit(grpc::ServerContext* context, const v1::FitRequest* request,
                                      v1::FitResponse* response) {
  RpcLog log("Fit", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("Fit", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  if (absl::Status s = ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
      !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  absl::StatusOr<const Fitter*> fitter = FindFitter(request->fitter(), "fitter");
  if (!fitter.ok()) return log.Done(ToGrpc(fitter.status()));
  FitterOptions options = ToOptions(request->options());
  if (absl::Status s = ValidateFitterOptions(options, "options"); !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  if (absl::Status s = RefusePooled(options, (*fitter)->name()); !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  if (absl::Status s = (*fitter)->ValidateOptions(options, "options"); !s.ok()) {
    return log.Done(ToGrpc(s));
  }
  absl::StatusOr<SeriesRecord> series = store_->Get(request->series_id());
  if (!series.ok()) return log.Done(ToGrpc(InField(series.status(), "series_id")));
  std::vector<FitRun> run = RunTasks({{&*series, *fitter, &options, 0, {}}}, context);
  if (absl::Status s = CheckNotShutDown(); !s.ok()) return log.Done(ToGrpc(s));
  // A single fit is "compared" against nothing: rank 1 if it is rankable.
  v1::SeriesReport report =
      BuildSeriesReport(*series, {run[0].outcome}, v1::CRITERION_AICC, run[0].outcome.loss_name);
  *response->mutable_result() = report.fits(0);
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::CompareModels(grpc::ServerContext* context,
                                                const v1::CompareModelsRequest* request,
                                                v1::CompareModelsResponse* response) {
  RpcLog log("CompareModels", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("CompareModels", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  const absl::Time start = absl::Now();
  auto fail = [&](const absl::Status& s) { return log.Done(ToGrpc(s)); };

  // Selection: exactly one way of choosing series.
  const auto& sel = request->selection();
  const int ways = (sel.ids_size() > 0) + (!sel.metadata_filter().empty()) + (sel.all() ? 1 : 0);
  if (ways != 1) {
    return fail(
        absl::InvalidArgumentError("selection: set exactly one of ids, metadata_filter or all"));
  }
  for (int i = 0; i < sel.ids_size(); ++i) {
    if (absl::Status s = ValidateSeriesId(sel.ids(i), absl::StrCat("selection.ids[", i, "]"),
                                          options_.series_limits);
        !s.ok()) {
      return fail(s);
    }
  }
  if (absl::Status s = ValidateMetadataFilter(sel.metadata_filter(), "selection.metadata_filter",
                                              options_.series_limits);
      !s.ok()) {
    return fail(s);
  }
  if (!v1::Criterion_IsValid(request->criterion())) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("criterion: unknown value ", request->criterion())));
  }
  const v1::Criterion criterion =
      request->criterion() == v1::CRITERION_UNSPECIFIED ? v1::CRITERION_AICC : request->criterion();
  absl::StatusOr<CvPlan> cv = CvPlanFromProto(request->cross_validation(), "cross_validation");
  if (!cv.ok()) return fail(cv.status());
  std::string target_loss =
      request->loss().empty() ? ADOPTION_LOSS_SSE_CUMULATIVE : request->loss();
  if (target_loss != ADOPTION_LOSS_SSE_CUMULATIVE &&
      target_loss != ADOPTION_LOSS_POISSON_INCREMENTS) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("loss: expected \"", ADOPTION_LOSS_SSE_CUMULATIVE, "\" or \"",
                     ADOPTION_LOSS_POISSON_INCREMENTS, "\", got \"", request->loss(), "\"")));
  }

  // Fitters and their options.
  std::vector<const Fitter*> fitters;
  if (request->fitters().empty()) {
    fitters = registry_->fitters();
  } else {
    std::set<std::string> seen;
    for (int i = 0; i < request->fitters_size(); ++i) {
      const std::string field = absl::StrCat("fitters[", i, "]");
      absl::StatusOr<const Fitter*> f = FindFitter(request->fitters(i), field);
      if (!f.ok()) return fail(f.status());
      if (!seen.insert(request->fitters(i)).second) {
        return fail(absl::InvalidArgumentError(
            absl::StrCat(field, ": fitter \"", request->fitters(i), "\" listed twice")));
      }
      fitters.push_back(*f);
    }
  }
  if (fitters.empty()) {
    return fail(absl::FailedPreconditionError("no fitter plugins are loaded"));
  }
  std::map<std::string, FitterOptions> options;
  // An option set to "pooled" (see engine/select/pooling.h).
  struct PooledRequest {
    const Fitter* fitter;
    std::string option;
    std::string field;  // fitter_options[<fitter>].options[<option>]
    const PooledGrid* grid;
  };
  std::optional<PooledRequest> pooled;
  for (const auto& [name, fo] : request->fitter_options()) {
    if (absl::Status s = ValidateFitterName(name, "fitter_options"); !s.ok()) return fail(s);
    const std::string field = absl::StrCat("fitter_options[", name, "]");
    bool selected = false;
    for (const Fitter* f : fitters) selected = selected || f->name() == name;
    if (!selected) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat(field, ": fitter \"", name, "\" is not in this comparison")));
    }
    options[name] = ToOptions(fo.options());
    const FitterOptions& given = options[name];
    if (absl::Status s = ValidateFitterOptions(given, field + ".options"); !s.ok()) return fail(s);
    std::string pooled_key;
    for (const auto& [key, value] : given) {
      if (value != kPooledValue) continue;
      const std::string option_field = absl::StrCat(field, ".options[", key, "]");
      if (absl::Status s = ValidatePooledOption(name, key, given, option_field); !s.ok()) {
        return fail(s);
      }
      if (pooled) {  // only one option can be pooled today: citation's m
        return fail(absl::InvalidArgumentError(
            absl::StrCat(option_field, ": only one option per request can be \"", kPooledValue,
                         "\" (", pooled->field, " is too)")));
      }
      pooled = PooledRequest{registry_->Find(name), key, option_field, PooledCandidates(name, key)};
      pooled_key = key;
    }
    if (pooled_key.empty()) {
      if (absl::Status s = registry_->Find(name)->ValidateOptions(given, field); !s.ok()) {
        return fail(s);
      }
    } else {
      // The plugin checks the other options with each candidate in place.
      for (const std::string& candidate : pooled->grid->candidates) {
        FitterOptions trial = given;
        trial[pooled_key] = candidate;
        if (absl::Status s = registry_->Find(name)->ValidateOptions(trial, field); !s.ok()) {
          return fail(s);
        }
      }
    }
  }
  if (pooled && !cv->enabled) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat(pooled->field, ": \"", kPooledValue,
                     "\" chooses the value by rolling-origin cross-validation, which this request "
                     "disables (cross_validation.disabled)")));
  }

  // A count-likelihood comparison: every fitter with a `loss` option fits
  // by Poisson likelihood (unless the request set that option itself).
  if (target_loss == ADOPTION_LOSS_POISSON_INCREMENTS) {
    for (const Fitter* f : fitters) {
      const adoption_fitter_descriptor_v1& t = f->table();
      for (size_t i = 0; i < t.num_options; ++i) {
        if (std::string(t.options[i].name) == "loss") {
          options[f->name()].emplace("loss", "poisson");
        }
      }
    }
  }

  // Series.
  std::vector<SeriesRecord> series;
  if (sel.ids_size() > 0) {
    std::vector<std::string> ids(sel.ids().begin(), sel.ids().end());
    std::set<std::string> unique(ids.begin(), ids.end());
    if (unique.size() != ids.size()) {
      return fail(absl::InvalidArgumentError("selection.ids: ids must be unique"));
    }
    absl::StatusOr<std::vector<SeriesRecord>> got = store_->GetMany(ids);
    if (!got.ok()) return fail(InField(got.status(), "selection.ids"));
    series = std::move(*got);
  } else {
    ListQuery q;
    q.metadata_filter.insert(sel.metadata_filter().begin(), sel.metadata_filter().end());
    q.include_points = true;
    absl::StatusOr<ListResult> got = store_->List(q);
    if (!got.ok()) return fail(got.status());
    series = std::move(got->series);
  }
  std::sort(series.begin(), series.end(),
            [](const SeriesRecord& a, const SeriesRecord& b) { return a.id < b.id; });

  // One control for every run of the request: the deadline counts from here.
  const RunControl control = MakeRunControl(context);
  static const FitterOptions kNoOptions;
  auto options_of = [&](const Fitter* f) {
    auto it = options.find(f->name());
    return it == options.end() ? &kNoOptions : &it->second;
  };
  const size_t nf = fitters.size();
  std::vector<std::vector<CvOrigin>> origins(series.size());
  size_t num_origins = 0;
  if (cv->enabled) {
    for (size_t i = 0; i < series.size(); ++i) {
      origins[i] = RollingOrigins(series[i], *cv);
      num_origins += origins[i].size();
    }
  }
  // After a run: why the request cannot go on, or OK. A run whose fits the
  // deadline cut off cannot choose a pooled value (some candidates would be
  // judged on fewer folds), so that is an error too.
  auto run_failure = [&](const std::vector<FitRun>& results,
                         bool cancelled_fits_fail) -> absl::Status {
    if (absl::Status s = CheckNotShutDown(); !s.ok()) return s;
    if (context->IsCancelled()) {
      return absl::CancelledError("request cancelled by the client");
    }
    if (!cancelled_fits_fail) return absl::OkStatus();
    for (const FitRun& r : results) {
      if (r.outcome.status == FitStatus::kCancelled && absl::Now() >= control.deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat(pooled->field,
                         ": the request's deadline passed while choosing the pooled value "
                         "by cross-validation (",
                         pooled->grid->candidates.size(), " candidates x ", num_origins,
                         " rolling origins); allow more time or select fewer series"));
      }
    }
    return absl::OkStatus();
  };

  // A pooled option first: for each candidate, the fitter on every rolling
  // origin of every series (one planner run per candidate, series x
  // origins tasks, so the memory held is that of one candidate's folds);
  // then the candidate with the best batch score is the fitter's option for
  // the comparison below, which reuses its fold forecasts.
  size_t pooled_j = nf;  // index of the pooled fitter in `fitters`
  std::vector<std::vector<std::vector<std::vector<double>>>> pooled_forecasts;  // [g][i][k]
  int pooled_chosen = -1;
  size_t pooled_fits = 0;
  if (pooled) {
    const absl::Time pool_start = absl::Now();
    for (size_t j = 0; j < nf; ++j) {
      if (fitters[j] == pooled->fitter) pooled_j = j;
    }
    if (num_origins == 0) {
      return fail(absl::FailedPreconditionError(absl::StrCat(
          pooled->field, ": \"", kPooledValue,
          "\" needs series that rolling-origin "
          "cross-validation can score, and none of the ",
          series.size(), " selected series has an origin (at least ", cv->min_train_points,
          " points up to a non-zero value, and a later point at a horizon)")));
    }
    const std::vector<std::string>& candidates = pooled->grid->candidates;
    const FitterOptions base = *options_of(pooled->fitter);
    pooled_forecasts.resize(candidates.size());
    for (size_t g = 0; g < candidates.size(); ++g) {
      FitterOptions candidate_options = base;
      candidate_options[pooled->option] = candidates[g];
      std::vector<FitTask> tasks;
      tasks.reserve(num_origins);
      for (size_t i = 0; i < series.size(); ++i) {
        for (const CvOrigin& o : origins[i]) {
          FitTask t{&series[i], pooled->fitter, &candidate_options, o.prefix, o.forecast_t};
          t.status_only = true;
          tasks.push_back(std::move(t));
        }
      }
      std::vector<FitRun> results = RunTasks(tasks, control);
      if (absl::Status s = run_failure(results, true); !s.ok()) return fail(s);
      pooled_fits += tasks.size();
      auto& per_series = pooled_forecasts[g];
      per_series.resize(series.size());
      size_t next = 0;
      for (size_t i = 0; i < series.size(); ++i) {
        per_series[i].resize(origins[i].size());
        for (size_t k = 0; k < origins[i].size(); ++k) {
          per_series[i][k] = std::move(results[next++].predictions);
        }
      }
    }
    std::vector<std::vector<std::vector<const std::vector<double>*>>> views(candidates.size());
    for (size_t g = 0; g < candidates.size(); ++g) {
      views[g].resize(series.size());
      for (size_t i = 0; i < series.size(); ++i) {
        for (const auto& f : pooled_forecasts[g][i]) {
          views[g][i].push_back(f.empty() ? nullptr : &f);
        }
      }
    }
    const PooledChoice choice =
        ChoosePooledCandidate(pooled->grid->default_index, series, *cv, origins, views);
    if (choice.chosen < 0) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat(pooled->field, ": \"", kPooledValue,
                       "\" needs series that rolling-origin "
                       "cross-validation can score under every candidate, and none of the ",
                       series.size(), " selected series could be scored (", num_origins,
                       " origins, but no forecast of the fitter there or no change to scale the "
                       "errors by)")));
    }
    pooled_chosen = choice.chosen;
    options[pooled->fitter->name()][pooled->option] = candidates[pooled_chosen];
    v1::PooledOption* report = response->add_pooled();
    report->set_fitter(pooled->fitter->name());
    report->set_option(pooled->option);
    report->set_chosen(candidates[pooled_chosen]);
    for (size_t g = 0; g < candidates.size(); ++g) {
      report->add_candidates(candidates[g]);
      report->add_scores(choice.scores[g]);
    }
    report->set_series_scored(choice.series_scored);
    report->set_fits(static_cast<int32_t>(pooled_fits));
    report->set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - pool_start));
    spdlog::info(
        "event=pooled fitter={} option={} chosen={} score={:.4f} series_scored={} "
        "candidates={} fits={} elapsed_s={:.3f}",
        report->fitter(), report->option(), report->chosen(), choice.scores[pooled_chosen],
        choice.series_scored, candidates.size(), pooled_fits, report->elapsed_seconds());
  }

  // Every series x fitter on the whole series, then (cross-validation)
  // every series x fitter x rolling origin, all in one parallel run. A
  // pooled fitter's folds are not rerun: they were run for its candidates.
  std::vector<FitTask> tasks;
  tasks.reserve(series.size() * nf);
  for (const auto& s : series) {
    for (const Fitter* f : fitters) tasks.push_back({&s, f, options_of(f), 0, {}});
  }
  std::vector<size_t> cv_first(series.size(), 0);  // first CV task of a series
  if (cv->enabled) {
    for (size_t i = 0; i < series.size(); ++i) {
      cv_first[i] = tasks.size();
      for (size_t j = 0; j < nf; ++j) {
        if (j == pooled_j) continue;
        for (const CvOrigin& o : origins[i]) {
          FitTask t{&series[i], fitters[j], options_of(fitters[j]), o.prefix, o.forecast_t};
          t.status_only = true;
          tasks.push_back(std::move(t));
        }
      }
    }
  }
  std::vector<FitRun> results = RunTasks(tasks, control);
  if (absl::Status s = run_failure(results, false); !s.ok()) return fail(s);

  std::vector<std::string> names;
  for (const Fitter* f : fitters) names.push_back(f->name());
  response->mutable_series()->Reserve(static_cast<int>(series.size()));
  for (size_t i = 0; i < series.size(); ++i) {
    std::vector<FitOutcome> per;
    per.reserve(nf);
    for (size_t j = 0; j < nf; ++j) per.push_back(std::move(results[i * nf + j].outcome));
    v1::SeriesReport* report = response->add_series();
    *report = BuildSeriesReport(series[i], per, criterion, target_loss);
    if (cv->enabled && !origins[i].empty()) {
      std::vector<std::vector<v1::HorizonError>> errors;
      size_t run_j = 0;  // position among the fitters whose folds ran here
      for (size_t j = 0; j < nf; ++j) {
        std::vector<const std::vector<double>*> forecasts;
        for (size_t k = 0; k < origins[i].size(); ++k) {
          const std::vector<double>& p =
              j == pooled_j ? pooled_forecasts[pooled_chosen][i][k]
                            : results[cv_first[i] + run_j * origins[i].size() + k].predictions;
          forecasts.push_back(p.empty() ? nullptr : &p);
        }
        if (j != pooled_j) ++run_j;
        errors.push_back(ScoreForecasts(series[i], *cv, origins[i], forecasts));
      }
      ApplyCrossValidation(std::move(errors), report);
    }
  }
  Summarize(names, request->group_by(), response);
  response->set_criterion(criterion);
  response->set_loss(target_loss);
  if (request->summary_only()) response->clear_series();
  response->set_elapsed_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  spdlog::info("event=compare series={} fitters={} fits={} cv_fits={} elapsed_s={:.3f}",
               series.size(), fitters.size(), series.size() * nf,
               tasks.size() - series.size() * nf + pooled_fits, response->elapsed_seconds());
  return log.Done(grpc::Status::OK);
}

grpc::Status AdoptionServiceImpl::Forecast(grpc::ServerContext* context,
                                           const v1::ForecastRequest* request,
                                           v1::ForecastResponse* response) {
  RpcLog log("Forecast", metrics_);
  RequestGate::Ticket ticket;
  if (absl::Status a = Admit("Forecast", context, &ticket); !a.ok()) {
    return log.Done(ToGrpc(a));
  }
  auto fail = [&](const absl::Status& s) { return log.Done(ToGrpc(s)); };
  if (absl::Status s = ValidateSeriesId(request->series_id(), "series_id", options_.series_limits);
      !s.ok()) {
    return fail(s);
  }
  const bool combined = request->fitter() == kCombinedFitter;
  std::vector<const Fitter*> fitters;
  if (combined) {
    if (!request->options().empty()) {
      return fail(absl::InvalidArgumentError("options: not allowed with the combined forecaster"));
    }
    fitters = registry_->fitters();
    if (fitters.empty()) {
      return fail(absl::FailedPreconditionError("no fitter plugins are loaded"));
    }
  } else {
    absl::StatusOr<const Fitter*> f = FindFitter(request->fitter(), "fitter");
    if (!f.ok()) return fail(f.status());
    fitters = {*f};
  }
  if (request->horizon() < 1 || request->horizon() > options_.max_horizon) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "horizon: must be 1..", options_.max_horizon, " months, got ", request->horizon())));
  }
  double level = request->interval_level();
  if (level == 0) level = 0.95;
  if (!(level > 0 && level < 1)) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("interval_level: must be in (0, 1), got ", request->interval_level())));
  }
  const FitterOptions options = ToOptions(request->options());
  if (absl::Status s = ValidateFitterOptions(options, "options"); !s.ok()) return fail(s);
  if (!combined) {
    if (absl::Status s = RefusePooled(options, fitters[0]->name()); !s.ok()) {
      return fail(s);
    }
    if (absl::Status s = fitters[0]->ValidateOptions(options, "options"); !s.ok()) {
      return fail(s);
    }
  }
  absl::StatusOr<SeriesRecord> series = store_->Get(request->series_id());
  if (!series.ok()) return fail(InField(series.status(), "series_id"));
  if (series->points.empty()) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("series \"", series->id, "\" has no points to forecast from")));
  }
  const double last = series->points.back().value;
  const double t_last = series->points.back().t;
  std::vector<double> t;
  for (int h = 1; h <= request->horizon(); ++h) t.push_back(t_last + h);

  // Rolling origins for the intervals' own errors and combination weights:
  // horizons 1..min(horizon, 12), training from min(6, n/2) points.
  CvPlan plan;
  plan.horizons.clear();
  for (int h = 1; h <= std::min(request->horizon(), 12); ++h) plan.horizons.push_back(h);
  plan.min_train_points = std::max(3, std::min(6, static_cast<int>(series->points.size()) / 2));
  const std::vector<CvOrigin> origins = RollingOrigins(*series, plan);

  std::vector<FitTask> tasks;
  for (const Fitter* f : fitters) tasks.push_back({&*series, f, &options, 0, t});
  const size_t cv_first = tasks.size();
  for (const Fitter* f : fitters) {
    for (const CvOrigin& o : origins) {
      FitTask task{&*series, f, &options, o.prefix, o.forecast_t};
      task.status_only = true;
      tasks.push_back(std::move(task));
    }
  }
  std::vector<FitRun> run = RunTasks(tasks, context);
  if (absl::Status s = CheckNotShutDown(); !s.ok()) return fail(s);
  if (context->IsCancelled()) {
    return fail(absl::CancelledError("request cancelled by the client"));
  }
  // Fold forecasts of fitter j, one pointer per origin (null: none).
  auto folds_of = [&](size_t j) {
    std::vector<const std::vector<double>*> f;
    for (size_t k = 0; k < origins.size(); ++k) {
      const FitRun& r = run[cv_first + j * origins.size() + k];
      f.push_back(r.predictions.empty() ? nullptr : &r.predictions);
    }
    return f;
  };
  // Log-ratio errors log(actual / forecast) of a fold forecaster, every
  // fold and horizon with a target, in fold order (deterministic).
  auto fold_errors = [&](const std::function<std::optional<double>(size_t k, size_t h)>& fc) {
    std::vector<FoldError> e;
    for (size_t k = 0; k < origins.size(); ++k) {
      for (size_t h = 0; h < plan.horizons.size(); ++h) {
        const int target = origins[k].target[h];
        if (target < 0) continue;
        std::optional<double> v = fc(k, h);
        const double actual = series->points[target].value;
        if (!v || !(*v > 0) || !(actual > 0)) continue;
        e.push_back({static_cast<int>(k),
                     origins[k].forecast_t[h] - series->points[origins[k].prefix - 1].t,
                     std::log(actual / *v)});
      }
    }
    return e;
  };
  auto plausible = [&](const std::vector<double>& v, std::string* why) {
    for (size_t i = 0; i < v.size(); ++i) {
      const double cap = ImplausibleAbove(*series, t[i] - t_last);
      if (!std::isfinite(v[i]) || v[i] > cap) {
        *why = absl::StrCat("extrapolates to ", v[i], " at month ", t[i],
                            ", above the plausibility bound ", cap,
                            " (10x the last value, or 10x the fastest monthly "
                            "growth seen so far)");
        return false;
      }
    }
    return true;
  };

  response->set_series_id(series->id);
  response->set_fitter(combined ? kCombinedFitter : fitters[0]->name());
  response->set_interval_level(level);
  std::vector<double> values(t.size(), 0.0);
  std::vector<FoldError> served_errors;  // of the served forecaster, for intervals

  if (!combined) {
    const Fitter* fitter = fitters[0];
    const FitRun& r = run[0];
    v1::SeriesReport report =
        BuildSeriesReport(*series, {r.outcome}, v1::CRITERION_AICC, r.outcome.loss_name);
    *response->mutable_fit() = report.fits(0);
    if (!IsUsable(r.outcome.status)) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("fitter \"", fitter->name(), "\" could not fit series \"", series->id,
                       "\": ", r.outcome.message)));
    }
    if (r.predictions.empty()) {
      return fail(absl::InternalError(
          absl::StrCat("fitter \"", fitter->name(), "\" could not forecast: ", r.predict_error)));
    }
    std::string why;
    if (!plausible(r.predictions, &why)) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("fitter \"", fitter->name(), "\" ", why, ": not served")));
    }
    values = r.predictions;
    // The fitter's own rolling-origin errors, fold forecasts floored at
    // their origin's value as served forecasts are at the last value.
    const auto forecasts = folds_of(0);
    served_errors = fold_errors([&](size_t k, size_t h) -> std::optional<double> {
      if (!forecasts[k]) return std::nullopt;
      return std::max((*forecasts[k])[h], series->points[origins[k].prefix - 1].value);
    });
  } else {
    // Score every fitter by rolling-origin error on this series, weight the
    // good ones, and combine their forecasts (each floored at the last
    // value first).
    std::vector<FitOutcome> outcomes;
    for (size_t j = 0; j < fitters.size(); ++j) outcomes.push_back(run[j].outcome);
    v1::SeriesReport report =
        BuildSeriesReport(*series, outcomes, v1::CRITERION_AICC, ADOPTION_LOSS_SSE_CUMULATIVE);
    std::vector<std::vector<v1::HorizonError>> errors;
    for (size_t j = 0; j < fitters.size(); ++j) {
      errors.push_back(ScoreForecasts(*series, plan, origins, folds_of(j)));
    }
    ApplyCrossValidation(std::move(errors), &report);
    std::vector<std::optional<double>> scores(fitters.size());
    for (size_t j = 0; j < fitters.size(); ++j) {
      const v1::FitResult& fit = report.fits(j);
      std::string why;
      if (run[j].predictions.empty()) continue;
      if (!plausible(run[j].predictions, &why)) {
        response->add_warnings(absl::StrCat(fitters[j]->name(), " left out: ", why));
        continue;
      }
      if (fit.has_cv_score()) scores[j] = fit.cv_score();
    }
    std::vector<double> w = CombinationWeights(scores);
    double total = 0;
    for (double v : w) total += v;
    if (total == 0) {
      // Too short to score anything: carry the last value forward.
      for (size_t j = 0; j < fitters.size(); ++j) {
        if (fitters[j]->name() == "naive" && !run[j].predictions.empty()) w[j] = 1;
      }
      response->add_warnings(
          "no fitter could be scored by rolling-origin error on this series: "
          "the combination is the last value carried forward");
    }
    v1::FitResult* fit = response->mutable_fit();
    fit->set_series_id(series->id);
    fit->set_fitter(kCombinedFitter);
    fit->set_status(v1::FIT_STATUS_CONVERGED);
    fit->set_message(
        "weights proportional to 1 / cv_score^2 over fitters within 2x the best score");
    double weight_sum = 0;
    std::vector<std::string> raised_components;
    for (size_t j = 0; j < fitters.size(); ++j) {
      if (w[j] <= 0) continue;
      for (double v : run[j].predictions) {
        if (v < last) {
          raised_components.push_back(fitters[j]->name());
          break;
        }
      }
      weight_sum += w[j];
      auto* fw = response->add_weights();
      fw->set_fitter(fitters[j]->name());
      fw->set_weight(w[j]);
      if (scores[j]) fw->set_cv_score(*scores[j]);
      auto* p = fit->add_parameters();
      p->set_name(fitters[j]->name());
      p->set_value(w[j]);
      for (size_t i = 0; i < t.size(); ++i) {
        values[i] += w[j] * std::max(run[j].predictions[i], last);
      }
    }
    if (!raised_components.empty()) {
      response->add_warnings(absl::StrCat("forecasts of ", absl::StrJoin(raised_components, ", "),
                                          " fall below the last observed value (", last,
                                          ") and were raised to it "
                                          "before combining"));
    }
    if (weight_sum == 0) {
      return fail(absl::FailedPreconditionError(
          absl::StrCat("no fitter produced a usable forecast for series \"", series->id, "\"")));
    }
    // The combination's own rolling-origin errors: the same weights on the
    // fold forecasts (a fitter missing a fold leaves the others' weights
    // renormalised), summed in fitter order.
    std::vector<std::vector<const std::vector<double>*>> folds;
    for (size_t j = 0; j < fitters.size(); ++j) folds.push_back(folds_of(j));
    served_errors = fold_errors([&](size_t k, size_t h) -> std::optional<double> {
      double v = 0, wsum = 0;
      const double floor = series->points[origins[k].prefix - 1].value;
      for (size_t j = 0; j < fitters.size(); ++j) {
        if (w[j] <= 0 || !folds[j][k]) continue;
        v += w[j] * std::max((*folds[j][k])[h], floor);
        wsum += w[j];
      }
      if (wsum == 0) return std::nullopt;
      return v / wsum;
    });
  }

  std::vector<double> months_ahead;
  for (double ti : t) months_ahead.push_back(ti - t_last);
  std::optional<ConformalIntervals> intervals =
      MakeConformalIntervals(*series, served_errors, months_ahead, values, level);

  bool raised = false;
  // The point where a tenfold surge beyond the interval is likeliest.
  const v1::ForecastPoint* surge = nullptr;
  for (size_t i = 0; i < t.size(); ++i) {
    auto* p = response->add_points();
    p->set_t(t[i]);
    if (values[i] < last) raised = true;
    p->set_value(std::max(values[i], last));
    if (intervals) {
      const Interval& iv = intervals->intervals[i];
      p->set_lower(std::min(iv.lower, p->value()));
      p->set_upper(std::max(iv.upper, p->value()));
      p->set_tenfold_probability(iv.tenfold);
      if (p->upper() < 10 * p->value() && iv.tenfold >= kTenfoldWarning &&
          (surge == nullptr || iv.tenfold > surge->tenfold_probability())) {
        surge = p;
      }
    }
  }
  if (surge != nullptr) {
    response->add_warnings(absl::StrCat("surge risk: a tenfold rise (to ", 10 * surge->value(),
                                        " or more by month ", surge->t(), ") has probability ",
                                        std::round(1000 * surge->tenfold_probability()) / 10,
                                        "%, beyond the ", 100 * level,
                                        "% interval (series with such histories sometimes surge; "
                                        "tenfold_probability gives it per point)"));
  }
  if (raised) {
    response->add_warnings(absl::StrCat("the model falls below the last observed value (", last,
                                        "); forecasts are raised to it"));
  }
  if (intervals && intervals->origins == 0) {
    response->add_warnings(
        "history too short for rolling-origin errors: the intervals are the "
        "corpus band alone (where series with a similar history went)");
  }
  response->set_interval_method(intervals ? "conformal" : "none");
  response->set_interval_folds(intervals ? intervals->origins : 0);
  return log.Done(grpc::Status::OK);
}

}  // namespace adoption
