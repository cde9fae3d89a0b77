// AdoptionServiceImpl: the gRPC adapter of adoption.v1.AdoptionService.
//
// Each handler validates what is the API's own (ids, limits, enum values),
// converts the request (report_proto.h, series_proto.h), calls the store or
// a workflow (engine/compare, engine/forecast), and converts the result
// back. Every call runs through one wrapper (Serve) that authenticates,
// admits it through the RequestGate, logs one structured line, records the
// metrics and maps the absl::Status onto the gRPC status with the same code
// and message. A bad request gets INVALID_ARGUMENT whose message starts with
// the field path (e.g. "series[2].points[4].value: ..."), a missing series
// NOT_FOUND, and leaves the store as it was.
//
// Admission: at most max_concurrent_requests calls run at once (more get
// RESOURCE_EXHAUSTED at once), and none is admitted once the gate drains
// (UNAVAILABLE). A call whose fits were cut off by Planner::CancelAll() (the
// shutdown's drain window ran out) answers UNAVAILABLE.
//
// Handlers run concurrently on gRPC's thread pool; the store, registry,
// planner and workflows they share are thread-safe.
#ifndef ADOPTION_ENGINE_SERVICE_ADOPTION_SERVICE_H_
#define ADOPTION_ENGINE_SERVICE_ADOPTION_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "adoption/v1/adoption.grpc.pb.h"
#include "engine/compare/comparison.h"
#include "engine/forecast/forecaster.h"
#include "engine/planner/planner.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/service/metrics.h"
#include "engine/service/request_gate.h"
#include "engine/store/series_store.h"
#include "engine/store/validation.h"

namespace adoption {

struct ServiceOptions {
  // Limits on series content (points per series, id and metadata sizes).
  SeriesLimits series_limits;
  // Series per UpsertSeries request. Default 10000.
  int max_series_per_request = 10000;
  // Server-side cap on any request's duration; a client deadline can only
  // shorten it. Default 10 minutes.
  absl::Duration max_request_time = absl::Minutes(10);
  // Forecast horizon limit in months. Default 120.
  int max_horizon = 120;
  // When not empty, every AdoptionService call must carry the metadata
  // "authorization: Bearer <bearer_token>" (UNAUTHENTICATED otherwise).
  // Health checks and reflection stay open. Default: no authentication.
  std::string bearer_token;
  // AdoptionService calls running at once (every method counts; health and
  // reflection do not); more are refused with RESOURCE_EXHAUSTED, never
  // queued. Default 64.
  int max_concurrent_requests = 64;
};

class AdoptionServiceImpl final : public v1::AdoptionService::Service {
 public:
  // store, registry, planner and metrics are not owned and must outlive the
  // service; metrics may be null.
  AdoptionServiceImpl(SeriesStore* store, const FitterRegistry* registry, Planner* planner,
                      const ServiceOptions& options, Metrics* metrics = nullptr);

  grpc::Status UpsertSeries(grpc::ServerContext* context, const v1::UpsertSeriesRequest* request,
                            v1::UpsertSeriesResponse* response) override;
  grpc::Status AppendPoints(grpc::ServerContext* context, const v1::AppendPointsRequest* request,
                            v1::AppendPointsResponse* response) override;
  grpc::Status GetSeries(grpc::ServerContext* context, const v1::GetSeriesRequest* request,
                         v1::Series* response) override;
  grpc::Status ListSeries(grpc::ServerContext* context, const v1::ListSeriesRequest* request,
                          v1::ListSeriesResponse* response) override;
  grpc::Status DeleteSeries(grpc::ServerContext* context, const v1::DeleteSeriesRequest* request,
                            v1::DeleteSeriesResponse* response) override;
  grpc::Status ListFitters(grpc::ServerContext* context, const v1::ListFittersRequest* request,
                           v1::ListFittersResponse* response) override;
  grpc::Status Fit(grpc::ServerContext* context, const v1::FitRequest* request,
                   v1::FitResponse* response) override;
  grpc::Status CompareModels(grpc::ServerContext* context, const v1::CompareModelsRequest* request,
                             v1::CompareModelsResponse* response) override;
  grpc::Status CompareModelsStream(grpc::ServerContext* context,
                                   const v1::CompareModelsRequest* request,
                                   grpc::ServerWriter<v1::CompareModelsEvent>* writer) override;
  grpc::Status Forecast(grpc::ServerContext* context, const v1::ForecastRequest* request,
                        v1::ForecastResponse* response) override;
  grpc::Status Predict(grpc::ServerContext* context, const v1::PredictRequest* request,
                       v1::PredictResponse* response) override;

  // Admission control: main() drains it on shutdown; metrics read it.
  RequestGate& gate() { return gate_; }

 private:
  // The wrapper of every handler: authorizes and admits the call, runs
  // body() (an absl::Status), logs and records the outcome, and returns it
  // as a grpc::Status.
  template <typename Body>
  grpc::Status Serve(const char* method, grpc::ServerContext* context, Body&& body);
  // OK, or UNAUTHENTICATED when a token is required and not presented.
  absl::Status Authorize(grpc::ServerContext* context) const;
  // The deadline (--request-timeout, or the client's if sooner) and the
  // client's cancellation, for the fits of one call.
  RunControl MakeRunControl(grpc::ServerContext* context) const;

  SeriesStore* store_;
  const FitterRegistry* registry_;
  ServiceOptions options_;
  Metrics* metrics_;
  RequestGate gate_;
  ModelComparison comparison_;
  Forecaster forecaster_;
};

// absl::Status -> grpc::Status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_ADOPTION_SERVICE_H_
