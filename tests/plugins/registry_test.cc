// FitterRegistry against real plugin files: the built fitters and
// deliberately broken ones (wrong ABI, no entry point, garbage results).
#include "engine/plugins/fitter_registry.h"

#include "absl/time/clock.h"

#include <atomic>
#include <cmath>
#include <cstddef>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::HasSubstr;

const std::string kGood = ADOPTION_TEST_PLUGIN_DIR;
const std::string kBad = ADOPTION_TEST_BAD_PLUGIN_DIR;

SeriesRecord Series(std::vector<double> values) {
  SeriesRecord s;
  s.id = "test";
  for (size_t i = 0; i < values.size(); ++i) s.points.push_back({double(i), values[i]});
  return s;
}

TEST(FitterRegistryTest, LoadsEveryBuiltFitter) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  EXPECT_TRUE(registry.rejected().empty());
  for (const char* name : {"citation", "logistic", "powerlaw", "naive"}) {
    const Fitter* f = registry.Find(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->name(), name);
  }
  EXPECT_TRUE(registry.Find("naive")->forecast_baseline());
  EXPECT_FALSE(registry.Find("citation")->forecast_baseline());
  EXPECT_THAT(registry.Find("citation")->param_names(),
              ::testing::ElementsAre("lambda", "mu", "sigma", "m"));
}

TEST(FitterRegistryTest, RefusesWrongAbiAndKeepsTheOthers) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  const size_t before = registry.fitters().size();
  absl::Status s = registry.LoadFile(kBad + "/bad-wrong_abi.so");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("ABI major version 99"));
  ASSERT_EQ(registry.rejected().size(), 1u);
  EXPECT_THAT(registry.rejected()[0].reason, HasSubstr("supports 1"));
  EXPECT_EQ(registry.fitters().size(), before);
  EXPECT_EQ(registry.Find("wrong_abi"), nullptr);
}

TEST(FitterRegistryTest, RefusesLibraryWithoutEntryPoint) {
  FitterRegistry registry;
  absl::Status s = registry.LoadFile(kBad + "/bad-no_entry.so");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("missing entry point symbol adoption_fitter_v1"));
}

TEST(FitterRegistryTest, RefusesMissingFileAndDuplicateName) {
  FitterRegistry registry;
  EXPECT_FALSE(registry.LoadFile(kBad + "/does-not-exist.so").ok());
  ASSERT_TRUE(registry.LoadFile(kGood + "/adoption-fitter-naive.so").ok());
  absl::Status dup = registry.LoadFile(kGood + "/adoption-fitter-naive.so");
  EXPECT_THAT(std::string(dup.message()), HasSubstr("already loaded"));
  EXPECT_EQ(registry.fitters().size(), 1u);
  EXPECT_EQ(registry.rejected().size(), 2u);
}

TEST(FitterRegistryTest, GarbageResultsBecomeFailedFits) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadFile(kBad + "/bad-garbage.so").ok());
  const Fitter* f = registry.Find("garbage");
  ASSERT_NE(f, nullptr);
  FitOutcome nan_loss = f->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
  EXPECT_EQ(nan_loss.status, FitStatus::kFailed);
  EXPECT_THAT(nan_loss.message, HasSubstr("invalid loss"));
  EXPECT_TRUE(nan_loss.params.empty());
  FitOutcome bad_status = f->Fit(Series({0, 1, 2}), {}, FitBudget{});
  EXPECT_EQ(bad_status.status, FitStatus::kFailed);
  EXPECT_THAT(bad_status.message, HasSubstr("unknown status 77"));

  FitOutcome fake;
  fake.status = FitStatus::kConverged;
  fake.params = {{"a", 1.0, false, std::nullopt}};
  auto predicted = f->Predict(fake, {}, Series({0, 1}), {3.0});
  EXPECT_EQ(predicted.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(predicted.status().message()), HasSubstr("non-finite"));
}

TEST(FitterRegistryTest, UnknownOptionIsRefusedWithField) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  absl::Status s = registry.Find("citation")->ValidateOptions({{"nope", "1"}}, "options");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("options: fitter \"citation\" has no option \"nope\""));
  EXPECT_TRUE(registry.Find("citation")->ValidateOptions({{"m", "100"}}, "options").ok());
}

TEST(FitterRegistryTest, CancelledBudgetStopsTheFit) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  std::atomic<bool> cancelled{true};
  FitBudget budget;
  budget.cancelled = &cancelled;
  std::vector<double> v;
  for (int t = 0; t < 24; ++t) v.push_back(1000 * (1 - std::exp(-0.2 * t)));
  FitOutcome o = registry.Find("citation")->Fit(Series(v), {}, budget);
  EXPECT_EQ(o.status, FitStatus::kCancelled);
}

TEST(FitterRegistryTest, FitsAndPredictsThroughTheAbi) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  std::vector<double> v;
  for (int t = 0; t < 24; ++t) v.push_back(std::round(1000 / (1 + std::exp(-0.5 * (t - 10)))));
  SeriesRecord s = Series(v);
  const Fitter* logistic = registry.Find("logistic");
  FitOutcome o = logistic->Fit(s, {}, FitBudget{});
  ASSERT_TRUE(IsUsable(o.status)) << o.message;
  EXPECT_EQ(o.loss_name, "sse_cumulative");
  EXPECT_EQ(o.n, 24);
  auto p = logistic->Predict(o, {}, s, {30.0});
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR((*p)[0], 1000, 20);
}

TEST(FitterRegistryTest, ExceptionsAreCaughtAtTheBoundary) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadFile(kBad + "/bad-throwing.so").ok());
  const Fitter* f = registry.Find("throwing");
  FitOutcome o = f->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
  EXPECT_EQ(o.status, FitStatus::kFailed);
  EXPECT_THAT(o.message, HasSubstr("plugin threw an exception: boom in fit"));
  FitOutcome fake;
  fake.status = FitStatus::kConverged;
  fake.params = {{"a", 1.0, false, std::nullopt}};
  auto p = f->Predict(fake, {}, Series({0, 1}), {3.0});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("threw in predict"));
}

TEST(FitterRegistryTest, DeadlineCutsOffAFitThatNeverConverges) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadFile(kBad + "/bad-slow.so").ok());
  FitBudget budget;
  budget.deadline = absl::Now() + absl::Milliseconds(50);
  const absl::Time start = absl::Now();
  FitOutcome o = registry.Find("slow")->Fit(Series({0, 1, 2, 3}), {}, budget);
  EXPECT_EQ(o.status, FitStatus::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace adoption

namespace adoption {
namespace {

// A copy of a real plugin's descriptor, to edit (the copy keeps the real
// function pointers).
adoption_fitter_descriptor_v1 DescriptorOf(const std::string& name) {
  FitterRegistry registry;
  EXPECT_TRUE(registry.LoadFile(kGood + "/adoption-fitter-" + name + ".so").ok());
  return registry.Find(name)->table();
}

TEST(FitterRegistryAbiTest, PluginsDeclarePooledOptionsAndTheForecastReference) {
  FitterRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(kGood).ok());
  EXPECT_EQ(registry.Find("citation")->table().abi_minor, 1u);
  ASSERT_NE(registry.Find("citation")->pooled_option("m"), nullptr);
  EXPECT_TRUE(registry.Find("naive")->forecast_reference());
  for (const Fitter* f : registry.fitters()) {
    if (f->name() != "naive") {
      EXPECT_FALSE(f->forecast_reference()) << f->name();
    }
    if (f->name() != "citation") {
      EXPECT_TRUE(f->pooled_options().empty()) << f->name();
    }
  }
}

TEST(FitterRegistryAbiTest, APluginBuiltForAbi10LoadsWithoutTheNewFields) {
  // What a 1.0 plugin hands over: minor 0, the struct ending at predict.
  adoption_fitter_descriptor_v1 old = DescriptorOf("citation");
  old.abi_minor = 0;
  old.struct_size = offsetof(adoption_fitter_descriptor_v1, num_pooled_options);
  old.num_pooled_options = 99;  // beyond its struct: never read
  old.pooled_options = nullptr;
  old.flags |= ADOPTION_FITTER_FLAG_FORECAST_REFERENCE;  // a 1.1 flag: ignored
  FitterRegistry registry;
  ASSERT_TRUE(registry.Add(&old, "old-citation").ok());
  const Fitter* f = registry.Find("citation");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->pooled_options().empty());
  EXPECT_FALSE(f->forecast_reference());
}

TEST(FitterRegistryAbiTest, RefusesMalformedPooledOptions) {
  static const char* const kGrid[] = {"1", "10"};
  struct Case {
    adoption_pooled_option_v1 pooled;
    const char* why;
  };
  const Case cases[] = {
      {{"nope", kGrid, 2, 0}, "does not name one of the fitter's options"},
      {{"m", kGrid, 2, 2}, "a default among them"},
      {{"m", kGrid, 0, 0}, "1..64 candidates"},
      {{"m", nullptr, 2, 0}, "1..64 candidates"},
  };
  for (const Case& c : cases) {
    adoption_fitter_descriptor_v1 d = DescriptorOf("citation");
    d.num_pooled_options = 1;
    d.pooled_options = &c.pooled;
    FitterRegistry registry;
    absl::Status s = registry.Add(&d, "bad-pooled");
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << c.why;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.why));
    EXPECT_EQ(registry.Find("citation"), nullptr);
  }
  static const char* const kPooledValue[] = {"1", "pooled"};
  adoption_pooled_option_v1 literal = {"m", kPooledValue, 2, 0};
  adoption_fitter_descriptor_v1 d = DescriptorOf("citation");
  d.pooled_options = &literal;
  FitterRegistry registry;
  EXPECT_THAT(std::string(registry.Add(&d, "bad-pooled").message()), HasSubstr("not a value"));
}

}  // namespace
}  // namespace adoption
