// Group profiles (issue 14 item 1) against a real adoptiond holding every
// bundled series: the profile counts agree with the per-series reports of
// the same comparison, the organisations differ (the paper's finding) with
// tests and intervals, the stream carries the same profiles, adoptctl
// prints them, and bad requests are refused naming the field.
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;

class ProfilesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    server_ = new ServerProcess(
        ServerProcess::Options{ADOPTIOND, dir_->File("adoption.db"), ADOPTION_TEST_PLUGIN_DIR, {}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    std::vector<std::string> load = {ADOPTCTL, "--server", server_->address(), "load-csv"};
    for (const auto& e : std::filesystem::directory_iterator(ADOPTION_DATA_DIR)) {
      if (e.path().extension() == ".csv") load.push_back(e.path().string());
    }
    CommandResult r = RunCommand(load);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  // Every series, the citation fitter (and naive, which a profile ignores),
  // no cross-validation: the profile depends on the whole-series fits only.
  static v1::CompareModelsRequest Request() {
    v1::CompareModelsRequest req;
    req.mutable_selection()->set_all(true);
    req.add_fitters("citation");
    req.add_fitters("naive");
    req.mutable_cross_validation()->set_disabled(true);
    req.set_group_by("company");
    req.set_profiles(true);
    return req;
  }
  static grpc::Status Compare(const v1::CompareModelsRequest& req, v1::CompareModelsResponse* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    return server_->NewStub()->CompareModels(&ctx, req, out);
  }
  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* ProfilesTest::dir_ = nullptr;
ServerProcess* ProfilesTest::server_ = nullptr;

TEST_F(ProfilesTest, CountsAgreeWithTheSeriesReportsAndOrganisationsDiffer) {
  v1::CompareModelsResponse r;
  grpc::Status st = Compare(Request(), &r);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(r.series_size(), 3130);
  ASSERT_EQ(r.groups_size(), 12);

  // Recount from the per-series reports by the documented rule.
  struct Count {
    int series = 0, fitted = 0, at_bound = 0, unidentified = 0;
    std::vector<double> mu;
  };
  std::map<std::string, Count> expected;
  for (const auto& s : r.series()) {
    Count& c = expected[s.metadata().at("company")];
    ++c.series;
    const v1::FitResult& f = s.fits(0);
    ASSERT_EQ(f.fitter(), "citation");
    const bool usable =
        f.status() == v1::FIT_STATUS_CONVERGED || f.status() == v1::FIT_STATUS_MAX_ITERATIONS;
    if (!usable || f.r2() < 0.95 || s.surge_months_size() > 0) continue;
    ++c.fitted;
    bool bound = false, unidentified = false;
    for (const auto& p : f.parameters()) {
      if (p.fixed()) continue;
      bound |= p.at_bound();
      unidentified |= !p.has_std_error();
    }
    if (bound) {
      ++c.at_bound;
    } else if (unidentified) {
      ++c.unidentified;
    } else {
      for (const auto& p : f.parameters()) {
        if (p.name() == "mu") c.mu.push_back(p.value());
      }
    }
  }
  int used_total = 0;
  for (const auto& g : r.groups()) {
    SCOPED_TRACE(g.value());
    const Count& c = expected[g.value()];
    const v1::GroupProfile& p = g.profile();
    EXPECT_EQ(p.series(), c.series);
    EXPECT_EQ(p.fitted(), c.fitted);
    EXPECT_EQ(p.at_bound(), c.at_bound);
    EXPECT_EQ(p.unidentified(), c.unidentified);
    EXPECT_EQ(p.used(), c.fitted - c.at_bound - c.unidentified);
    used_total += p.used();
    // The median of mu is the median of the recounted values.
    std::vector<double> mu = c.mu;
    ASSERT_FALSE(mu.empty());
    std::sort(mu.begin(), mu.end());
    const double median =
        mu.size() % 2 ? mu[mu.size() / 2] : 0.5 * (mu[mu.size() / 2 - 1] + mu[mu.size() / 2]);
    std::vector<std::string> names;
    for (const auto& q : p.quantities()) {
      names.push_back(q.quantity());
      EXPECT_LE(q.median_lower(), q.median());
      EXPECT_GE(q.median_upper(), q.median());
      EXPECT_LE(q.q1(), q.median());
      EXPECT_GE(q.q3(), q.median());
      if (q.quantity() == "mu") {
        EXPECT_EQ(q.n(), static_cast<int>(mu.size()));
        EXPECT_DOUBLE_EQ(q.median(), median);
      }
    }
    EXPECT_THAT(names, ::testing::IsSupersetOf(
                           {"lambda", "mu", "sigma", "c_inf", "c_6m", "c_12m", "peak_month"}));
  }
  EXPECT_GT(used_total, 250);

  const v1::ProfileTests& t = r.profile_tests();
  EXPECT_EQ(t.fitter(), "citation");
  EXPECT_EQ(t.min_group_size(), 5);
  EXPECT_EQ(t.tested_size() + t.too_small_size(), 12);
  EXPECT_GE(t.tested_size(), 10);
  ASSERT_GE(t.tests_size(), 7);
  int significant = 0;
  for (const auto& q : t.tests()) {
    EXPECT_GE(q.p_adjusted(), q.p_value());
    EXPECT_GT(q.h(), 0);
    EXPECT_EQ(q.pairs_size(), 15);  // the 6 largest groups pairwise
    significant += q.significant();
  }
  // The paper: organisations display distinct adoption curves.
  EXPECT_GE(significant, 3);
}

TEST_F(ProfilesTest, TheStreamCarriesTheSameProfiles) {
  v1::CompareModelsRequest req = Request();
  req.set_summary_only(true);
  v1::CompareModelsResponse unary;
  ASSERT_TRUE(Compare(req, &unary).ok());
  grpc::ClientContext ctx;
  auto reader = server_->NewStub()->CompareModelsStream(&ctx, req);
  v1::CompareModelsEvent e, last;
  while (reader->Read(&e)) last = e;
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_TRUE(last.has_summary());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(last.summary().profile_tests(),
                                                                 unary.profile_tests()));
  ASSERT_EQ(last.summary().groups_size(), unary.groups_size());
  for (int i = 0; i < unary.groups_size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        last.summary().groups(i).profile(), unary.groups(i).profile()));
  }
}

TEST_F(ProfilesTest, AdoptctlPrintsWhichOrganisationsDiffer) {
  CommandResult r =
      RunCommand({ADOPTCTL, "--server", server_->address(), "compare", "--all", "--fitters",
                  "citation", "--no-cv", "--group-by", "company", "--profiles", "--summary-only"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Profiles by company (citation;"));
  EXPECT_THAT(r.out, HasSubstr("Do the groups differ? Kruskal-Wallis"));
  EXPECT_THAT(r.out, HasSubstr("Significant pairwise differences"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\nmu +10 +[0-9]+ .* yes\n"));
}

TEST_F(ProfilesTest, BadRequestsAreRefusedNamingTheField) {
  struct Case {
    std::function<void(v1::CompareModelsRequest*)> change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto* r) { r->clear_group_by(); }, "profiles: needs group_by"},
      {[](auto* r) { r->set_group_by("no_such_key"); },
       "group_by: none of the 3130 selected series has the metadata key 'no_such_key'"},
      {[](auto* r) { r->set_profile_fitter("logistic"); },
       "profile_fitter: 'logistic' is not one of the comparison's fitters"},
      {[](auto* r) {
         r->set_profiles(false);
         r->set_profile_fitter("citation");
       },
       "profile_fitter: set without profiles = true"},
      {[](auto* r) { r->set_profile_fitter("bad\nname"); }, "profile_fitter"},
  };
  for (const Case& c : cases) {
    v1::CompareModelsRequest req = Request();
    c.change(&req);
    v1::CompareModelsResponse r;
    grpc::Status st = Compare(req, &r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(st.error_message(), HasSubstr(c.message));
  }
  // A grouping whose groups are all too small still answers, and says why
  // there is no test.
  v1::CompareModelsRequest req = Request();
  req.mutable_selection()->set_all(false);
  (*req.mutable_selection()->mutable_metadata_filter())["company"] = "CohereAI";
  v1::CompareModelsResponse r;
  ASSERT_TRUE(Compare(req, &r).ok());
  EXPECT_EQ(r.profile_tests().tests_size(), 0);
  EXPECT_THAT(r.profile_tests().note(), HasSubstr("2 are needed"));
  EXPECT_EQ(r.groups(0).profile().series(), 12);
}

}  // namespace
}  // namespace adoption
