// Out-of-process plugins (engine/isolation/) against the real
// adoption-fitter-host and real plugin files: the built fitters give the
// same results as in process; crashing, hanging, throwing and garbage
// plugins cost one fit; fake hosts (shell scripts) that send garbage or
// exit are contained too. No zombie processes, no leaked descriptors.
#include "engine/isolation/host_pool.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"

namespace adoption::isolation {
namespace {

using ::testing::HasSubstr;

const std::string kGood = ADOPTION_TEST_PLUGIN_DIR;
const std::string kBad = ADOPTION_TEST_BAD_PLUGIN_DIR;

IsolationOptions Options() {
  IsolationOptions o;
  o.host_path = ADOPTION_FITTER_HOST;
  o.kill_grace = absl::Milliseconds(200);
  o.call_timeout = absl::Seconds(5);
  o.startup_timeout = absl::Seconds(5);
  return o;
}

SeriesRecord Series(std::vector<double> values) {
  SeriesRecord s;
  s.id = "test";
  for (size_t i = 0; i < values.size(); ++i) s.points.push_back({double(i), values[i]});
  return s;
}

SeriesRecord Logistic(int n, double k, double r, double t0, double noise_seed) {
  std::mt19937 rng(static_cast<unsigned>(noise_seed));
  std::normal_distribution<double> noise(0, 0.01 * k);
  std::vector<double> v;
  double last = 0;
  for (int t = 0; t < n; ++t) {
    double y = std::round(k / (1 + std::exp(-r * (t - t0))) + noise(rng));
    last = std::max(last, std::max(0.0, y));
    v.push_back(last);
  }
  return Series(v);
}

// A directory holding copies of the given plugin files.
class PluginDir {
 public:
  explicit PluginDir(const std::vector<std::string>& files) {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/adoption-isolation-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
    for (const auto& f : files) {
      std::filesystem::copy_file(f, path_ + "/" + std::filesystem::path(f).filename().string());
    }
  }
  ~PluginDir() { std::filesystem::remove_all(path_); }
  PluginDir(const PluginDir&) = delete;
  PluginDir& operator=(const PluginDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

int OpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

// True if a child of this process had exited without being reaped (it is
// reaped now).
bool HadZombie() {
  int status;
  return waitpid(-1, &status, WNOHANG) > 0;
}

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0; }

TEST(IsolationTest, LoadsTheSameFittersAsInProcess) {
  FitterRegistry local, isolated;
  ASSERT_TRUE(local.LoadDirectory(kGood).ok());
  ASSERT_TRUE(LoadDirectoryIsolated(&isolated, kGood, Options()).ok());
  EXPECT_TRUE(isolated.rejected().empty());
  ASSERT_EQ(local.fitters().size(), isolated.fitters().size());
  for (const Fitter* f : local.fitters()) {
    const Fitter* g = isolated.Find(f->name());
    ASSERT_NE(g, nullptr) << f->name();
    EXPECT_TRUE(g->isolated());
    EXPECT_EQ(g->param_names(), f->param_names());
    EXPECT_EQ(g->forecast_baseline(), f->forecast_baseline());
    EXPECT_EQ(g->path(), f->path());
    EXPECT_STREQ(g->table().description, f->table().description);
    ASSERT_EQ(g->table().num_options, f->table().num_options);
    for (size_t i = 0; i < f->table().num_options; ++i) {
      EXPECT_STREQ(g->table().options[i].name, f->table().options[i].name);
      EXPECT_STREQ(g->table().options[i].default_value, f->table().options[i].default_value);
    }
    EXPECT_EQ(g->table().validate_options == nullptr, f->table().validate_options == nullptr);
    // ABI 1.1 declarations cross the process boundary too.
    EXPECT_EQ(g->forecast_reference(), f->forecast_reference());
    ASSERT_EQ(g->pooled_options().size(), f->pooled_options().size()) << f->name();
    for (size_t i = 0; i < f->pooled_options().size(); ++i) {
      EXPECT_EQ(g->pooled_options()[i].option, f->pooled_options()[i].option);
      EXPECT_EQ(g->pooled_options()[i].candidates, f->pooled_options()[i].candidates);
      EXPECT_EQ(g->pooled_options()[i].default_index, f->pooled_options()[i].default_index);
    }
  }
  EXPECT_NE(isolated.Find("citation")->pooled_option("m"), nullptr);
  EXPECT_TRUE(isolated.Find("naive")->forecast_reference());
  // The plugin in its host refuses pooling m with free_m, as in process.
  absl::Status free =
      isolated.Find("citation")
          ->ValidateOptions({{"m", "pooled"}, {"free_m", "true"}}, "fitter_options[citation]");
  EXPECT_THAT(std::string(free.message()), HasSubstr("free_m"));
}

TEST(IsolationTest, ResultsAreBitForBitThoseOfInProcessFits) {
  FitterRegistry local, isolated;
  ASSERT_TRUE(local.LoadDirectory(kGood).ok());
  ASSERT_TRUE(LoadDirectoryIsolated(&isolated, kGood, Options()).ok());
  const std::vector<SeriesRecord> series = {
      Logistic(20, 5000, 0.4, 8, 1), Logistic(14, 800, 0.7, 5, 2),
      Series({0, 0, 3, 9, 20, 41, 60, 71, 80, 84}), Series({0, 0, 0})};
  for (const Fitter* f : local.fitters()) {
    for (const FitterOptions& options : {FitterOptions{}, FitterOptions{{"loss", "poisson"}}}) {
      if (!options.empty() && !f->ValidateOptions(options, "options").ok()) continue;
      for (const auto& s : series) {
        for (bool status_only : {false, true}) {
          const std::vector<double> at = {double(s.points.size()), s.points.size() + 3.0};
          FitRun a = f->Run(s, options, FitBudget{}, at, status_only);
          FitRun b = isolated.Find(f->name())->Run(s, options, FitBudget{}, at, status_only);
          SCOPED_TRACE(f->name() + " n=" + std::to_string(s.points.size()));
          EXPECT_EQ(a.outcome.status, b.outcome.status) << b.outcome.message;
          EXPECT_EQ(a.outcome.message, b.outcome.message);
          ASSERT_EQ(a.outcome.params.size(), b.outcome.params.size());
          for (size_t i = 0; i < a.outcome.params.size(); ++i) {
            EXPECT_EQ(a.outcome.params[i].name, b.outcome.params[i].name);
            EXPECT_EQ(a.outcome.params[i].value, b.outcome.params[i].value);
            EXPECT_EQ(a.outcome.params[i].fixed, b.outcome.params[i].fixed);
            EXPECT_EQ(a.outcome.params[i].std_error, b.outcome.params[i].std_error);
          }
          EXPECT_EQ(a.outcome.covariance, b.outcome.covariance);
          EXPECT_EQ(a.outcome.covariance_note, b.outcome.covariance_note);
          EXPECT_EQ(a.outcome.loss_name, b.outcome.loss_name);
          EXPECT_EQ(a.outcome.loss, b.outcome.loss);
          EXPECT_EQ(a.outcome.n, b.outcome.n);
          EXPECT_EQ(a.outcome.k, b.outcome.k);
          EXPECT_EQ(a.outcome.iterations, b.outcome.iterations);
          EXPECT_EQ(a.outcome.derived, b.outcome.derived);
          EXPECT_EQ(a.outcome.cumulative_sse, b.outcome.cumulative_sse);
          EXPECT_EQ(a.outcome.forecast_baseline, b.outcome.forecast_baseline);
          EXPECT_EQ(a.predictions, b.predictions);
          EXPECT_EQ(a.predict_error, b.predict_error);
          if (IsUsable(a.outcome.status) && !status_only) {
            auto pa = f->Predict(a.outcome, options, s, {1.5, 30});
            auto pb = isolated.Find(f->name())->Predict(b.outcome, options, s, {1.5, 30});
            ASSERT_TRUE(pa.ok() && pb.ok()) << pb.status();
            EXPECT_EQ(*pa, *pb);
          }
        }
      }
    }
  }
  // Option validation goes to the plugin too, with the same answers.
  const Fitter* citation = isolated.Find("citation");
  absl::Status bad = citation->ValidateOptions({{"m", "-3"}}, "options");
  EXPECT_EQ(bad, local.Find("citation")->ValidateOptions({{"m", "-3"}}, "options"));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(citation->ValidateOptions({{"m", "100"}}, "options").ok());
  EXPECT_THAT(std::string(citation->ValidateOptions({{"nope", "1"}}, "options").message()),
              HasSubstr("has no option \"nope\""));
  EXPECT_FALSE(HadZombie());
}

TEST(IsolationTest, RefusalsAreTheInProcessOnes) {
  PluginDir dir({kBad + "/bad-wrong_abi.so", kBad + "/bad-no_entry.so"});
  std::ofstream(dir.File("not-a-library.so")) << "garbage";
  FitterRegistry local, isolated;
  ASSERT_TRUE(local.LoadDirectory(dir.path()).ok());
  ASSERT_TRUE(LoadDirectoryIsolated(&isolated, dir.path(), Options()).ok());
  EXPECT_TRUE(isolated.fitters().empty());
  ASSERT_EQ(isolated.rejected().size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(isolated.rejected()[i].path, local.rejected()[i].path);
    EXPECT_EQ(isolated.rejected()[i].reason, local.rejected()[i].reason);
  }
  EXPECT_FALSE(HadZombie());
}

TEST(IsolationTest, SegfaultCostsOneFit) {
  FitterRegistry registry;
  PluginDir dir({kBad + "/bad-segfault.so", kGood + "/adoption-fitter-naive.so"});
  ASSERT_TRUE(LoadDirectoryIsolated(&registry, dir.path(), Options()).ok());
  const Fitter* segfault = registry.Find("segfault");
  const Fitter* naive = registry.Find("naive");
  ASSERT_NE(segfault, nullptr);
  ASSERT_NE(naive, nullptr);
  // Warm up (pool at its steady size), then count descriptors.
  segfault->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
  const int fds = OpenFds();
  for (int i = 0; i < 20; ++i) {
    FitOutcome o = segfault->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
    EXPECT_EQ(o.status, FitStatus::kFailed);
    EXPECT_THAT(o.message, HasSubstr("plugin crashed: SIGSEGV"));
    EXPECT_TRUE(o.params.empty());
  }
  EXPECT_EQ(OpenFds(), fds);
  EXPECT_FALSE(HadZombie());
  // Predict works on a fresh host of the same plugin; the others are unaffected.
  FitOutcome fake;
  fake.status = FitStatus::kConverged;
  fake.params = {{"a", 1.0, false, std::nullopt}};
  auto p = segfault->Predict(fake, {}, Series({0, 1}), {3.0});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, std::vector<double>{0});
  EXPECT_TRUE(IsUsable(naive->Fit(Series({0, 1, 2, 3}), {}, FitBudget{}).status));
}

TEST(IsolationTest, SpinningFitIsKilledAfterItsDeadline) {
  FitterRegistry registry;
  PluginDir dir({kBad + "/bad-spin.so"});
  ASSERT_TRUE(LoadDirectoryIsolated(&registry, dir.path(), Options()).ok());
  const Fitter* spin = registry.Find("spin");
  ASSERT_NE(spin, nullptr);
  for (int i = 0; i < 2; ++i) {  // the second one runs on a respawned host
    FitBudget budget;
    budget.deadline = absl::Now() + absl::Milliseconds(300);
    const absl::Time start = absl::Now();
    FitOutcome o = spin->Fit(Series({0, 1, 2, 3}), {}, budget);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(o.status, FitStatus::kFailed);
    EXPECT_THAT(o.message, HasSubstr("did not return by the fit's deadline"));
    EXPECT_THAT(o.message, HasSubstr("SIGKILL"));
    EXPECT_GE(took, absl::Milliseconds(450));  // deadline + grace
    EXPECT_LT(took, absl::Seconds(3));
  }
  EXPECT_FALSE(HadZombie());
}

TEST(IsolationTest, CancellationKillsTheHostAtOnce) {
  FitterRegistry registry;
  PluginDir dir({kBad + "/bad-spin.so"});
  ASSERT_TRUE(LoadDirectoryIsolated(&registry, dir.path(), Options()).ok());
  std::atomic<bool> cancel{false};
  FitBudget budget;  // no deadline: only the cancellation can end it
  budget.interrupted = [&] { return cancel.load(); };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  const absl::Time start = absl::Now();
  FitOutcome o = registry.Find("spin")->Fit(Series({0, 1, 2}), {}, budget);
  canceller.join();
  EXPECT_EQ(o.status, FitStatus::kCancelled);
  EXPECT_THAT(o.message, HasSubstr("request cancelled during the fit"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(HadZombie());
}

TEST(IsolationTest, CooperativePluginsStopAtTheDeadlineAsInProcess) {
  FitterRegistry registry;
  PluginDir dir({kBad + "/bad-slow.so", kBad + "/bad-throwing.so", kBad + "/bad-garbage.so"});
  ASSERT_TRUE(LoadDirectoryIsolated(&registry, dir.path(), Options()).ok());
  FitBudget budget;
  budget.deadline = absl::Now() + absl::Milliseconds(100);
  FitOutcome slow = registry.Find("slow")->Fit(Series({0, 1, 2, 3}), {}, budget);
  EXPECT_EQ(slow.status, FitStatus::kCancelled);
  EXPECT_EQ(slow.message, "stopped by the host");
  FitOutcome thrown = registry.Find("throwing")->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
  EXPECT_EQ(thrown.status, FitStatus::kFailed);
  EXPECT_THAT(thrown.message, HasSubstr("plugin threw an exception: boom in fit"));
  FitOutcome nan_loss = registry.Find("garbage")->Fit(Series({0, 1, 2, 3}), {}, FitBudget{});
  EXPECT_EQ(nan_loss.status, FitStatus::kFailed);
  EXPECT_THAT(nan_loss.message, HasSubstr("invalid loss"));
}

// Fake hosts: shell scripts in place of adoption-fitter-host.
class FakeHostTest : public ::testing::Test {
 protected:
  // A host script whose body runs after it has sent a valid hello for a
  // fitter named "fake" (if hello is true).
  IsolationOptions Script(const std::string& body, bool hello = true) {
    wire::FromHost h;
    h.mutable_hello()->set_protocol_version(kProtocolVersion);
    wire::Descriptor& d = *h.mutable_hello()->mutable_plugin();
    d.set_abi_major(1);
    d.set_name("fake");
    wire::Descriptor::Param& a = *d.add_params();
    a.set_name("a");
    a.set_description("nothing");
    std::ofstream(dir_.File("hello.bin"), std::ios::binary) << *Frame(h);
    const std::string script = dir_.File("host.sh");
    std::ofstream(script) << "#!/bin/sh\n"
                          << (hello ? "cat '" + dir_.File("hello.bin") + "' >&3\n" : "") << body
                          << "\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    IsolationOptions o = Options();
    o.host_path = script;
    o.startup_timeout = absl::Milliseconds(500);
    return o;
  }
  const Fitter* Load(const IsolationOptions& o) {
    if (!LoadDirectoryIsolated(&registry_, plugins_.path(), o).ok()) return nullptr;
    return registry_.Find("fake");
  }

  PluginDir dir_{{}};
  PluginDir plugins_{{kGood + "/adoption-fitter-naive.so"}};  // any file: the fake ignores it
  FitterRegistry registry_;
};

TEST_F(FakeHostTest, GarbageHelloIsARefusal) {
  // A frame of 5 bytes that are no protobuf message.
  EXPECT_EQ(Load(Script("printf '\\005\\377\\377\\377\\377\\377' >&3; exec sleep 5", false)),
            nullptr);
  ASSERT_EQ(registry_.rejected().size(), 1u);
  EXPECT_THAT(registry_.rejected()[0].reason, HasSubstr("malformed hello"));
  EXPECT_FALSE(HadZombie());
}

TEST_F(FakeHostTest, HostThatNeverSaysHelloIsKilled) {
  const absl::Time start = absl::Now();
  EXPECT_EQ(Load(Script("exec sleep 30", false)), nullptr);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  ASSERT_EQ(registry_.rejected().size(), 1u);
  EXPECT_THAT(registry_.rejected()[0].reason, HasSubstr("did not load within"));
  EXPECT_FALSE(HadZombie());
}

TEST_F(FakeHostTest, HostExitingWhileLoadingIsARefusal) {
  EXPECT_EQ(Load(Script("exit 3", false)), nullptr);
  ASSERT_EQ(registry_.rejected().size(), 1u);
  EXPECT_THAT(registry_.rejected()[0].reason, HasSubstr("fitter host exited with status 3"));
}

TEST_F(FakeHostTest, GarbageReplyFailsTheFit) {
  const Fitter* fake =
      Load(Script("head -c 4 <&3 >/dev/null; printf '\\003xyz' >&3; exec sleep 30"));
  ASSERT_NE(fake, nullptr);
  const absl::Time start = absl::Now();
  FitOutcome o = fake->Fit(Series({0, 1, 2}), {}, FitBudget{});
  EXPECT_EQ(o.status, FitStatus::kFailed);
  EXPECT_THAT(o.message, HasSubstr("malformed reply"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));  // killed, not waited for
  EXPECT_FALSE(HadZombie());
}

TEST_F(FakeHostTest, BadFrameLengthFailsTheFit) {
  const Fitter* fake = Load(
      Script("head -c 4 <&3 >/dev/null; printf '\\377\\377\\377\\377\\017' >&3; exec sleep 30"));
  ASSERT_NE(fake, nullptr);
  FitOutcome o = fake->Fit(Series({0, 1, 2}), {}, FitBudget{});
  EXPECT_EQ(o.status, FitStatus::kFailed);
  EXPECT_THAT(o.message, HasSubstr("malformed frame"));
}

TEST_F(FakeHostTest, HostExitingDuringAFitFailsIt) {
  const Fitter* fake = Load(Script("head -c 4 <&3 >/dev/null; exit 7"));
  ASSERT_NE(fake, nullptr);
  FitOutcome o = fake->Fit(Series({0, 1, 2}), {}, FitBudget{});
  EXPECT_EQ(o.status, FitStatus::kFailed);
  EXPECT_THAT(o.message, HasSubstr("fitter host exited with status 7"));
  // Predict and validate fail the same way, with the reason.
  FitOutcome fake_fit;
  fake_fit.status = FitStatus::kConverged;
  fake_fit.params = {{"a", 1.0, false, std::nullopt}};
  auto p = fake->Predict(fake_fit, {}, Series({0, 1}), {3.0});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("exited with status 7"));
  EXPECT_FALSE(HadZombie());
}

TEST_F(FakeHostTest, InconsistentResultIsRefused) {
  // A well-formed reply claiming a usable fit with a NaN parameter.
  FitRun run;
  run.outcome.fitter = "fake";
  run.outcome.status = FitStatus::kConverged;
  run.outcome.loss_name = "sse_cumulative";
  run.outcome.n = 3;
  run.outcome.params = {{"a", std::nan(""), false, std::nullopt}};
  wire::FromHost reply;
  ToWire(run, reply.mutable_fit());
  std::ofstream(dir_.File("reply.bin"), std::ios::binary) << *Frame(reply);
  const Fitter* fake = Load(
      Script("head -c 4 <&3 >/dev/null; cat '" + dir_.File("reply.bin") + "' >&3; exec sleep 30"));
  ASSERT_NE(fake, nullptr);
  FitOutcome o = fake->Fit(Series({0, 1, 2}), {}, FitBudget{});
  EXPECT_EQ(o.status, FitStatus::kFailed);
  EXPECT_THAT(o.message, HasSubstr("non-finite parameter"));
}

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// What the host reads from a stream holding bytes.
absl::Status ReadFrom(const std::string& bytes, wire::ToHost* m) {
  google::protobuf::io::ArrayInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  return ReadMessage(&in, m);
}

TEST(HostProtocolTest, DoublesCrossBitExact) {
  FitRun run;
  run.outcome.fitter = "f";
  run.outcome.status = FitStatus::kConverged;
  const std::vector<double> odd = {-0.0, std::nan("0x5"), std::numeric_limits<double>::denorm_min(),
                                   -std::numeric_limits<double>::infinity(), 0.1 + 0.2};
  for (double d : odd) run.outcome.params.push_back({"p", d, false, d});
  run.outcome.covariance = odd;
  run.outcome.loss = -0.0;
  run.outcome.cumulative_sse = -0.0;
  run.outcome.derived = {{"d", odd[1]}};
  run.predictions = odd;
  wire::FromHost m;
  ToWire(run, m.mutable_fit());
  absl::StatusOr<std::string> frame = Frame(m);
  ASSERT_TRUE(frame.ok());
  size_t prefix = 0;
  uint32_t size = 0;
  ASSERT_TRUE(ParseFramePrefix(*frame, &prefix, &size).ok());
  ASSERT_EQ(prefix + size, frame->size());
  wire::FromHost back;
  ASSERT_TRUE(ParseFromHost(frame->substr(prefix), wire::FromHost::kFit, &back).ok());
  FitRun got;
  ASSERT_TRUE(FromWire(back.fit(), &got).ok());
  ASSERT_EQ(got.outcome.params.size(), odd.size());
  for (size_t i = 0; i < odd.size(); ++i) {
    EXPECT_EQ(Bits(got.outcome.params[i].value), Bits(odd[i])) << i;
    EXPECT_EQ(Bits(*got.outcome.params[i].std_error), Bits(odd[i])) << i;
    EXPECT_EQ(Bits(got.outcome.covariance[i]), Bits(odd[i])) << i;
    EXPECT_EQ(Bits(got.predictions[i]), Bits(odd[i])) << i;
  }
  EXPECT_EQ(Bits(got.outcome.loss), Bits(-0.0));
  ASSERT_TRUE(got.outcome.cumulative_sse.has_value());
  EXPECT_EQ(Bits(*got.outcome.cumulative_sse), Bits(-0.0));
  EXPECT_EQ(Bits(got.outcome.derived.at(0).second), Bits(odd[1]));
  // A reply of another kind than expected is refused.
  EXPECT_FALSE(ParseFromHost(frame->substr(prefix), wire::FromHost::kPredict, &back).ok());
}

TEST(HostProtocolTest, BrokenFramesNeverDecode) {
  wire::ToHost req;
  ToWire(std::vector<SeriesPoint>{{0, 1}, {1, 2}}, req.mutable_fit()->mutable_history());
  ToWire(FitterOptions{{"m", "100"}}, req.mutable_fit()->mutable_options());
  req.mutable_fit()->add_predict_at(3);
  const std::string good = *Frame(req);
  wire::ToHost back;
  ASSERT_TRUE(ReadFrom(good, &back).ok());
  std::vector<SeriesPoint> points;
  ASSERT_TRUE(FromWire(back.fit().history(), &points).ok());
  EXPECT_EQ(points, (std::vector<SeriesPoint>{{0, 1}, {1, 2}}));
  EXPECT_EQ(FromWire(back.fit().options()), (FitterOptions{{"m", "100"}}));
  // Every truncation fails, and only the empty stream is a clean end.
  for (size_t cut = 0; cut < good.size(); ++cut) {
    absl::Status s = ReadFrom(good.substr(0, cut), &back);
    EXPECT_FALSE(s.ok()) << cut;
    EXPECT_EQ(absl::IsNotFound(s), cut == 0) << cut;
    size_t prefix = 0;
    uint32_t size = 0;
    ASSERT_TRUE(ParseFramePrefix(good.substr(0, cut), &prefix, &size).ok());
    EXPECT_TRUE(prefix == 0 || prefix + size > cut) << cut;
  }
  // A size over the limit, or no varint, is refused before allocating.
  const std::string huge("\xff\xff\xff\xff\x0f", 5);
  EXPECT_EQ(ReadFrom(huge, &back).code(), absl::StatusCode::kInvalidArgument);
  size_t prefix = 0;
  uint32_t size = 0;
  EXPECT_FALSE(ParseFramePrefix(huge, &prefix, &size).ok());
  EXPECT_FALSE(ParseFramePrefix(std::string(6, '\xff'), &prefix, &size).ok());
  // Series whose times and values differ in number are refused.
  wire::Points uneven;
  uneven.add_t(1);
  EXPECT_FALSE(FromWire(uneven, &points).ok());
  // Random bytes never crash a decoder.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)ReadFrom(junk, &back);
    wire::FromHost m;
    for (auto kind : {wire::FromHost::kHello, wire::FromHost::kFit, wire::FromHost::kPredict,
                      wire::FromHost::kValidate}) {
      if (!ParseFromHost(junk, kind, &m).ok()) continue;
      FitRun r;
      absl::StatusOr<std::vector<double>> p;
      absl::Status v;
      (void)FromWire(m.fit(), &r);
      (void)FromWire(m.predict(), &p);
      (void)FromWire(m.validate(), &v);
    }
  }
}

TEST(IsolationTest, HostsDieWithTheirPool) {
  std::vector<pid_t> pids;
  {
    FitterRegistry registry;
    PluginDir dir({kBad + "/bad-spin.so"});
    ASSERT_TRUE(LoadDirectoryIsolated(&registry, dir.path(), Options()).ok());
    // Find the host: our only child running adoption-fitter-host.
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      std::ifstream stat(e.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) continue;
      const size_t close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state;
      pid_t ppid;
      rest >> state >> ppid;
      if (ppid == getpid()) pids.push_back(std::stoi(e.path().filename().string()));
    }
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_TRUE(ProcessExists(pids[0]));
  }
  EXPECT_FALSE(ProcessExists(pids[0]));  // killed and reaped by the pool
}

}  // namespace
}  // namespace adoption::isolation
