// The collector against a local server that behaves like the Hugging Face
// Hub (fixture/): the published series to the number, pagination, relations,
// redirects, missing and gated models, tokens, rate limits, server errors and
// dropped connections. Time is virtual: the collector's waits advance the
// fixture's clock, so nothing here sleeps.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "collector/collector.h"
#include "collector/months.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/hub/fixture/hub_fixture.h"

namespace adoption::hub {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fx = ::adoption::hubfixture;

// The published series of collector/hub_api.md, as the paper's data has them.
const std::map<std::string, std::vector<int64_t>>& Published() {
  static const auto* series = new std::map<std::string, std::vector<int64_t>>{
      {"mistralai/Mistral-7B-v0.1",
       {0, 83, 324, 562, 955, 1358, 1797, 2236, 2523, 2694, 2775, 2857, 2907, 2971, 3027, 3162,
        3278, 3848}},
      {"meta-llama/Llama-3.1-8B", {0, 394, 803, 1225, 1655, 2213, 2880, 3404}},
      {"google/gemma-2b",
       {0, 243, 615, 973, 1455, 2024, 4473, 12069, 25387, 26227, 26672, 26766, 26948}},
      {"HuggingFaceH4/zephyr-7b-beta",
       {0, 65, 136, 217, 289, 337, 409, 464, 504, 517, 530, 551, 564, 572, 582, 718}},
  };
  return *series;
}

absl::Time T(const char* text) { return ParseHubTime(text).value(); }

fx::Repo MakeRepo(const std::string& id, const std::string& created_at) {
  fx::Repo r;
  r.id = id;
  r.created_at = created_at;
  return r;
}

// The collector's clock: reads and advances the fixture's virtual clock.
class VirtualClock : public Clock {
 public:
  explicit VirtualClock(fx::FakeClock* clock) : clock_(clock) {}
  absl::Time Now() override { return clock_->Now(); }
  void SleepFor(absl::Duration d) override {
    slept_ += d;
    clock_->Advance(d);
  }
  absl::Duration slept() const { return slept_; }

 private:
  fx::FakeClock* clock_;
  absl::Duration slept_ = absl::ZeroDuration();
};

class CollectorTest : public ::testing::Test {
 protected:
  void StartHub(fx::Options options = {}) {
    hub_ = std::make_unique<fx::HubFixture>(std::move(options), &fake_);
    fx::LoadPublishedDataset(*hub_);
    ASSERT_GT(hub_->Start(), 0);
  }
  CollectorOptions Options(std::vector<std::string> relations = {"finetune"}) {
    CollectorOptions o;
    o.hub_url = hub_->BaseUrl();
    o.relations = std::move(relations);
    o.until = T(fx::kPublishedUntil);
    o.clock = &clock_;
    return o;
  }

  fx::FakeClock fake_{T("2025-02-21T00:00:00Z")};
  VirtualClock clock_{&fake_};
  std::unique_ptr<fx::HubFixture> hub_;
};

TEST_F(CollectorTest, ReproducesThePublishedSeriesToTheNumber) {
  StartHub();
  Collector collector(Options());
  for (const auto& [id, expected] : Published()) {
    SCOPED_TRACE(id);
    absl::StatusOr<BaseCollection> got = collector.Collect(id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->canonical_id, id);
    EXPECT_FALSE(got->created_at_unknown);
    EXPECT_THAT(got->cumulative.at("finetune"), ElementsAreArray(expected));
    // Pages of 1000, plus the models created after the last whole month.
    EXPECT_GE(got->pages, (expected.back() + 999) / 1000);
  }
  EXPECT_EQ(collector.http_stats().retries, 0);
}

TEST_F(CollectorTest, FollowsNextLinksVerbatimAcrossManyPages) {
  fx::Options options;
  options.max_page_size = 7;
  options.quota = 100000;
  StartHub(options);
  CollectorOptions o = Options();
  o.page_size = 1000;  // the server clamps to 7, as the Hub clamps to 1000
  Collector collector(o);
  absl::StatusOr<BaseCollection> got = collector.Collect("HuggingFaceH4/zephyr-7b-beta");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->cumulative.at("finetune"),
              ElementsAreArray(Published().at("HuggingFaceH4/zephyr-7b-beta")));
  EXPECT_GE(got->pages, 718 / 7);
  int with_cursor = 0;
  bool encoded = false;
  for (const auto& r : hub_->Requests()) {
    if (r.path != "/api/models") continue;
    if (absl::StrContains(r.raw_query, "cursor=")) ++with_cursor;
    if (absl::StrContains(r.raw_query,
                          "filter=base_model%3Afinetune%3AHuggingFaceH4%2Fzephyr-7b-beta")) {
      encoded = true;
    }
  }
  EXPECT_EQ(with_cursor, got->pages - 1);
  EXPECT_TRUE(encoded) << "the first listing must percent-encode the filter";
}

TEST_F(CollectorTest, CountsEachRelationAndAllOnce) {
  StartHub();
  const char* base = "test-org/base-1b";
  hub_->AddRepo(MakeRepo(base, "2024-01-15T00:00:00.000Z"));
  auto derived = [&](const std::string& id, const char* created,
                     std::vector<std::string> relations) {
    fx::Repo r = MakeRepo(id, created);
    r.tags = {"transformers", std::string("base_model:") + base};
    for (const auto& rel : relations) r.tags.push_back("base_model:" + rel + ":" + base);
    hub_->AddRepo(r);
  };
  derived("u1/ft-a", "2024-01-20T00:00:00.000Z", {"finetune"});        // month 1
  derived("u2/ft-b", "2024-02-15T00:00:00.000Z", {"finetune"});        // month 1 (boundary)
  derived("u3/ft-c", "2024-03-01T00:00:00.000Z", {"finetune"});        // month 2
  derived("u4/lora", "2024-01-16T00:00:00.000Z", {"adapter"});         // month 1
  derived("u5/gguf", "2024-03-14T00:00:00.000Z", {"quantized"});       // month 2
  derived("u6/gguf-late", "2025-02-19T00:00:00.000Z", {"quantized"});  // after month 13: not whole
  {  // A merge of this base and another: one tag pair per parent.
    fx::Repo m = MakeRepo("u7/merge", "2024-04-01T00:00:00.000Z");
    m.tags = {std::string("base_model:") + base, std::string("base_model:merge:") + base,
              "base_model:other/base", "base_model:merge:other/base"};
    hub_->AddRepo(m);
  }
  derived("u8/ft-and-adapter", "2024-01-15T00:00:00.000Z", {"finetune", "adapter"});  // month 0
  Collector collector(Options(*ExpandRelation("all")));
  absl::StatusOr<BaseCollection> got = collector.Collect(base);
  ASSERT_TRUE(got.ok()) << got.status();
  // until 2025-02-20T23:35Z: months 0..13 (2025-02-15 is the 13th boundary).
  ASSERT_EQ(got->cumulative.at("all").size(), 14u);
  auto at = [&](const char* rel, int k) { return got->cumulative.at(rel)[k]; };
  EXPECT_EQ(at("finetune", 0), 1);
  EXPECT_EQ(at("finetune", 1), 3);
  EXPECT_EQ(at("finetune", 2), 4);
  EXPECT_EQ(at("adapter", 0), 1);
  EXPECT_EQ(at("adapter", 1), 2);
  EXPECT_EQ(at("quantized", 2), 1);
  EXPECT_EQ(at("quantized", 13), 1);  // 2025-02-19 is after the 13th boundary (02-15)
  EXPECT_EQ(at("merge", 2), 0);
  EXPECT_EQ(at("merge", 3), 1);
  EXPECT_EQ(at("all", 13), 7);  // eight models, one after the last whole month
  EXPECT_EQ(got->derived_models, 8);
}

TEST_F(CollectorTest, FollowsAtMostTwoRedirectsAndRecordsTheCanonicalId) {
  StartHub();
  hub_->AddAlias("zephyr-old", "HuggingFaceH4/zephyr-7b-beta");
  hub_->AddAlias("zephyr-older", "zephyr-old");
  hub_->AddAlias("zephyr-oldest", "zephyr-older");
  Collector collector(Options());
  for (const char* alias : {"zephyr-old", "zephyr-older"}) {
    absl::StatusOr<BaseCollection> got = collector.Collect(alias);
    ASSERT_TRUE(got.ok()) << alias << ": " << got.status();
    EXPECT_EQ(got->requested_id, alias);
    EXPECT_EQ(got->canonical_id, "HuggingFaceH4/zephyr-7b-beta");
    EXPECT_THAT(got->cumulative.at("finetune"),
                ElementsAreArray(Published().at("HuggingFaceH4/zephyr-7b-beta")));
    v1::Series s = ToSeries(*got, "finetune", hub_->BaseUrl());
    EXPECT_EQ(s.id(), "base_model:finetune:HuggingFaceH4/zephyr-7b-beta");
    EXPECT_EQ(s.metadata().at("requested_id"), alias);
  }
  absl::StatusOr<BaseCollection> too_far = collector.Collect("zephyr-oldest");
  EXPECT_EQ(too_far.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(too_far.status().message(), HasSubstr("redirected more than 2"));
}

TEST_F(CollectorTest, MissingAndPrivateModelsAreNotFoundAndTheRunGoesOn) {
  StartHub();
  {
    Collector anonymous(Options());
    for (const char* id : {"nobody/nothing", "acme/secret-7b"}) {
      absl::StatusOr<BaseCollection> got = anonymous.Collect(id);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << id;
      EXPECT_THAT(got.status().message(), HasSubstr("401"));
    }
    EXPECT_TRUE(anonymous.Collect("meta-llama/Llama-3.1-8B").ok());
  }
  // A valid token: missing is a 404 now.
  fx::Options options;
  options.valid_tokens = {"hf_good"};
  hub_.reset();
  StartHub(options);
  CollectorOptions o = Options();
  o.token = "hf_good";
  Collector with_token(o);
  absl::StatusOr<BaseCollection> got = with_token.Collect("nobody/nothing");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("404"));
  EXPECT_TRUE(with_token.Collect("google/gemma-2b").ok());
  for (const auto& r : hub_->Requests()) EXPECT_TRUE(r.had_auth) << r.path;
}

TEST_F(CollectorTest, AnInvalidTokenStopsWithAnAuthErrorThatHidesIt) {
  fx::Options options;
  options.valid_tokens = {"hf_good"};
  StartHub(options);
  CollectorOptions o = Options();
  o.token = "hf_wrong_secret";
  Collector collector(o);
  absl::StatusOr<BaseCollection> got = collector.Collect("google/gemma-2b");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(got.status().message(), HasSubstr("HF_TOKEN"));
  EXPECT_THAT(got.status().message(), Not(HasSubstr("hf_wrong_secret")));
}

TEST_F(CollectorTest, GatedAndLegacyModelsAreCollectedAndFlagged) {
  StartHub();
  Collector collector(Options());
  absl::StatusOr<BaseCollection> gated = collector.Collect("acme/gated-7b");
  ASSERT_TRUE(gated.ok()) << gated.status();
  EXPECT_EQ(gated->gated, "manual");
  EXPECT_GT(gated->derived_models, 0);
  EXPECT_EQ(ToSeries(*gated, "finetune", "x").metadata().at("gated"), "manual");
  absl::StatusOr<BaseCollection> legacy = collector.Collect("legacy-org/old-bert");
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_TRUE(legacy->created_at_unknown);
  EXPECT_EQ(ToSeries(*legacy, "finetune", "x").metadata().at("created_at_unknown"), "true");
}

TEST_F(CollectorTest, RateLimitedRunFinishesWithoutRealSleeping) {
  fx::Options options;
  options.max_page_size = 50;
  options.quota = 6;  // a 5-minute window holds 6 requests
  StartHub(options);
  Collector collector(Options());
  const auto wall = std::chrono::steady_clock::now();
  for (const char* id : {"HuggingFaceH4/zephyr-7b-beta", "meta-llama/Llama-3.1-8B"}) {
    absl::StatusOr<BaseCollection> got = collector.Collect(id);
    ASSERT_TRUE(got.ok()) << id << ": " << got.status();
    EXPECT_THAT(got->cumulative.at("finetune"), ElementsAreArray(Published().at(id)));
  }
  const HttpStats& stats = collector.http_stats();
  // 2 resolutions + 15 + 69 pages at 6 per 300 s: many windows of virtual time.
  EXPECT_GT(stats.rate_limit_waits, 10);
  EXPECT_GE(clock_.slept(), absl::Minutes(60));
  EXPECT_LT(std::chrono::steady_clock::now() - wall, std::chrono::seconds(30));
  int over_quota = 0;
  for (const auto& r : hub_->Requests()) over_quota += r.status == 429;
  // The collector slows down before the quota runs out; a 429 may still
  // happen at a window's edge, and is then waited out, never fatal.
  EXPECT_LE(over_quota, stats.retries);
}

TEST_F(CollectorTest, TooManyRequestsWaitsForTheWindowReset) {
  StartHub();
  hub_->InjectStatus(429, 2, "/api/models");
  Collector collector(Options());
  absl::StatusOr<BaseCollection> got = collector.Collect("meta-llama/Llama-3.1-8B");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(collector.http_stats().retries, 2);
  EXPECT_EQ(collector.http_stats().rate_limit_waits, 2);
  // Each 429 carries r=0 and t = the rest of the window: the wait is t + 1 s.
  EXPECT_GE(clock_.slept(), absl::Seconds(2));
}

TEST_F(CollectorTest, RetryAfterIsHonoured) {
  fx::Options options;
  options.send_retry_after = true;
  StartHub(options);
  hub_->InjectStatus(503, 2);
  Collector collector(Options());
  ASSERT_TRUE(collector.Collect("meta-llama/Llama-3.1-8B").ok());
  EXPECT_EQ(collector.http_stats().retries, 2);
}

TEST_F(CollectorTest, ServerErrorsAreRetriedWithBackoffThenReported) {
  StartHub();
  hub_->InjectStatus(502, 3);
  Collector collector(Options());
  absl::StatusOr<BaseCollection> got = collector.Collect("meta-llama/Llama-3.1-8B");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->cumulative.at("finetune"),
              ElementsAreArray(Published().at("meta-llama/Llama-3.1-8B")));
  EXPECT_EQ(clock_.slept(), absl::Seconds(1 + 2 + 4));

  const absl::Duration before = clock_.slept();
  hub_->InjectStatus(500, 6);
  absl::StatusOr<BaseCollection> failed = collector.Collect("google/gemma-2b");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(failed.status().message(), HasSubstr("500"));
  EXPECT_EQ(clock_.slept() - before, absl::Seconds(1 + 2 + 4 + 8 + 8));
  // The run goes on: the next model is collected.
  EXPECT_TRUE(collector.Collect("google/gemma-2b").ok());
}

TEST_F(CollectorTest, DroppedConnectionsAreRetried) {
  StartHub();
  hub_->InjectDisconnect(2, "/api/models");
  Collector collector(Options());
  absl::StatusOr<BaseCollection> got = collector.Collect("mistralai/Mistral-7B-v0.1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->cumulative.at("finetune"),
              ElementsAreArray(Published().at("mistralai/Mistral-7B-v0.1")));
  EXPECT_EQ(collector.http_stats().retries, 2);
}

TEST_F(CollectorTest, AnUnreachableHubIsReportedAfterRetries) {
  StartHub();
  CollectorOptions o = Options();
  o.hub_url = "http://127.0.0.1:1";  // nothing listens on port 1
  Collector collector(o);
  absl::StatusOr<BaseCollection> got = collector.Collect("google/gemma-2b");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(got.status().message(), HasSubstr("network error"));
  EXPECT_EQ(collector.http_stats().requests, 6);
}

TEST_F(CollectorTest, RefusesIdsThatAreNotRepoIds) {
  StartHub();
  Collector collector(Options());
  for (const char* bad : {"", "a/b/c", "/lead", "trail/", "sp ace/x", "q?x", "new\nline"}) {
    EXPECT_EQ(collector.Collect(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << "\"" << bad << "\"";
  }
  EXPECT_EQ(hub_->RequestCount(), 0);
}

TEST_F(CollectorTest, SeriesCarryTheirProvenance) {
  StartHub();
  Collector collector(Options());
  absl::StatusOr<BaseCollection> got = collector.Collect("google/gemma-2b");
  ASSERT_TRUE(got.ok()) << got.status();
  v1::Series s = ToSeries(*got, "finetune", hub_->BaseUrl());
  EXPECT_EQ(s.id(), "base_model:finetune:google/gemma-2b");
  EXPECT_EQ(s.unit(), "finetunes");
  EXPECT_EQ(s.metadata().at("author"), "google");
  EXPECT_EQ(s.metadata().at("company"), "google");
  EXPECT_EQ(s.metadata().at("created_at"), "2024-02-08T08:11:26Z");
  EXPECT_EQ(s.metadata().at("collected_at"), "2025-02-20T23:35:00Z");
  EXPECT_EQ(s.metadata().at("relation"), "finetune");
  EXPECT_EQ(s.metadata().at("source"), "huggingface-hub:" + hub_->BaseUrl());
  ASSERT_EQ(s.points_size(), 13);
  EXPECT_EQ(s.points(12).t(), 12);
  EXPECT_EQ(s.points(12).value(), 26948);
}

}  // namespace
}  // namespace adoption::hub
