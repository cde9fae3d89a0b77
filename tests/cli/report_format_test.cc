// adoptctl's output formats, without a server.
#include "clients/cli/report_format.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace adoption::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::CompareModelsResponse Sample() {
  v1::CompareModelsResponse r;
  auto* s = r.add_series();
  s->set_series_id("org/model");
  s->set_n(3);
  s->set_last_value(12);
  s->set_winner("citation");
  s->set_verdict(v1::SERIES_VERDICT_FITS);
  (*s->mutable_metadata())["paper_lambda"] = "2.5";
  (*s->mutable_metadata())["paper_mu"] = "0.1";
  (*s->mutable_metadata())["paper_sigma"] = "1";
  (*s->mutable_metadata())["paper_label"] = "Fit the model";
  auto* c = s->add_fits();
  c->set_fitter("citation");
  c->set_status(v1::FIT_STATUS_CONVERGED);
  c->set_n(3);
  c->set_k(3);
  c->set_sse(0.25);
  c->set_rmse(0.5);
  c->set_r2(0.99);
  c->set_aicc(-3.5);
  c->set_bic(-2);
  c->set_akaike_weight(0.8);
  c->set_rank(1);
  c->set_winner(true);
  auto* p = c->add_parameters();
  p->set_name("lambda");
  p->set_value(2.25);
  p->set_std_error(0.5);
  auto* l = s->add_fits();
  l->set_fitter("logistic");
  l->set_status(v1::FIT_STATUS_NOT_FITTED);
  l->set_message("needs 4 points, has 3");
  auto* f = r.add_fitters();
  f->set_fitter("citation");
  f->set_wins(1);
  r.set_series_count(1);
  return r;
}

TEST(ReportFormatTest, CompareCsvHeaderAndRows) {
  std::string csv = CompareToCsv(Sample());
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "series_id,fitter,status,n,k,sse,rmse,r2,aicc,bic,akaike_weight,winner,"
            "param_lambda,verdict,message,paper_lambda,paper_mu,paper_sigma,paper_label,"
            "se_lambda,at_bound_lambda");
  EXPECT_EQ(lines[1],
            "org/model,citation,converged,3,3,0.25,0.5,0.99,-3.5,-2,0.8,true,2.25,fits,,"
            "2.5,0.1,1,Fit the model,0.5,false");
  // Not usable: no statistics, no parameters; the paper's fit on every row.
  EXPECT_EQ(lines[2],
            "org/model,logistic,not_fitted,,,,,,,,,false,,fits,\"needs 4 points, has 3\","
            "2.5,0.1,1,Fit the model,,");
}

TEST(ReportFormatTest, CompareCsvParameterColumnsInFirstSeenOrder) {
  v1::CompareModelsResponse r = Sample();
  auto* l = r.mutable_series(0)->mutable_fits(1);
  l->set_status(v1::FIT_STATUS_MAX_ITERATIONS);
  for (const char* name : {"K", "lambda", "r"}) {
    auto* p = l->add_parameters();
    p->set_name(name);
    p->set_value(1.0 / 3);
  }
  std::vector<std::string> lines = absl::StrSplit(CompareToCsv(r), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("series_id,fitter,status,n,k,sse,rmse,r2,aicc,bic,"
                                   "akaike_weight,winner,param_lambda,param_K,param_r,"
                                   "verdict,"));
  EXPECT_THAT(lines[1], HasSubstr(",true,2.25,,,fits,"));
  EXPECT_THAT(lines[2], HasSubstr("logistic,max_iterations,"));
  EXPECT_THAT(lines[2], HasSubstr(",false,0.3333333333333333,0.3333333333333333,"
                                  "0.3333333333333333,fits,"));
}

TEST(ReportFormatTest, CompareCsvCrossValidationColumns) {
  v1::CompareModelsResponse r = Sample();
  auto* c = r.mutable_series(0)->mutable_fits(0);
  c->set_cv_score(0.5);
  c->set_cv_rank(1);
  auto* e = c->add_cv_errors();
  e->set_horizon(3);
  e->set_folds(4);
  e->set_mae(12.5);
  e->set_mase(0.5);
  std::vector<std::string> lines = absl::StrSplit(CompareToCsv(r), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0],
              HasSubstr(",param_lambda,cv_score,cv_rank,mae_h3,mape_h3,mase_h3,verdict,"));
  EXPECT_THAT(lines[1], HasSubstr(",2.25,0.5,1,12.5,,0.5,fits,"));
  EXPECT_THAT(lines[2], HasSubstr(",false,,,,,,,fits,"));
}

void AddPooledM(v1::CompareModelsResponse* r) {
  auto* p = r->add_pooled();
  p->set_fitter("citation");
  p->set_option("m");
  p->set_chosen("100");
  for (auto [c, score] :
       std::vector<std::pair<const char*, double>>{{"1", 1.375}, {"100", 1.25}, {"10000", 1.5}}) {
    p->add_candidates(c);
    p->add_scores(score);
  }
  p->set_series_scored(505);
  p->set_fits(86300);
  p->set_elapsed_seconds(24.5);
}

TEST(ReportFormatTest, CompareCsvPooledColumnsOnEveryRow) {
  v1::CompareModelsResponse r = Sample();
  AddPooledM(&r);
  std::vector<std::string> lines = absl::StrSplit(CompareToCsv(r), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0],
              ::testing::EndsWith(",paper_label,se_lambda,at_bound_lambda,pooled_citation_m,"
                                  "pooled_citation_m_scores"));
  EXPECT_THAT(lines[1],
              ::testing::EndsWith(",Fit the model,0.5,false,100,1=1.375;100=1.25;10000=1.5"));
  EXPECT_THAT(lines[2], ::testing::EndsWith(",Fit the model,,,100,1=1.375;100=1.25;10000=1.5"));
  // Without pooling the columns are absent (the header above is unchanged).
  EXPECT_THAT(CompareToCsv(Sample()), ::testing::Not(HasSubstr("pooled")));
}

TEST(ReportFormatTest, TablePooledSummary) {
  v1::CompareModelsResponse r = Sample();
  EXPECT_EQ(PooledTable(r), "");
  AddPooledM(&r);
  const std::string table = CompareToTable(r, 20);
  EXPECT_THAT(table, HasSubstr("Pooled citation.m = 100 for every series, chosen by "
                               "rolling-origin cross-validation\n"));
  EXPECT_THAT(table, HasSubstr("median over 505 series"));
  EXPECT_THAT(table, HasSubstr("86300 fits, 24.50 s"));
  EXPECT_THAT(table, HasSubstr("    m  cv_score  chosen\n"));
  EXPECT_THAT(table, HasSubstr("\n    1    1.3750\n"));
  EXPECT_THAT(table, HasSubstr("\n  100    1.2500  *\n"));
  EXPECT_THAT(table, HasSubstr("\n10000    1.5000\n"));
  EXPECT_THAT(table, HasSubstr("m = 1 is the paper's"));
  // In the batch summary: before the per-series rows.
  EXPECT_LT(table.find("Pooled citation.m"), table.find("Series (largest adoption first)"));
}

TEST(ReportFormatTest, FitCsvHasNoVerdict) {
  const v1::FitResult fit = Sample().series(0).fits(0);
  std::vector<std::string> lines = absl::StrSplit(FitToCsv(fit), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], StartsWith("series_id,fitter,status,"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(",0.8,true,2.25,,,,,,,0.5,false"));
  EXPECT_THAT(lines[1], ::testing::Not(HasSubstr("unspecified")));
}

TEST(ReportFormatTest, JsonRoundTrips) {
  v1::CompareModelsResponse in = Sample();
  in.set_group_by("company");
  in.add_groups()->set_value("Meta");
  v1::CompareModelsResponse out;
  const std::string json = ToJson(in);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in, out))
      << in.DebugString() << "\n"
      << out.DebugString();
  EXPECT_THAT(json, HasSubstr("\"seriesId\": \"org/model\""));
  // Fields at their defaults are printed, optional ones only when set.
  EXPECT_THAT(json, HasSubstr("\"elapsedSeconds\": 0"));
  EXPECT_THAT(json, HasSubstr("\"status\": \"FIT_STATUS_NOT_FITTED\""));
}

TEST(ReportFormatTest, TableMarksWinnerAndShowsPaper) {
  std::string table = CompareToTable(Sample(), 20);
  EXPECT_THAT(table, HasSubstr("Compared 1 series"));
  EXPECT_THAT(table, HasSubstr("*  citation"));
  EXPECT_THAT(table, HasSubstr("lambda=2.25±0.5"));
  EXPECT_THAT(table, HasSubstr("(paper)"));
  EXPECT_THAT(table, HasSubstr("lambda=2.5 mu=0.1 sigma=1"));
  EXPECT_THAT(table, HasSubstr("needs 4 points, has 3"));
}

// Sample() with a second ranked curve `margin` above the winner's AICc.
v1::CompareModelsResponse WithRunnerUp(double margin) {
  v1::CompareModelsResponse r = Sample();
  auto* s = r.mutable_series(0);
  auto* b = s->add_fits();
  b->set_fitter("bass");
  b->set_status(v1::FIT_STATUS_CONVERGED);
  b->set_n(3);
  b->set_k(3);
  b->set_r2(0.98);
  b->set_aicc(s->fits(0).aicc() + margin);
  b->set_bic(s->fits(0).bic() + 5);
  b->set_akaike_weight(0.2);
  b->set_rank(2);
  auto* naive = s->add_fits();  // a baseline: not ranked, never a runner-up
  naive->set_fitter("naive");
  naive->set_status(v1::FIT_STATUS_CONVERGED);
  naive->set_aicc(s->fits(0).aicc() - 10);
  naive->set_forecast_baseline(true);
  return r;
}

TEST(ReportFormatTest, NearTieIsNoClearWinner) {
  const v1::CompareModelsResponse tie = WithRunnerUp(1.5);
  const WinnerMargin m = MarginOfWinner(tie.series(0));
  ASSERT_NE(m.winner, nullptr);
  ASSERT_NE(m.runner_up, nullptr);
  EXPECT_EQ(m.winner->fitter(), "citation");
  EXPECT_EQ(m.runner_up->fitter(), "bass");
  EXPECT_DOUBLE_EQ(m.margin, 1.5);
  EXPECT_TRUE(m.near_tie());
  EXPECT_TRUE(MarginOfWinner(WithRunnerUp(2.0).series(0)).near_tie());  // within 2
  EXPECT_FALSE(MarginOfWinner(WithRunnerUp(2.01).series(0)).near_tie());
  EXPECT_FALSE(MarginOfWinner(Sample().series(0)).near_tie());  // no runner-up
  // Ranked by BIC: the BIC margin (5) decides.
  EXPECT_FALSE(MarginOfWinner(tie.series(0), v1::CRITERION_BIC).near_tie());

  const std::string table = CompareToTable(tie, 20);
  EXPECT_THAT(table, HasSubstr("No clear winner in 1 of the 1 series with one (the runner-up's "
                               "AICc within 2 of the winner's)."));
  EXPECT_THAT(table, HasSubstr("fits     no clear winner: bass within 1.50 AICc\n"));
  EXPECT_THAT(table, HasSubstr("verdict fits; no clear winner: bass's AICc is within 1.50 of "
                               "citation's\n"));
  EXPECT_THAT(table, HasSubstr("*  citation"));
  EXPECT_THAT(table, HasSubstr("~  bass"));
  EXPECT_THAT(table, ::testing::Not(HasSubstr("~  naive")));
  EXPECT_THAT(table, HasSubstr("~ within 2 AICc of the winner (no clear winner)"));

  const std::string clear = CompareToTable(WithRunnerUp(3), 20);
  EXPECT_THAT(clear, HasSubstr("No clear winner in 0 of the 1 series with one"));
  EXPECT_THAT(clear, ::testing::Not(HasSubstr("~  bass")));
  EXPECT_THAT(clear, ::testing::Not(HasSubstr("no clear winner:")));
}

TEST(ReportFormatTest, JsonIsDeterministic) {
  // Protobuf randomises map iteration per map; ToJson must not show it.
  std::string first;
  for (int i = 0; i < 20; ++i) {
    v1::Series s;
    s.set_id("x");
    for (int k = 0; k < 30; ++k) {
      (*s.mutable_metadata())["key" + std::to_string((k * 7 + i) % 30)] = "v";
    }
    const std::string json = ToJson(s);
    if (i == 0) first = json;
    ASSERT_EQ(json, first);
  }
  EXPECT_LT(first.find("\"key0\""), first.find("\"key1\""));
  EXPECT_LT(first.find("\"key1\""), first.find("\"key10\""));
}

TEST(ReportFormatTest, TableSummaryAndGroups) {
  v1::CompareModelsResponse r = Sample();
  r.set_series_count(10);
  r.set_does_not_fit(3);
  r.set_not_enough_data(2);
  auto* logistic = r.add_fitters();
  logistic->set_fitter("logistic");
  logistic->set_wins(4);
  logistic->set_median_r2(0.987654321);
  r.set_group_by("company");
  auto* g = r.add_groups();
  g->set_value("Meta");
  g->set_series(7);
  g->set_does_not_fit(1);
  // The group lists its fitters in another order: columns follow the batch.
  auto* gl = g->add_fitters();
  gl->set_fitter("logistic");
  gl->set_wins(5);
  auto* gc = g->add_fitters();
  gc->set_fitter("citation");
  gc->set_wins(1);
  const std::string table = CompareToTable(r, 20);
  EXPECT_THAT(table, HasSubstr("Verdicts: 5 fit, 3 do not fit"));
  EXPECT_THAT(table, HasSubstr("2 not enough data"));
  EXPECT_THAT(table, HasSubstr("0.9877"));
  EXPECT_THAT(table, ::testing::Not(HasSubstr("0.987654321")));
  EXPECT_THAT(table, HasSubstr("By company (wins per fitter):"));
  EXPECT_THAT(table, HasSubstr("company  series  does_not_fit  no_data  citation  logistic\n"));
  EXPECT_THAT(table, HasSubstr("Meta          7             1        0         1         5\n"));
}

TEST(ReportFormatTest, TableToleratesNonNumericPaperMetadata) {
  v1::CompareModelsResponse r = Sample();
  (*r.mutable_series(0)->mutable_metadata())["paper_mu"] = "n/a";
  const std::string table = CompareToTable(r, 20);
  EXPECT_THAT(table, HasSubstr("lambda=2.5 mu=n/a sigma=1"));
}

TEST(ReportFormatTest, DetailTablesOnlyForFewShownSeries) {
  v1::CompareModelsResponse r;
  for (int i = 0; i < 5; ++i) {
    auto* s = r.add_series();
    s->set_series_id("s" + std::to_string(i));
    s->set_last_value(i);
  }
  EXPECT_THAT(CompareToTable(r, 0), ::testing::Not(HasSubstr("series s4: n=")));
  const std::string two = CompareToTable(r, 2);
  EXPECT_THAT(two, HasSubstr("series s4: n="));
  EXPECT_THAT(two, HasSubstr("series s3: n="));
  EXPECT_THAT(two, ::testing::Not(HasSubstr("series s2: n=")));
}

TEST(ReportFormatTest, ForecastFormats) {
  v1::ForecastResponse r;
  r.set_series_id("org/model");
  r.set_fitter("citation");
  r.set_interval_level(0.95);
  r.set_interval_method("conformal");
  r.set_interval_folds(7);
  r.add_warnings("values raised to the last observation");
  auto* p = r.add_points();
  p->set_t(20);
  p->set_value(5300.123456789);
  p->set_lower(5241);
  p->set_upper(5400.5);
  p->set_tenfold_probability(0.0123);
  auto* q = r.add_points();
  q->set_t(21);
  q->set_value(5350);
  const std::string table = ForecastToTable(r);
  EXPECT_THAT(table, HasSubstr("95% intervals: conformal, 7 rolling origins + corpus band)"));
  EXPECT_THAT(table, HasSubstr(" t    value  lower   upper  P(>=10x)\n"));
  EXPECT_THAT(table, HasSubstr("20  5300.12   5241  5400.5      1.2%\n"));
  EXPECT_THAT(table, HasSubstr("warning: values raised"));
  EXPECT_EQ(ForecastToCsv(r),
            "series_id,fitter,t,date,value,lower,upper,tenfold_probability\n"
            "org/model,citation,20,,5300.123456789,5241,5400.5,0.0123\n"
            "org/model,citation,21,,5350,,,\n");
  // With dates (a series with an origin): a date column in both.
  p->set_date("2025-03-20");
  q->set_date("2025-04-20");
  EXPECT_THAT(ForecastToTable(r), HasSubstr(" t  date          value  lower   upper  P(>=10x)\n"));
  EXPECT_THAT(ForecastToTable(r), HasSubstr("20  2025-03-20  5300.12   5241  5400.5      1.2%\n"));
  EXPECT_THAT(ForecastToCsv(r), HasSubstr("org/model,citation,21,2025-04-20,5350,,,\n"));
}

TEST(ReportFormatTest, FittersTable) {
  v1::ListFittersResponse r;
  auto* f = r.add_fitters();
  f->set_name("naive");
  f->set_version("1.0.0");
  f->set_forecast_baseline(true);
  f->add_parameters()->set_name("level");
  auto* o = f->add_options();
  o->set_name("method");
  o->set_default_value("last");
  auto* rej = r.add_rejected();
  rej->set_path("/plugins/libbad.so");
  rej->set_reason("ABI major version 99, server supports 1");
  const std::string table = FittersToTable(r);
  EXPECT_THAT(table, HasSubstr("naive   1.0.0    baseline  level       method=last"));
  EXPECT_THAT(table, HasSubstr("rejected plugin /plugins/libbad.so: ABI major version 99"));
  EXPECT_THAT(FittersToTable(v1::ListFittersResponse()), HasSubstr("no fitters loaded"));
}

TEST(ReportFormatTest, FittersTableMarksOptInFitters) {
  v1::ListFittersResponse r;
  auto* f = r.add_fitters();
  f->set_name("two_wave");
  f->set_version("1.0.0");
  f->set_opt_in(true);
  const std::string table = FittersToTable(r);
  EXPECT_THAT(table, HasSubstr("two_wave  1.0.0    curve (opt-in)"));
  EXPECT_THAT(table, HasSubstr("opt-in = runs only when a request names it (--fitters)"));
}

TEST(ReportFormatTest, SeriesFormats) {
  v1::Series s;
  s.set_id("a,b");
  (*s.mutable_metadata())["company"] = "X";
  for (int t = 0; t < 3; ++t) {
    auto* p = s.add_points();
    p->set_t(t);
    p->set_value(123456789.0 * t);
  }
  EXPECT_EQ(SeriesPointsToCsv(s),
            "series_id,t,date,value\n\"a,b\",0,,0\n\"a,b\",1,,123456789\n\"a,b\",2,,"
            "246913578\n");
  EXPECT_THAT(SeriesToTable(s), HasSubstr("(unit -, t in months, revision 0)"));
  s.set_origin("2024-01-31");
  s.mutable_points(1)->set_date("2024-02-29");
  EXPECT_THAT(SeriesToTable(s), HasSubstr("(unit -, t in months since 2024-01-31, revision 0)"));
  EXPECT_THAT(SeriesToTable(s), HasSubstr("1  2024-02-29  123456789"));
  EXPECT_THAT(SeriesPointsToCsv(s), HasSubstr("\"a,b\",1,2024-02-29,123456789\n"));
  EXPECT_EQ(SeriesListToCsv({s}),
            "id,revision,points,last_value,company\n\"a,b\",0,3,246913578,X\n");
  EXPECT_THAT(SeriesListToTable({s}), HasSubstr("a,b       3  246913578  X "));
}

TEST(ReportFormatTest, TableLimitsSeriesRows) {
  v1::CompareModelsResponse r;
  for (int i = 0; i < 30; ++i) {
    auto* s = r.add_series();
    s->set_series_id("s" + std::to_string(i));
    s->set_last_value(i);
  }
  std::string table = CompareToTable(r, 5);
  EXPECT_THAT(table, HasSubstr("s29"));
  EXPECT_THAT(table, ::testing::Not(HasSubstr("s3\n")));
  EXPECT_THAT(table, HasSubstr("... 25 more series (--limit 0 for all)"));
}

TEST(ReportFormatTest, AlignedTable) {
  Table t({"name", "value"});
  t.AddRow({"a", "1.5"});
  t.AddRow({"longer", "10"});
  EXPECT_EQ(t.Render(),
            "name    value\n"
            "------  -----\n"
            "a         1.5\n"
            "longer     10\n");
}

TEST(ReportFormatTest, Numbers) {
  EXPECT_EQ(Num(5241), "5241");
  EXPECT_EQ(Num(0.123456789), "0.123457");
  EXPECT_EQ(Num(1.5e-9), "1.5000e-09");
  EXPECT_EQ(Num(3.900514790037444e-13), "3.9005e-13");
  EXPECT_EQ(Num(2162100.4), "2162100");
  EXPECT_EQ(Num(76.21574), "76.2157");
  EXPECT_EQ(Num(-0.5), "-0.5");
  EXPECT_EQ(Exact(0.99), "0.99");
  EXPECT_EQ(Exact(16.685541215454872), "16.685541215454872");
  EXPECT_EQ(Exact(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Exact(-2), "-2");
  EXPECT_EQ(Exact(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
}

// OWASP "CSV injection": a text cell a spreadsheet would run as a formula
// gets a leading single quote; numbers stay numbers.
TEST(FormatTest, CsvCellsNeverStartAFormula) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("=1+1"), "'=1+1");
  EXPECT_EQ(CsvCell("+1+1"), "'+1+1");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1:A9)"), "'@SUM(A1:A9)");
  EXPECT_EQ(CsvCell("\t=1"), "'\t=1");
  EXPECT_EQ(CsvCell("\r=1"), "\"'\r=1\"");
  EXPECT_EQ(CsvCell("-cmd|' /C calc'!A0"), "'-cmd|' /C calc'!A0");
  // Plain numbers (the paper's parameters are metadata: paper_mu=-2.78).
  EXPECT_EQ(CsvCell("-2.78"), "-2.78");
  EXPECT_EQ(CsvCell("+1e-3"), "+1e-3");
  EXPECT_EQ(CsvCell("-.5"), "-.5");
  EXPECT_EQ(CsvCell("-"), "'-");
  EXPECT_EQ(CsvCell("-inf"), "'-inf");
  EXPECT_EQ(CsvCell("a=b"), "a=b");
  EXPECT_EQ(CsvCell(""), "");
}

}  // namespace
}  // namespace adoption::cli

namespace adoption::cli {
namespace {

// Every column of proto/adoption/v1/fit_columns.txt names a real field, so
// a typo there is a test failure, not an empty column.
TEST(FitColumnsTest, EverySourceResolves) {
  const std::vector<std::string> sources = FitColumnSources();
  ASSERT_GE(sources.size(), 10u);
  int groups = 0;
  for (const std::string& source : sources) {
    if (source[0] == '@') {
      // Every group the renderers know, and no other.
      EXPECT_THAT(source,
                  ::testing::AnyOf("@params", "@cv", "@std_errors", "@at_bound", "@derived"));
      ++groups;
      continue;
    }
    const size_t dot = source.find('.');
    ASSERT_NE(dot, std::string::npos) << source;
    const std::string scope = source.substr(0, dot), field = source.substr(dot + 1);
    ASSERT_FALSE(field.empty()) << source;
    if (scope == "fit") {
      EXPECT_NE(v1::FitResult::descriptor()->FindFieldByName(field), nullptr) << source;
    } else if (scope == "series") {
      EXPECT_NE(v1::SeriesReport::descriptor()->FindFieldByName(field), nullptr) << source;
    } else {
      EXPECT_EQ(scope, "meta") << source;
    }
  }
  EXPECT_EQ(groups, 5);
}

}  // namespace
}  // namespace adoption::cli
