// Hardening (issue 18): each test replays an attack from the adversarial
// probe against a real adoptiond and checks the server's answer: port
// sharing, compressed and unauthenticated bodies, log forging, unchecked
// names and numbers, page tokens across filters, CSV formula injection.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/metrics_scrape.h"
#include "tests/support/test_process.h"

namespace adoption {
namespace {

using ::adoption::testing::CommandResult;
using ::adoption::testing::RunCommand;
using ::adoption::testing::Scaled;
using ::adoption::testing::Scrape;
using ::adoption::testing::ServerProcess;
using ::adoption::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// A second adoptiond on a port another one serves (with another database)
// must not start: with SO_REUSEPORT the kernel would split new connections
// between the two and clients would see two different stores at random.
TEST(PortReuseTest, SecondServerOnTheSamePortRefusesToStart) {
  TempDir dir;
  ServerProcess first(
      {ADOPTIOND, dir.File("a.db"), ADOPTION_TEST_PLUGIN_DIR, {"--metrics-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(first.Start()) << first.log();

  CommandResult second = RunCommand({ADOPTIOND, "--listen", first.address(), "--db",
                                     dir.File("b.db"), "--plugins", ADOPTION_TEST_PLUGIN_DIR},
                                    /*timeout_s=*/20);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_THAT(second.err, HasSubstr("event=listen_failed address=" + first.address()));
  EXPECT_THAT(second.err, HasSubstr("Address already in use"));
  EXPECT_THAT(second.err, Not(HasSubstr("event=serving")));

  // The metrics port is not shared either.
  CommandResult third =
      RunCommand({ADOPTIOND, "--listen", "127.0.0.1:0", "--db", dir.File("c.db"), "--plugins",
                  ADOPTION_TEST_PLUGIN_DIR, "--metrics-listen", first.metrics_address()},
                 /*timeout_s=*/20);
  EXPECT_EQ(third.exit_code, 1) << third.err;
  EXPECT_THAT(third.err, HasSubstr("event=metrics_listen_failed address=" +
                                   first.metrics_address() + " reason=\"Address already in use"));
  EXPECT_THAT(third.err, Not(HasSubstr("event=serving")));

  // The first server still answers, alone.
  EXPECT_THAT(Scrape(first.metrics_address()), HasSubstr("adoption_rpc_in_flight"));
  EXPECT_EQ(first.Stop(), 0);
}

}  // namespace
}  // namespace adoption
