// The SeriesStore contract, run against every implementation.

#include "engine/store/open_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/store/store_test_util.h"
#include "tests/support/sanitizers.h"

namespace adoption {
namespace {

using ::adoption::testing_util::MakeSeries;
using ::adoption::testing_util::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<SeriesStore>(const TempDir&)> make;
};

void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

class SeriesStoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
  }

  std::vector<std::string> Ids(const ListResult& r) {
    std::vector<std::string> ids;
    for (const SeriesRecord& s : r.series) ids.push_back(s.id);
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<SeriesStore> store_;
};

TEST_P(SeriesStoreTest, RoundTripKeepsMetadataUnitAndPointsExactly) {
  SeriesRecord s =
      MakeSeries("meta-llama/Llama-2-7b", 0, 0,
                 {{"org", "Meta"}, {"license", "llama2"}, {"note", "line one\nline two"}});
  s.unit = "models";
  s.origin = "2023-07-18";
  s.time_unit = TimeUnit::kDay;
  // Values that a text or float32 encoding would not keep exactly.
  s.points = {{0, 0},
              {0.1, 4.9406564584124654e-324},
              {1.0 / 3, 1e-300},
              {2.5, 0.30000000000000004},
              {12, 1.7976931348623157e308}};
  // The store's clock (absl::Now, CLOCK_REALTIME): std::time() may read a
  // coarse clock that lags it by a tick across a second boundary.
  const int64_t before = absl::ToUnixSeconds(absl::Now());
  absl::StatusOr<UpsertStats> stats = store_->Upsert({s});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->created, 1);

  absl::StatusOr<SeriesRecord> got = store_->Get(s.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->SameContent(s));
  EXPECT_EQ(got->points, s.points);
  EXPECT_EQ(got->origin, "2023-07-18");
  EXPECT_EQ(got->time_unit, TimeUnit::kDay);
  EXPECT_EQ(got->revision, 1);
  EXPECT_GE(got->update_time_unix, before);
  EXPECT_LE(got->update_time_unix, absl::ToUnixSeconds(absl::Now()));
}

TEST_P(SeriesStoreTest, EmptyPointsAndMetadataRoundTrip) {
  SeriesRecord s;
  s.id = "no-history-yet";
  ASSERT_TRUE(store_->Upsert({s}).ok());
  absl::StatusOr<SeriesRecord> got = store_->Get(s.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->SameContent(s));
  EXPECT_THAT(got->points, IsEmpty());
  // A second identical upsert is a no-op, also for the empty case.
  absl::StatusOr<UpsertStats> again = store_->Upsert({s});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged, 1);
}

TEST_P(SeriesStoreTest, IdenticalUpsertChangesNothing) {
  std::vector<SeriesRecord> batch = {MakeSeries("a"), MakeSeries("b"), MakeSeries("c")};
  absl::StatusOr<UpsertStats> first = store_->Upsert(batch);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->created, 3);
  EXPECT_EQ(first->updated, 0);
  EXPECT_EQ(first->unchanged, 0);
  absl::StatusOr<SeriesRecord> before = store_->Get("b");
  ASSERT_TRUE(before.ok());

  // Past a second boundary, so a touched update time would show.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  absl::StatusOr<UpsertStats> second = store_->Upsert(batch);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->created, 0);
  EXPECT_EQ(second->updated, 0);
  EXPECT_EQ(second->unchanged, 3);

  absl::StatusOr<SeriesRecord> after = store_->Get("b");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->revision, 1);
  EXPECT_EQ(after->update_time_unix, before->update_time_unix);
}

TEST_P(SeriesStoreTest, EveryKindOfChangeBumpsRevision) {
  SeriesRecord s = MakeSeries("x");
  ASSERT_TRUE(store_->Upsert({s}).ok());

  s.points.push_back({99, 1000});
  absl::StatusOr<UpsertStats> stats = store_->Upsert({s});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->updated, 1);
  EXPECT_EQ(store_->Get("x")->revision, 2);

  s.metadata["org"] = "other";
  ASSERT_TRUE(store_->Upsert({s}).ok());
  EXPECT_EQ(store_->Get("x")->revision, 3);

  s.unit = "downloads";
  ASSERT_TRUE(store_->Upsert({s}).ok());
  EXPECT_EQ(store_->Get("x")->revision, 4);

  // Removing a metadata key is a change, and the key is really gone.
  s.metadata = {{"license", "mit"}};
  ASSERT_TRUE(store_->Upsert({s}).ok());
  absl::StatusOr<SeriesRecord> got = store_->Get("x");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->revision, 5);
  EXPECT_TRUE(got->SameContent(s));

  // The calendar is content: an origin, then a time unit.
  s.origin = "2024-02-29";
  ASSERT_TRUE(store_->Upsert({s}).ok());
  EXPECT_EQ(store_->Get("x")->revision, 6);
  s.time_unit = TimeUnit::kDay;
  ASSERT_TRUE(store_->Upsert({s}).ok());
  got = store_->Get("x");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->revision, 7);
  EXPECT_TRUE(got->SameContent(s));

  // Appends keep it.
  absl::StatusOr<AppendStats> appended = store_->Append("x", {{100, 2000}}, AppendOptions());
  ASSERT_TRUE(appended.ok()) << appended.status();
  got = store_->Get("x");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->origin, "2024-02-29");
  EXPECT_EQ(got->time_unit, TimeUnit::kDay);
}

TEST_P(SeriesStoreTest, MixedBatchCountsEachKind) {
  ASSERT_TRUE(store_->Upsert({MakeSeries("keep"), MakeSeries("change")}).ok());
  SeriesRecord changed = MakeSeries("change", 6);
  absl::StatusOr<UpsertStats> stats =
      store_->Upsert({MakeSeries("keep"), changed, MakeSeries("new")});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->created, 1);
  EXPECT_EQ(stats->updated, 1);
  EXPECT_EQ(stats->unchanged, 1);
  EXPECT_EQ(store_->Get("keep")->revision, 1);
  EXPECT_EQ(store_->Get("change")->revision, 2);
  EXPECT_EQ(store_->Get("new")->revision, 1);
  EXPECT_EQ(*store_->Count(), 3);
}

TEST_P(SeriesStoreTest, BatchWithDuplicateIdStoresNothing) {
  ASSERT_TRUE(store_->Upsert({MakeSeries("existing")}).ok());
  absl::StatusOr<UpsertStats> stats = store_->Upsert(
      {MakeSeries("fresh"), MakeSeries("existing", 9), MakeSeries("dup"), MakeSeries("dup", 2)});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(stats.status().message(), HasSubstr("\"dup\""));
  EXPECT_EQ(*store_->Count(), 1);
  EXPECT_EQ(store_->Get("fresh").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<SeriesRecord> existing = store_->Get("existing");
  ASSERT_TRUE(existing.ok());
  EXPECT_EQ(existing->revision, 1);
  EXPECT_TRUE(existing->SameContent(MakeSeries("existing")));
}

TEST_P(SeriesStoreTest, EmptyBatchIsOk) {
  absl::StatusOr<UpsertStats> stats = store_->Upsert({});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->created + stats->updated + stats->unchanged, 0);
}

TEST_P(SeriesStoreTest, GetMissingIsNotFoundNamingTheId) {
  absl::StatusOr<SeriesRecord> got = store_->Get("nobody/nothing");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("nobody/nothing"));
}

class SeriesStoreListTest : public SeriesStoreTest {
 protected:
  void SetUp() override {
    SeriesStoreTest::SetUp();
    ASSERT_TRUE(store_
                    ->Upsert({MakeSeries("e", 3, 1, {{"org", "acme"}}),
                              MakeSeries("a", 3, 1, {{"org", "acme"}, {"k", "1"}}),
                              MakeSeries("c", 3, 1, {{"org", "zeta"}, {"k", "1"}}),
                              MakeSeries("b", 3, 1, {{"org", "acme"}, {"k", "2"}}),
                              MakeSeries("d", 3, 1, {})})
                    .ok());
  }
};

TEST_P(SeriesStoreListTest, AllInIdOrderWithoutPointsByDefault) {
  absl::StatusOr<ListResult> r = store_->List({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(*r), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_FALSE(r->has_more);
  EXPECT_EQ(r->total_matching, 5);
  for (const SeriesRecord& s : r->series) {
    EXPECT_THAT(s.points, IsEmpty()) << s.id;
    EXPECT_EQ(s.revision, 1);
  }
  EXPECT_EQ(r->series[0].metadata,
            (std::map<std::string, std::string>{{"org", "acme"}, {"k", "1"}}));
  EXPECT_THAT(r->series[3].metadata, IsEmpty());
}

TEST_P(SeriesStoreListTest, IncludePointsLoadsThemExactly) {
  ListQuery q;
  q.include_points = true;
  absl::StatusOr<ListResult> r = store_->List(q);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series.size(), 5u);
  for (const SeriesRecord& s : r->series) {
    EXPECT_EQ(s.points, MakeSeries(s.id, 3, 1).points) << s.id;
  }
}

TEST_P(SeriesStoreListTest, KeysetPaging) {
  ListQuery q;
  q.limit = 2;
  std::vector<std::string> seen;
  std::vector<bool> has_more;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<ListResult> r = store_->List(q);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->total_matching, 5);
    for (const SeriesRecord& s : r->series) seen.push_back(s.id);
    has_more.push_back(r->has_more);
    if (!r->has_more) break;
    q.after_id = r->series.back().id;
  }
  EXPECT_THAT(seen, ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(has_more, ElementsAre(true, true, false));

  // Exactly a full last page: no phantom has_more.
  q.after_id = "c";
  absl::StatusOr<ListResult> last = store_->List(q);
  ASSERT_TRUE(last.ok());
  EXPECT_THAT(Ids(*last), ElementsAre("d", "e"));
  EXPECT_FALSE(last->has_more);

  // after_id need not be a stored id.
  q.after_id = "bb";
  absl::StatusOr<ListResult> mid = store_->List(q);
  ASSERT_TRUE(mid.ok());
  EXPECT_THAT(Ids(*mid), ElementsAre("c", "d"));
  EXPECT_TRUE(mid->has_more);
}

TEST_P(SeriesStoreListTest, MetadataFilterMatchesEveryPair) {
  ListQuery q;
  q.metadata_filter = {{"org", "acme"}};
  absl::StatusOr<ListResult> r = store_->List(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(*r), ElementsAre("a", "b", "e"));
  EXPECT_EQ(r->total_matching, 3);

  q.metadata_filter = {{"org", "acme"}, {"k", "1"}};
  r = store_->List(q);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Ids(*r), ElementsAre("a"));
  EXPECT_EQ(r->total_matching, 1);
  // The whole metadata comes back, not only the filtered keys.
  EXPECT_EQ(r->series[0].metadata.size(), 2u);

  q.metadata_filter = {{"org", "nobody"}};
  r = store_->List(q);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->series, IsEmpty());
  EXPECT_EQ(r->total_matching, 0);
  EXPECT_FALSE(r->has_more);
}

TEST_P(SeriesStoreListTest, FilterWithPagingCountsAllMatches) {
  ListQuery q;
  q.metadata_filter = {{"org", "acme"}};
  q.limit = 1;
  q.after_id = "a";
  absl::StatusOr<ListResult> r = store_->List(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Ids(*r), ElementsAre("b"));
  EXPECT_TRUE(r->has_more);
  EXPECT_EQ(r->total_matching, 3);  // ignores after_id and limit
}

TEST_P(SeriesStoreListTest, NegativeLimitIsInvalid) {
  ListQuery q;
  q.limit = -1;
  EXPECT_EQ(store_->List(q).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(SeriesStoreListTest, GetManyKeepsOrderAndNamesFirstMissing) {
  absl::StatusOr<std::vector<SeriesRecord>> got = store_->GetMany({"d", "a", "c", "a"});
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<std::string> ids;
  for (const SeriesRecord& s : *got) {
    ids.push_back(s.id);
    EXPECT_EQ(s.points.size(), 3u) << "GetMany returns points";
  }
  EXPECT_THAT(ids, ElementsAre("d", "a", "c", "a"));
  EXPECT_EQ((*got)[1].metadata.at("k"), "1");

  got = store_->GetMany({"a", "missing-1", "b", "missing-2"});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("missing-1"));
  EXPECT_THAT(got.status().message(), ::testing::Not(HasSubstr("missing-2")));

  got = store_->GetMany({});
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(*got, IsEmpty());
}

TEST_P(SeriesStoreListTest, DeleteRemovesSeriesAndItsMetadata) {
  absl::StatusOr<bool> deleted = store_->Delete("a");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
  deleted = store_->Delete("a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  EXPECT_EQ(store_->Get("a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->Count(), 4);

  ListQuery q;
  q.metadata_filter = {{"k", "1"}};
  absl::StatusOr<ListResult> r = store_->List(q);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Ids(*r), ElementsAre("c"));

  // Re-created, it starts again at revision 1 with only its new metadata.
  ASSERT_TRUE(store_->Upsert({MakeSeries("a", 2, 1, {{"new", "yes"}})}).ok());
  absl::StatusOr<SeriesRecord> again = store_->Get("a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revision, 1);
  EXPECT_EQ(again->metadata, (std::map<std::string, std::string>{{"new", "yes"}}));
}

TEST_P(SeriesStoreTest, IdsOrderByBytes) {
  // Byte order, as std::string compares: uppercase < lowercase < non-ASCII.
  std::vector<std::string> ids = {"b", "B", "a b", "a", "é", "日本", "a-", "a/"};
  std::vector<SeriesRecord> batch;
  for (const std::string& id : ids) batch.push_back(MakeSeries(id));
  ASSERT_TRUE(store_->Upsert(batch).ok());
  std::sort(ids.begin(), ids.end());
  absl::StatusOr<ListResult> r = store_->List({});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Ids(*r), ids);
  for (const std::string& id : ids) EXPECT_TRUE(store_->Get(id).ok()) << id;
}

TEST_P(SeriesStoreTest, ConcurrentWritersAndReadersLoseNothing) {
  constexpr int kWriters = 4;
  constexpr int kBatches = 10;
  constexpr int kBatchSize = 5;
  constexpr int kHotUpdates = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<SeriesRecord> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          batch.push_back(MakeSeries(absl::StrCat("w", w, "-", b, "-", i), 4 + i, 1.0 + w,
                                     {{"writer", absl::StrCat(w)}}));
        }
        if (!store_->Upsert(batch).ok()) ++failures;
      }
      // Every thread changes one shared series: each write is a change.
      for (int u = 0; u < kHotUpdates; ++u) {
        SeriesRecord hot = MakeSeries("hot");
        hot.unit = absl::StrCat("w", w, "u", u);
        if (!store_->Upsert({hot}).ok()) ++failures;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        ListQuery q;
        q.include_points = true;
        absl::StatusOr<ListResult> all = store_->List(q);
        if (!all.ok()) ++failures;
        if (all.ok()) {
          // A batch is visible whole or not at all.
          std::map<std::string, int> per_batch;
          for (const SeriesRecord& s : all->series) {
            if (s.id != "hot") ++per_batch[s.id.substr(0, s.id.rfind('-'))];
          }
          for (const auto& [batch, n] : per_batch) {
            if (n != kBatchSize) ++failures;
          }
        }
        if (!store_->Count().ok()) ++failures;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop = true;
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store_->Count(), kWriters * kBatches * kBatchSize + 1);
  absl::StatusOr<SeriesRecord> hot = store_->Get("hot");
  ASSERT_TRUE(hot.ok());
  EXPECT_EQ(hot->revision, kWriters * kHotUpdates);
  for (int w = 0; w < kWriters; ++w) {
    ListQuery q;
    q.metadata_filter = {{"writer", absl::StrCat(w)}};
    q.include_points = true;
    absl::StatusOr<ListResult> mine = store_->List(q);
    ASSERT_TRUE(mine.ok());
    EXPECT_EQ(mine->total_matching, kBatches * kBatchSize);
    for (const SeriesRecord& s : mine->series) {
      const int i = s.id.back() - '0';
      EXPECT_TRUE(s.SameContent(MakeSeries(s.id, 4 + i, 1.0 + w, {{"writer", absl::StrCat(w)}})))
          << s.id;
    }
  }
}

// The compare RPC loads the whole corpus (3,130 series) with points.
TEST_P(SeriesStoreTest, ListsTheWholeCorpusQuickly) {
  constexpr int kSeries = 3130;
  std::vector<SeriesRecord> batch;
  for (int i = 0; i < kSeries; ++i) {
    batch.push_back(MakeSeries(absl::StrCat("org", i % 12, "/model-", i), 24 + i % 30, 3,
                               {{"org", absl::StrCat("org", i % 12)},
                                {"base_model", absl::StrCat("base-", i)},
                                {"license", "apache-2.0"}}));
  }
  auto t0 = std::chrono::steady_clock::now();
  absl::StatusOr<UpsertStats> stats = store_->Upsert(batch);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->created, kSeries);

  ListQuery q;
  q.include_points = true;
  absl::StatusOr<ListResult> all = store_->List(q);  // warm
  ASSERT_TRUE(all.ok());
  auto t2 = std::chrono::steady_clock::now();
  all = store_->List(q);
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->series.size(), static_cast<size_t>(kSeries));
  EXPECT_EQ(all->series[0].metadata.size(), 3u);

  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf("[ %s ] upsert %d series: %.1f ms; list with points: %.1f ms\n",
              GetParam().name.c_str(), kSeries, ms(t1 - t0), ms(t3 - t2));
  RecordProperty("list_all_ms", static_cast<int>(ms(t3 - t2)));
  // Generous bound (sanitizers, loaded CI); typical is a few ms.
  EXPECT_LT(ms(t3 - t2), 500.0 * adoption::testing::TimeScale());
}

// Every backend, opened as adoptiond opens it: through OpenStore and the
// --db value it answers to. A new backend adds its line here.
std::unique_ptr<SeriesStore> Open(const std::string& db) {
  absl::StatusOr<OpenedStore> opened = OpenStore(db);
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? std::move(opened->store) : nullptr;
}

const StoreFactory kFactories[] = {
    {"Memory", [](const TempDir&) { return Open(":memory:"); }},
    {"Sqlite", [](const TempDir& dir) { return Open("sqlite:" + dir.File("series.db")); }},
};

TEST_P(SeriesStoreTest, AppendAddsAfterTheEndAndRetriesAreHarmless) {
  ASSERT_TRUE(store_->Upsert({MakeSeries("a", 4, 2.0)}).ok());  // t 0..3, values 0, 2, 4, 6
  // The newest month, then the same call again (a retried job).
  absl::StatusOr<AppendStats> first = store_->Append("a", {{4, 9}}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->appended, 1);
  EXPECT_EQ(first->revision, 2);
  absl::StatusOr<AppendStats> again = store_->Append("a", {{4, 9}}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->appended, 0);
  EXPECT_EQ(again->already_present, 1);
  EXPECT_EQ(again->revision, 2);  // nothing changed, not even the revision
  // Overlap that agrees, then new points.
  absl::StatusOr<AppendStats> more = store_->Append("a", {{3, 6}, {4, 9}, {5, 9}, {6, 12}}, {});
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->appended, 2);
  EXPECT_EQ(more->already_present, 2);
  absl::StatusOr<SeriesRecord> a = store_->Get("a");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->points.size(), 7u);
  EXPECT_EQ(a->points.back(), (SeriesPoint{6, 12}));
  EXPECT_EQ(a->metadata.at("org"), "acme");  // metadata kept
  EXPECT_EQ(a->revision, 3);
}

TEST_P(SeriesStoreTest, AppendRefusesWhatWouldRewriteTheSeries) {
  ASSERT_TRUE(store_->Upsert({MakeSeries("a", 4, 2.0)}).ok());
  struct Case {
    std::vector<SeriesPoint> points;
    std::string message;
  };
  const Case cases[] = {
      {{{3, 7}}, "points[0].value: t 3 is stored with value 6, the append has 7"},
      {{{2.5, 5}}, "points[0].t: 2.5 is before the series' last point"},
      {{{4, 5}}, "points[0].value: 5 is below the last value 6"},
      {{{4, 8}, {5, 7}}, "points[1].value: 7 is below the last value 8"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AppendStats> r = store_->Append("a", c.points, {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
  AppendOptions limited;
  limited.max_points = 5;
  EXPECT_THAT(std::string(store_->Append("a", {{4, 8}, {5, 9}}, limited).status().message()),
              HasSubstr("would hold 6 points, above the limit of 5"));
  EXPECT_EQ(store_->Append("nope", {{0, 1}}, {}).status().code(), absl::StatusCode::kNotFound);
  // Nothing of the refused appends was stored.
  absl::StatusOr<SeriesRecord> a = store_->Get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->points, MakeSeries("a", 4, 2.0).points);
  EXPECT_EQ(a->revision, 1);
}

TEST_P(SeriesStoreTest, ExpectedRevisionsRefuseStaleWriters) {
  ASSERT_TRUE(store_->Upsert({MakeSeries("a", 3)}).ok());
  // Two writers read revision 1; the first wins, the second is refused.
  SeriesRecord mine = MakeSeries("a", 4);
  mine.revision = 1;
  UpsertOptions check;
  check.check_revisions = true;
  absl::StatusOr<UpsertStats> won = store_->Upsert({mine}, check);
  ASSERT_TRUE(won.ok()) << won.status();
  EXPECT_THAT(won->revisions, ElementsAre(2));
  SeriesRecord theirs = MakeSeries("a", 5);
  theirs.revision = 1;
  SeriesRecord fresh = MakeSeries("b", 2);  // in the same batch: not stored either
  absl::Status stale = store_->Upsert({fresh, theirs}, check).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.message()), HasSubstr("is at revision 2, the write expected 1"));
  EXPECT_EQ(store_->Get("b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("a")->points.size(), 4u);
  // Revision 0: "must not exist yet".
  SeriesRecord create = MakeSeries("a", 2);
  create.revision = 0;
  EXPECT_EQ(store_->Upsert({create}, check).status().code(), absl::StatusCode::kAborted);
  // Appends and deletes take an expected revision too.
  AppendOptions append;
  append.expected_revision = 1;
  EXPECT_EQ(store_->Append("a", {{4, 10}}, append).status().code(), absl::StatusCode::kAborted);
  append.expected_revision = 2;
  EXPECT_TRUE(store_->Append("a", {{4, 10}}, append).ok());
  EXPECT_EQ(store_->Delete("a", 2).status().code(), absl::StatusCode::kAborted);
  absl::StatusOr<bool> deleted = store_->Delete("a", 3);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(*deleted);
}

TEST_P(SeriesStoreTest, ReplacementsThatRemoveAreReported) {
  ASSERT_TRUE(
      store_->Upsert({MakeSeries("a", 14, 1.0, {{"org", "acme"}, {"created_at", "x"}})}).ok());
  // A monthly job's habit: only the newest month, no metadata.
  SeriesRecord newest;
  newest.id = "a";
  newest.unit = "finetunes";
  newest.points = {{14, 20}};
  absl::StatusOr<UpsertStats> r = store_->Upsert({MakeSeries("b", 2), newest});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->shrunk.size(), 1u);
  const Replacement& shrunk = r->shrunk[0];
  EXPECT_EQ(shrunk.id, "a");
  EXPECT_EQ(shrunk.index, 1u);
  EXPECT_EQ(shrunk.old_points, 14u);
  EXPECT_EQ(shrunk.new_points, 1u);
  EXPECT_EQ(shrunk.removed_t.size(), 14u);
  EXPECT_THAT(shrunk.dropped_keys, ElementsAre("created_at", "org"));
  // Growing a series removes nothing: no report.
  absl::StatusOr<UpsertStats> grow = store_->Upsert({MakeSeries("b", 3)});
  ASSERT_TRUE(grow.ok());
  EXPECT_THAT(grow->shrunk, IsEmpty());
}

TEST(OpenStoreTest, PicksTheBackendFromTheDbValue) {
  TempDir dir;
  absl::StatusOr<OpenedStore> memory = OpenStore(":memory:");
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->kind, "memory");
  EXPECT_FALSE(memory->durable);
  // A plain path or sqlite:PATH: the location is the path either way.
  for (const std::string& name : {"a.db", "b.db"}) {
    const std::string path = dir.File(name);
    const std::string db = name == std::string("a.db") ? path : "sqlite:" + path;
    absl::StatusOr<OpenedStore> sqlite = OpenStore(db);
    ASSERT_TRUE(sqlite.ok()) << sqlite.status();
    EXPECT_EQ(sqlite->kind, "sqlite");
    EXPECT_TRUE(sqlite->durable);
    EXPECT_EQ(sqlite->location, path);
  }
  absl::StatusOr<OpenedStore> unknown = OpenStore("mongodb://localhost/x");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("no store accepts it"));
  EXPECT_EQ(OpenStore("").status().code(), absl::StatusCode::kInvalidArgument);
}

std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(AllStores, SeriesStoreTest, ::testing::ValuesIn(kFactories), FactoryName);
INSTANTIATE_TEST_SUITE_P(AllStores, SeriesStoreListTest, ::testing::ValuesIn(kFactories),
                         FactoryName);

}  // namespace
}  // namespace adoption
