#include "tests/support/test_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>

#include "gtest/gtest.h"
#include "tests/support/sanitizers.h"

namespace adoption::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A sanitizer report in a child's stderr fails the current test, whatever
// the child's exit code (see sanitizers.h).
void ExpectNoSanitizerReport(const std::string& who, const std::string& err) {
  const std::string report = SanitizerReport(err);
  if (!report.empty()) ADD_FAILURE() << who << " printed a sanitizer report:\n" << report;
}

// Waits for pid up to timeout; returns the decoded exit status or -1.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > end) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    // Signals blocked by the test runner must not be inherited.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

HealthResult CheckHealth(const std::string& address, const std::string& service,
                         std::chrono::milliseconds timeout) {
  // grpc.health.v1 messages by hand (field 1 in both), so the tests need no
  // generated health stubs: HealthCheckRequest{string service = 1},
  // HealthCheckResponse{ServingStatus status = 1}.
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0a);
    size_t n = service.size();  // varint length
    while (n >= 0x80) {
      request.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    request.push_back(static_cast<char>(n));
    request += service;
  }
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1), resp;
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  // A blocking call on this thread, as generated sync stubs make (gRPC's
  // callback API would answer on its own thread, through hand-offs that
  // ThreadSanitizer cannot see in the uninstrumented library).
  const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  HealthResult r;
  r.status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel.get(), method, &ctx, req, &resp);
  if (!r.status.ok()) return r;
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (resp.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  // The response's only field: 08 <status>; empty means UNKNOWN (0).
  r.serving_status =
      bytes.size() >= 2 && bytes[0] == 0x08 ? static_cast<unsigned char>(bytes[1]) : 0;
  return r;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/adoption-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_s) {
  TempDir dir;
  CommandResult r;
  pid_t pid = Spawn(argv, dir.File("out"), dir.File("err"));
  r.exit_code = WaitFor(pid, Scaled(std::chrono::seconds(timeout_s)));
  if (r.exit_code == -2) {
    kill(pid, SIGKILL);
    WaitFor(pid, std::chrono::seconds(5));
    r.exit_code = 128 + SIGKILL;
  }
  r.out = ReadFile(dir.File("out"));
  r.err = ReadFile(dir.File("err"));
  ExpectNoSanitizerReport(argv[0], r.err);
  return r;
}

ServerProcess::ServerProcess(Options options) : options_(std::move(options)) {}

ServerProcess::~ServerProcess() {
  // Gracefully, so that a sanitized server runs its exit-time checks
  // (LeakSanitizer) and any report fails the test.
  if (pid_ > 0) Stop();
}

bool ServerProcess::Start() {
  const std::string ready = dir_.File("ready");
  std::vector<std::string> argv = {
      options_.binary, "--listen",          "127.0.0.1:0",  "--db", options_.db,
      "--plugins",     options_.plugin_dir, "--ready-file", ready};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::remove(ready.c_str());
  pid_ = Spawn(argv, dir_.File("stdout"), dir_.File("stderr"));
  const auto end = std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  while (std::chrono::steady_clock::now() < end) {
    // The file appears complete (written then renamed): the gRPC address,
    // then the metrics address when enabled, one per line.
    std::string content = ReadFile(ready);
    if (!content.empty() && content.back() == '\n') {
      std::istringstream lines(content);
      std::getline(lines, address_);
      std::getline(lines, metrics_address_);
      return true;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ExpectNoSanitizerReport("adoptiond", log());
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = WaitFor(pid_, Scaled(std::chrono::seconds(20)));
  if (code == -2) {
    kill(pid_, SIGKILL);
    code = WaitFor(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
  ExpectNoSanitizerReport("adoptiond", log());
  return code;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  int code = WaitFor(pid_, timeout);
  if (code != -2) pid_ = -1;
  return code;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  WaitFor(pid_, std::chrono::seconds(5));
  pid_ = -1;
  ExpectNoSanitizerReport("adoptiond", log());
}

std::string ServerProcess::log() const { return ReadFile(dir_.File("stderr")); }

std::unique_ptr<adoption::v1::AdoptionService::Stub> ServerProcess::NewStub() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(512 * 1024 * 1024);
  return adoption::v1::AdoptionService::NewStub(
      grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args));
}

}  // namespace adoption::testing
