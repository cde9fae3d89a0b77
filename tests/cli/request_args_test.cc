// adoptctl's request arguments: key=value pairs, fitter options, lists.
#include "clients/cli/request_args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(RequestArgsTest, KeyValues) {
  auto kv = ParseKeyValues({"company=Meta", "expr=a=b", "empty="}, "--filter");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_THAT(
      *kv, UnorderedElementsAre(Pair("company", "Meta"), Pair("expr", "a=b"), Pair("empty", "")));
  EXPECT_THAT(KeyValueProblem("company"), HasSubstr("expected key=value"));
  EXPECT_THAT(KeyValueProblem("=x"), HasSubstr("empty key"));
  EXPECT_THAT(KeyValueProblem("a=b"), IsEmpty());

  auto bad = ParseKeyValues({"company"}, "--filter");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("--filter: expected key=value, got \"company\""));
  auto twice = ParseKeyValues({"a=1", "a=2"}, "--option");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("key \"a\" given twice"));
  EXPECT_TRUE(ParseKeyValues({"a=1", "a=1"}, "--option").ok());
}

TEST(RequestArgsTest, FitterOptions) {
  v1::CompareModelsRequest req;
  ASSERT_TRUE(AddFitterOptions({"citation.m=100", "citation.time_unit=months",
                                "logistic.loss=poisson", "citation.a.b=1.5"},
                               &req)
                  .ok());
  ASSERT_EQ(req.fitter_options().size(), 2u);
  EXPECT_THAT(
      req.fitter_options().at("citation").options(),
      UnorderedElementsAre(Pair("m", "100"), Pair("time_unit", "months"), Pair("a.b", "1.5")));
  EXPECT_EQ(req.fitter_options().at("logistic").options().at("loss"), "poisson");

  EXPECT_THAT(FitterOptionProblem("m=100"), HasSubstr("expected fitter.key=value"));
  EXPECT_THAT(FitterOptionProblem(".m=1"), HasSubstr("empty fitter name"));
  EXPECT_THAT(FitterOptionProblem("citation.=1"), HasSubstr("empty option key"));
  EXPECT_THAT(FitterOptionProblem("citation.m"), HasSubstr("expected fitter.key=value"));
  EXPECT_THAT(FitterOptionProblem("citation.m=1"), IsEmpty());
  v1::CompareModelsRequest bad;
  absl::Status s = AddFitterOptions({"m=100"}, &bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--option: "));
  s = AddFitterOptions({"citation.m=1", "citation.m=2"}, &bad);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--option citation.: key \"m\" given twice"));
}

TEST(RequestArgsTest, FitterList) {
  EXPECT_THAT(SplitFitterList("citation, logistic,,naive "),
              ElementsAre("citation", "logistic", "naive"));
  EXPECT_THAT(SplitFitterList(""), IsEmpty());
}

TEST(RequestArgsTest, LossesShortAndServerNames) {
  EXPECT_EQ(*ServerLossName("sse"), "sse_cumulative");
  EXPECT_EQ(*ServerLossName("sse_cumulative"), "sse_cumulative");
  EXPECT_EQ(*ServerLossName("poisson"), "poisson_deviance_increments");
  EXPECT_EQ(*ServerLossName("poisson_deviance_increments"), "poisson_deviance_increments");
  absl::StatusOr<std::string> bad = ServerLossName("gauss");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("--loss: expected sse or poisson"));
}

TEST(RequestArgsTest, IntervalLevelIsStrictlyBetweenZeroAndOne) {
  for (const char* ok : {"0.95", "0.5", "1e-3", "0.999"})
    EXPECT_THAT(IntervalLevelProblem(ok), IsEmpty()) << ok;
  for (const char* bad : {"0", "1", "1.5", "-0.1", "0.0"}) {
    EXPECT_THAT(IntervalLevelProblem(bad), HasSubstr("must be in (0, 1)")) << bad;
  }
  for (const char* bad : {"x", "nan", "inf", ""}) {
    EXPECT_THAT(IntervalLevelProblem(bad), HasSubstr("expected a number in (0, 1)")) << bad;
  }
}

TEST(RequestArgsTest, EmptySelectionMessages) {
  v1::SeriesSelector all;
  all.set_all(true);
  EXPECT_EQ(EmptySelectionMessage(all, {}), "the selection matches no series: the store is empty");

  v1::SeriesSelector meta;
  (*meta.mutable_metadata_filter())["company"] = "meta";
  const std::map<std::string, std::set<std::string>> values = {
      {"company", {"Meta", "MistralAI", "google"}}};
  EXPECT_EQ(EmptySelectionMessage(meta, values),
            "the selection matches no series: no series has metadata company=meta "
            "(filters match exactly: did you mean company=Meta?)");
  // Spaces do not count either.
  (*meta.mutable_metadata_filter())["company"] = "Mistral AI";
  EXPECT_THAT(EmptySelectionMessage(meta, values), HasSubstr("did you mean company=MistralAI?"));
  // Nothing near: the values the key has.
  (*meta.mutable_metadata_filter())["company"] = "Nobody";
  EXPECT_EQ(EmptySelectionMessage(meta, values),
            "the selection matches no series: no series has metadata company=Nobody "
            "(company is one of Meta, MistralAI, google)");
  // A key no series has; keys in order; the hint left out when not looked up.
  v1::SeriesSelector two;
  (*two.mutable_metadata_filter())["colour"] = "red";
  (*two.mutable_metadata_filter())["company"] = "Meta";
  EXPECT_EQ(EmptySelectionMessage(two, {{"colour", {}}, {"company", {"Meta"}}}),
            "the selection matches no series: no series has metadata colour=red company=Meta "
            "(no series has the metadata key 'colour')");
  EXPECT_EQ(EmptySelectionMessage(two, {}),
            "the selection matches no series: no series has metadata colour=red company=Meta");
  std::set<std::string> many;
  for (int i = 10; i < 30; ++i) many.insert("org" + std::to_string(i));
  v1::SeriesSelector one;
  (*one.mutable_metadata_filter())["company"] = "x";
  EXPECT_THAT(EmptySelectionMessage(one, {{"company", many}}),
              HasSubstr("company is one of org10, org11, org12, org13, org14, org15, org16, "
                        "org17, org18, org19, org20, org21, ... (20 values))"));
}

}  // namespace
}  // namespace adoption::cli
