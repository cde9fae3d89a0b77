// adoptctl's output formats, without a server.
#include "clients/cli/report_format.h"

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
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
            "param_lambda,verdict,message,paper_lambda,paper_mu,paper_sigma,paper_label");
  EXPECT_THAT(lines[1], StartsWith("org/model,citation,converged,3,3,0.25,0.5,0.98999999999999999,-3.5,-2,"));
  EXPECT_THAT(lines[1], HasSubstr(",true,2.25,fits,,2.5,0.1,1,Fit the model"));
  EXPECT_EQ(lines[2], "org/model,logistic,not_fitted,,,,,,,,,false,,fits,\"needs 4 points, has 3\",,,,");
}

TEST(ReportFormatTest, JsonRoundTrips) {
  v1::CompareModelsResponse in = Sample();
  v1::CompareModelsResponse out;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ToJson(in), &out).ok());
  EXPECT_EQ(out.series(0).fits(0).aicc(), -3.5);
  EXPECT_EQ(out.series(0).winner(), "citation");
  EXPECT_THAT(ToJson(in), HasSubstr("\"seriesId\": \"org/model\""));
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
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
}

}  // namespace
}  // namespace adoption::cli
