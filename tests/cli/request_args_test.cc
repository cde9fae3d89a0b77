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

}  // namespace
}  // namespace adoption::cli
