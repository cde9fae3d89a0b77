// adoptctl as a process, for what needs no server: usage errors (exit 2),
// help (exit 0), CSV files refused before connecting (exit 1, nothing sent),
// and an unreachable server (exit 1, UNAVAILABLE).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/sanitizers.h"

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class AdoptctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("adoptctl_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  // Runs adoptctl with `args` (no shell quoting needed: arguments are
  // passed through a fork/exec), ADOPTION_SERVER set to `server_env` (unset
  // when empty).
  Result Run(const std::vector<std::string>& args, const std::string& server_env = "") {
    const std::string out = (dir_ / "stdout").string();
    const std::string err = (dir_ / "stderr").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (server_env.empty()) {
        ::unsetenv("ADOPTION_SERVER");
      } else {
        ::setenv("ADOPTION_SERVER", server_env.c_str(), 1);
      }
      if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) {
        ::_exit(127);
      }
      std::vector<char*> argv = {const_cast<char*>(ADOPTCTL)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(ADOPTCTL, argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    // Sanitizer builds: a report fails the test even when the exit code is
    // the expected one.
    EXPECT_EQ(adoption::testing::SanitizerReport(r.err), "") << ::testing::PrintToString(args);
    return r;
  }

  std::filesystem::path dir_;
};

TEST_F(AdoptctlTest, HelpExitsZero) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--help"},
                                               {"compare", "--help"},
                                               {"load-csv", "--help"},
                                               {"forecast", "--help"}}) {
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Usage:"));
  }
  EXPECT_THAT(Run({"--help"}).out, HasSubstr("127.0.0.1:50051"));
}

TEST_F(AdoptctlTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},                                         // no command
      {"frobnicate"},                             // unknown command
      {"compare"},                                // no selection
      {"compare", "--all", "--series", "a"},      // two selections
      {"compare", "--filter", "company"},         // not key=value
      {"compare", "--all", "--option", "m=100"},  // not fitter.key=value
      {"compare", "--all", "--criterion", "aic"},
      {"compare", "--all", "--format", "xml"},
      {"fit", "--series", "a"},  // --fitter missing
      {"forecast", "--series", "a", "--fitter", "naive", "--horizon", "0"},
      {"forecast", "--series", "a", "--fitter", "naive", "--horizon", "1", "--level", "0"},
      {"forecast", "--series", "a", "--fitter", "naive", "--horizon", "1", "--level", "1"},
      {"forecast", "--series", "a", "--fitter", "naive", "--horizon", "1", "--level", "95"},
      {"compare", "--all", "--loss", "gauss"},
      {"fitters", "--format", "csv"},
      {"--timeout", "-1", "fitters"},
      {"load-csv", "/no/such/file.csv"},
      {"list", "--filter", "a=1", "--filter", "a=2"},  // key given twice
      {"compare", "--all", "--option", "citation.m=1", "--option", "citation.m=2"},
      {"compare", "--all", "--horizons", "0"},
      {"compare", "--all", "--horizons", "7,61"},
      {"compare", "--all", "--horizons", "7", "--no-cv"},
      {"load-csv", "--kind", "daily", ADOPTCTL},
      {"snapshot"},  // no --model or --author
  };
  for (const auto& args : cases) {
    Result r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.err;
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_THAT(r.err, ::testing::Not(IsEmpty()));
  }
}

TEST_F(AdoptctlTest, MalformedCsvIsRefusedBeforeConnecting) {
  const std::string header = "model,0-month,1-month\n";
  const std::string good = Write("good.csv", header + "a,0,1\n");
  const std::string bad = Write("bad.csv", header + "b,0,1\nc,5,2\n");
  // No server at this address: the refusal must come before any call.
  Result r = Run({"--server", "127.0.0.1:1", "load-csv", good, bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: INVALID_ARGUMENT: " + bad +
                               ":3: 1-month: cumulative count decreases (2 after 5)"));
  EXPECT_THAT(r.err, HasSubstr("nothing was stored"));
  EXPECT_THAT(r.out, IsEmpty());

  const std::string dup = Write("dup.csv", header + "a,0,2\n");
  r = Run({"--server", "127.0.0.1:1", "load-csv", good, dup});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dup + ":2: model: id \"a\" is also in " + good + ":2"));
}

TEST_F(AdoptctlTest, UnreachableServerExitsOne) {
  Result r = Run({"--server", "127.0.0.1:1", "--timeout", "5", "fitters"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: UNAVAILABLE: "));
  EXPECT_THAT(r.err, HasSubstr("hint: is adoptiond running at 127.0.0.1:1?"));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(AdoptctlTest, AdoptionServerIsTheDefaultAddress) {
  Result r = Run({"--timeout", "5", "fitters"}, "127.0.0.1:2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("hint: is adoptiond running at 127.0.0.1:2?"));
  // --server wins over the environment.
  r = Run({"--server", "127.0.0.1:1", "--timeout", "5", "fitters"}, "127.0.0.1:2");
  EXPECT_THAT(r.err, HasSubstr("hint: is adoptiond running at 127.0.0.1:1?"));
}

TEST_F(AdoptctlTest, TokenFileWithLineBreakInsideIsRefused) {
  const std::string token = Write("token", "abc\ndef\n");
  Result r = Run({"--server", "127.0.0.1:1", "--token-file", token, "fitters"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: INVALID_ARGUMENT: token: must be printable ASCII"));
}

}  // namespace
