// Real processes for integration tests: a temporary directory, a child
// process (adoptiond, adoptctl) run with arguments, and an adoptiond started
// on a free loopback port. Everything started is stopped by the destructors.
// Every timeout here is scaled by ADOPTION_TEST_TIME_SCALE, and a sanitizer
// report in a child's stderr fails the running test (see sanitizers.h).
#ifndef ADOPTION_TESTS_SUPPORT_TEST_PROCESS_H_
#define ADOPTION_TESTS_SUPPORT_TEST_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "adoption/v1/adoption.grpc.pb.h"
#include "tests/support/sanitizers.h"

namespace adoption::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Output of a finished command.
struct CommandResult {
  int exit_code = -1;  // or 128 + signal
  std::string out;
  std::string err;
};

// grpc.health.v1.Health/Check of `service` ("" for the whole server) at
// address, over a channel of its own (closed on return).
struct HealthResult {
  grpc::Status status;  // of the call
  // When status is OK: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN.
  int serving_status = -1;
};
HealthResult CheckHealth(const std::string& address, const std::string& service,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
constexpr int kServing = 1;
constexpr int kNotServing = 2;

// Runs argv[0] with argv, waits for it (killing it after timeout_s) and
// returns its exit code and output.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_s = 300);

// adoptiond started on 127.0.0.1 with a free port (--listen :0 and
// --ready-file), stopped with SIGTERM (then SIGKILL) by the destructor. Its
// stderr is checked for sanitizer reports whenever it stops.
class ServerProcess {
 public:
  struct Options {
    std::string binary;      // path of adoptiond
    std::string db;          // --db
    std::string plugin_dir;  // --plugins
    std::vector<std::string> extra_args;
  };
  explicit ServerProcess(Options options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the process and waits (up to 30 s, scaled) until it serves.
  // Returns false (with the log in error()) if it did not come up.
  bool Start();
  // SIGTERM and wait; returns the exit code.
  int Stop();
  // Sends sig to the process without waiting.
  void Signal(int sig);
  // Waits up to timeout for the process to exit: its exit code (128 +
  // signal when killed), or -2 if it is still running.
  int WaitExit(std::chrono::milliseconds timeout);
  // SIGKILL and wait.
  void Kill();

  const std::string& address() const { return address_; }
  // host:port of the metrics endpoint when started with --metrics-listen.
  const std::string& metrics_address() const { return metrics_address_; }
  std::string log() const;  // the server's stderr so far
  std::unique_ptr<adoption::v1::AdoptionService::Stub> NewStub() const;
  pid_t pid() const { return pid_; }

 private:
  Options options_;
  TempDir dir_;
  pid_t pid_ = -1;
  std::string address_;
  std::string metrics_address_;
};

}  // namespace adoption::testing

#endif  // ADOPTION_TESTS_SUPPORT_TEST_PROCESS_H_
