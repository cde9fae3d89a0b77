// The API converters (engine/service/report_proto.h, series_proto.h): API
// defaults, field-named errors, and results mapped field for field.
#include "engine/service/report_proto.h"

#include "engine/service/series_proto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

SeriesRecord Series(const std::string& id, std::vector<double> v) {
  SeriesRecord s;
  s.id = id;
  for (size_t i = 0; i < v.size(); ++i) s.points.push_back({double(i), v[i]});
  return s;
}

TEST(SeriesProtoTest, RoundTrip) {
  SeriesRecord r = Series("org/model", {0, 2, 5});
  r.metadata = {{"company", "Org"}};
  r.unit = "finetunes";
  r.revision = 7;
  r.update_time_unix = 123;
  v1::Series p = ToProto(r);
  EXPECT_EQ(p.points_size(), 3);
  EXPECT_EQ(p.revision(), 7);
  EXPECT_TRUE(FromProto(p).SameContent(r));
  EXPECT_EQ(ToProto(r, /*include_points=*/false).points_size(), 0);
}

TEST(RequestProtoTest, CrossValidationDefaultsAndErrors) {
  absl::StatusOr<CvPlan> defaults = CvPlanFromProto({}, "cv");
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->enabled);
  EXPECT_EQ(defaults->horizons, (std::vector<int>{1, 3, 6}));
  EXPECT_EQ(defaults->min_train_points, 6);
  v1::CrossValidationOptions o;
  o.add_horizons(0);
  absl::Status bad = CvPlanFromProto(o, "cross_validation").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), StartsWith("cross_validation.horizons[0]"));
  v1::CrossValidationOptions off;
  off.set_disabled(true);
  EXPECT_FALSE(CvPlanFromProto(off, "cv")->enabled);
}

TEST(RequestProtoTest, CompareRequest) {
  v1::CompareModelsRequest r;
  r.mutable_selection()->set_all(true);
  r.set_criterion(v1::CRITERION_BIC);
  r.add_fitters("citation");
  (*r.mutable_fitter_options())["citation"].mutable_options()->insert({"m", "pooled"});
  r.set_summary_only(true);
  absl::StatusOr<ComparisonRequest> c = FromProto(r, SeriesLimits());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->selection.all);
  EXPECT_EQ(c->criterion, Criterion::kBic);
  EXPECT_EQ(c->fitter_options.at("citation").at("m"), "pooled");
  EXPECT_FALSE(c->keep_series);

  v1::CompareModelsRequest two = r;
  two.mutable_selection()->add_ids("a");
  EXPECT_THAT(std::string(FromProto(two, SeriesLimits()).status().message()),
              StartsWith("selection: set exactly one"));
  v1::CompareModelsRequest dup;
  dup.mutable_selection()->add_ids("a");
  dup.mutable_selection()->add_ids("a");
  EXPECT_THAT(std::string(FromProto(dup, SeriesLimits()).status().message()),
              StartsWith("selection.ids: ids must be unique"));
  v1::CompareModelsRequest criterion = r;
  criterion.set_criterion(static_cast<v1::Criterion>(42));
  EXPECT_THAT(std::string(FromProto(criterion, SeriesLimits()).status().message()),
              StartsWith("criterion: unknown value 42"));
}

TEST(RequestProtoTest, ForecastLevelDefault) {
  v1::ForecastRequest r;
  r.set_series_id("s");
  r.set_fitter("combined");
  r.set_horizon(3);
  EXPECT_DOUBLE_EQ(FromProto(r).interval_level, 0.95);
  r.set_interval_level(0.8);
  EXPECT_DOUBLE_EQ(FromProto(r).interval_level, 0.8);
}

TEST(ResultProtoTest, FitReportWithIntervalsAndVerdict) {
  FitOutcome o;
  o.fitter = "a";
  o.status = FitStatus::kConverged;
  o.loss_name = "sse_cumulative";
  o.loss = 1;
  o.n = 10;
  o.k = 2;
  o.params = {{"a", 1.0, false, 0.5}, {"b", 2.0, true, std::nullopt}};
  SeriesReport report = BuildSeriesReport(Series("s", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), {o},
                                          Criterion::kAicc, "sse_cumulative");
  v1::SeriesReport p = ToProto(report);
  EXPECT_EQ(p.verdict(), v1::SERIES_VERDICT_FITS);
  EXPECT_EQ(p.winner(), "a");
  const v1::FitResult& f = p.fits(0);
  EXPECT_EQ(f.status(), v1::FIT_STATUS_CONVERGED);
  EXPECT_EQ(f.rank(), 1);
  EXPECT_TRUE(f.winner());
  ASSERT_TRUE(f.has_aicc());
  EXPECT_DOUBLE_EQ(f.aicc(), *report.fits[0].aicc);
  EXPECT_DOUBLE_EQ(f.akaike_weight(), 1);
  ASSERT_EQ(f.parameters_size(), 2);
  EXPECT_EQ(f.parameters(0).std_error(), 0.5);
  EXPECT_NEAR(f.parameters(0).ci_low(), 1 - 1.959963984540054 * 0.5, 1e-12);
  EXPECT_NEAR(f.parameters(0).ci_high(), 1 + 1.959963984540054 * 0.5, 1e-12);
  EXPECT_FALSE(f.parameters(1).has_std_error());
  EXPECT_TRUE(f.parameters(1).fixed());

  // A failed fit carries its status and reason, no numbers.
  FitOutcome failed;
  failed.fitter = "b";
  failed.status = FitStatus::kFailed;
  failed.message = "plugin threw";
  failed.params = {{"a", 1.0, false, 0.5}};
  v1::FitResult fp = ToProto(MakeFitReport(Series("s", {0, 1}), failed));
  EXPECT_EQ(fp.status(), v1::FIT_STATUS_FAILED);
  EXPECT_EQ(fp.message(), "plugin threw");
  EXPECT_EQ(fp.parameters_size(), 0);
  EXPECT_FALSE(fp.has_aicc());
}

TEST(ResultProtoTest, SummaryAndHorizonErrors) {
  BatchSummary summary;
  summary.series_count = 3;
  summary.group_by = "company";
  FitterSummary a;
  a.fitter = "a";
  a.wins = 2;
  HorizonError h;
  h.horizon = 3;
  h.folds = 5;
  h.mase = 0.5;
  a.cv_median = {h};
  summary.fitters = {a};
  summary.groups = {GroupSummary{"A", 3, 1, 0, {a}}};
  v1::CompareModelsResponse r;
  ToProto(summary, &r);
  EXPECT_EQ(r.series_count(), 3);
  ASSERT_EQ(r.fitters_size(), 1);
  EXPECT_EQ(r.fitters(0).wins(), 2);
  ASSERT_EQ(r.fitters(0).cv_median_size(), 1);
  EXPECT_EQ(r.fitters(0).cv_median(0).horizon(), 3);
  EXPECT_DOUBLE_EQ(r.fitters(0).cv_median(0).mase(), 0.5);
  EXPECT_FALSE(r.fitters(0).cv_median(0).has_mape());
  ASSERT_EQ(r.groups_size(), 1);
  EXPECT_EQ(r.groups(0).does_not_fit(), 1);
  EXPECT_THAT(r.group_by(), HasSubstr("company"));
}

}  // namespace
}  // namespace adoption
