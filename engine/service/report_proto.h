// Conversions between adoption.v1 and the workflows' requests and results
// (engine/compare/comparison.h, engine/forecast/forecaster.h, the select
// reports, the fitter registry). The one place the API's shape meets the
// domain: API defaults (0 = default) are applied here, and request fields
// that only make sense in the API (enum values out of range) are checked
// here with INVALID_ARGUMENT naming the field; everything else is checked
// by the workflows.
#ifndef ADOPTION_ENGINE_SERVICE_REPORT_PROTO_H_
#define ADOPTION_ENGINE_SERVICE_REPORT_PROTO_H_

#include "absl/status/statusor.h"
#include "adoption/v1/adoption.pb.h"
#include "engine/compare/comparison.h"
#include "engine/forecast/forecaster.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/select/cross_validation.h"
#include "engine/select/series_report.h"
#include "engine/select/summary.h"
#include "engine/store/selection.h"

namespace adoption {

// --- requests ---------------------------------------------------------------

SeriesSelection FromProto(const v1::SeriesSelector& selector);
FitterOptions FromProto(const google::protobuf::Map<std::string, std::string>& options);
// Empty horizons and min_train_points 0 take CvPlan's defaults; the plan is
// then validated (CvPlan::Validate) with `field` as its name.
absl::StatusOr<CvPlan> CvPlanFromProto(const v1::CrossValidationOptions& options,
                                       const std::string& field);
// CRITERION_UNSPECIFIED is AICc; INVALID_ARGUMENT "criterion: ..." for an
// unknown value.
absl::StatusOr<Criterion> CriterionFromProto(int criterion);
// Every field; the selection and the CV plan checked (limits for ids and
// filter keys).
absl::StatusOr<ComparisonRequest> FromProto(const v1::CompareModelsRequest& request,
                                            const SeriesLimits& limits);
SingleFitRequest FromProto(const v1::FitRequest& request);
// interval_level 0 is 0.95.
ForecastRequest FromProto(const v1::ForecastRequest& request);
PredictRequest FromProto(const v1::PredictRequest& request);

// --- results ----------------------------------------------------------------

v1::HorizonError ToProto(const HorizonError& error);
v1::FitResult ToProto(const FitReport& fit);
v1::SeriesReport ToProto(const SeriesReport& report);
v1::FitterSummary ToProto(const FitterSummary& summary);
v1::PooledOption ToProto(const PooledReport& pooled);
// The summary (verdict counts, fitters, groups) into response.
void ToProto(const BatchSummary& summary, v1::CompareModelsResponse* response);
void ToProto(const ComparisonResult& result, v1::CompareModelsResponse* response);
void ToProto(const ForecastResult& result, v1::ForecastResponse* response);
// Every loaded fitter (descriptor, parameters, options) and every refused
// plugin.
void ToProto(const FitterRegistry& registry, v1::ListFittersResponse* response);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_REPORT_PROTO_H_
