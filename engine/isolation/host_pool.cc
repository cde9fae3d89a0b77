#include "engine/isolation/host_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

extern char** environ;

namespace adoption::isolation {
namespace {

// How often a wait checks FitBudget::interrupted.
constexpr absl::Duration kPollTick = absl::Milliseconds(20);

std::string SignalName(int sig) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* abbrev = sigabbrev_np(sig)) return absl::StrCat("SIG", abbrev);
#endif
  return absl::StrCat("signal ", sig);
}

// How a reaped host ended, as a fit's failure reason.
std::string DeathReason(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGKILL) return "fitter host was killed (SIGKILL)";
    return absl::StrCat("plugin crashed: ", SignalName(sig));
  }
  if (WIFEXITED(status)) {
    return absl::StrCat("fitter host exited with status ", WEXITSTATUS(status));
  }
  return "fitter host ended";
}

// Milliseconds until t for poll(): at least 1 (0 would spin), at most tick.
int PollMillis(absl::Time t) {
  const absl::Duration left = std::min(t - absl::Now(), kPollTick);
  return std::max<int>(
      1, static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)))));
}

// Descriptor function pointers of an isolated plugin's copy: never called
// (Fitter sends every call to the backend), but a table needs them set.
void NeverFit(const adoption_series_v1*, const adoption_option_v1*, size_t,
              const adoption_budget_v1*, adoption_fit_result_v1* r) {
  r->status = ADOPTION_FIT_FAILED;
  std::snprintf(r->message, sizeof r->message, "isolated plugin called in-process");
}
int NeverPredict(const double*, size_t, const adoption_option_v1*, size_t,
                 const adoption_series_v1*, const double*, size_t, double*, char* error,
                 size_t error_len) {
  std::snprintf(error, error_len, "isolated plugin called in-process");
  return 1;
}
int NeverValidate(const adoption_option_v1*, size_t, char* error, size_t error_len) {
  std::snprintf(error, error_len, "isolated plugin called in-process");
  return 1;
}

bool AllFinite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
}

// A fit reply a healthy host could have sent for this request. (The plugin
// runs in the host's address space and may have scribbled over it.)
absl::Status CheckFitRun(const FitRun& run, const Fitter& fitter, size_t points,
                         const std::vector<double>& predict_at, bool status_only) {
  const FitOutcome& o = run.outcome;
  const size_t np = fitter.table().num_params;
  if (o.fitter != fitter.name()) {
    return absl::InternalError(absl::StrCat("reply names fitter \"", o.fitter, "\""));
  }
  if (!std::isfinite(o.seconds) || o.seconds < 0) return absl::InternalError("bad fit time");
  if (!IsUsable(o.status)) {
    if (!run.predictions.empty()) return absl::InternalError("predictions of an unusable fit");
    return absl::OkStatus();
  }
  if (!(std::isfinite(o.loss) && o.loss >= 0) || o.n < 1 || static_cast<size_t>(o.n) > points ||
      o.k < 0 || static_cast<size_t>(o.k) > np) {
    return absl::InternalError("inconsistent loss, n or k");
  }
  if (!status_only) {
    if (o.params.size() != np) return absl::InternalError("wrong number of parameters");
    for (const auto& p : o.params) {
      if (!std::isfinite(p.value) || (p.std_error && !std::isfinite(*p.std_error))) {
        return absl::InternalError("non-finite parameter");
      }
    }
    if (!o.covariance.empty() && (o.covariance.size() != np * np || !AllFinite(o.covariance))) {
      return absl::InternalError("bad covariance");
    }
  }
  if (o.cumulative_sse && !std::isfinite(*o.cumulative_sse)) {
    return absl::InternalError("non-finite cumulative SSE");
  }
  if (!run.predictions.empty() &&
      (run.predictions.size() != predict_at.size() || !AllFinite(run.predictions))) {
    return absl::InternalError("bad predictions");
  }
  if (!predict_at.empty() && run.predictions.empty() && run.predict_error.empty()) {
    return absl::InternalError("neither predictions nor a reason");
  }
  return absl::OkStatus();
}

}  // namespace

std::string DefaultHostPath() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "adoption-fitter-host";
  return (exe.parent_path() / "adoption-fitter-host").string();
}

// ---------------------------------------------------------------------------
// HostProcess

absl::StatusOr<std::unique_ptr<HostProcess>> HostProcess::Spawn(const IsolationOptions& options,
                                                                const std::string& plugin_path,
                                                                wire::Hello* hello) {
  // The channel (a socketpair) and the lifeline (a pipe whose write end
  // only this process holds: the host exits when it reads end-of-file, i.e.
  // when we close it or die). All close-on-exec, so no other host inherits
  // them.
  int sv[2], life[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::UnavailableError(absl::StrCat("socketpair: ", std::strerror(errno)));
  }
  if (pipe2(life, O_CLOEXEC) != 0) {
    close(sv[0]);
    close(sv[1]);
    return absl::UnavailableError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  // The host's ends, above stdio whatever this process has open, so that
  // the dup2s to 3 and 4 below are never no-ops that would leave them
  // close-on-exec.
  const int child_end = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
  const int child_life = fcntl(life[0], F_DUPFD_CLOEXEC, 10);
  close(sv[1]);
  close(life[0]);
  if (child_end < 0 || child_life < 0) {
    const int err = errno;
    for (int fd : {sv[0], life[1], child_end, child_life}) {
      if (fd >= 0) close(fd);
    }
    return absl::UnavailableError(absl::StrCat("fcntl: ", std::strerror(err)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end, 3);
  posix_spawn_file_actions_adddup2(&actions, child_life, 4);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);  // plugin output -> our log
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // adoptiond blocks SIGTERM/SIGINT in every thread: not the host. Its own
  // process group keeps a terminal's Ctrl-C for adoptiond, which stops its
  // hosts itself.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = {options.host_path, "--plugin", plugin_path, "--fd", "3",
                                   "--lifeline",      "4"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, options.host_path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(child_end);
  close(child_life);
  if (rc != 0) {
    close(sv[0]);
    close(life[1]);
    return absl::UnavailableError(
        absl::StrCat("cannot start fitter host ", options.host_path, ": ", std::strerror(rc)));
  }
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  std::unique_ptr<HostProcess> host(new HostProcess(pid, sv[0], life[1]));

  std::string payload, error;
  switch (host->ReadFrame(absl::Now() + options.startup_timeout, {}, &payload, &error)) {
    case Wait::kOk:
      break;
    case Wait::kTimedOut:
      host->Terminate();
      return absl::DeadlineExceededError(absl::StrCat("plugin did not load within ",
                                                      absl::FormatDuration(options.startup_timeout),
                                                      ": fitter host killed"));
    case Wait::kEof:
    case Wait::kInterrupted: {
      std::string how = host->Terminate();
      return absl::FailedPreconditionError(absl::StrCat(how, " (while loading the plugin)"));
    }
    case Wait::kError: {
      std::string how = host->Terminate();
      return absl::FailedPreconditionError(absl::StrCat(error, "; ", how));
    }
  }
  wire::FromHost m;
  if (absl::Status s = ParseFromHost(payload, wire::FromHost::kHello, &m); !s.ok()) {
    host->Terminate();
    return absl::FailedPreconditionError(
        absl::StrCat("fitter host sent a malformed hello (", s.message(), "): killed"));
  }
  if (m.hello().protocol_version() != kProtocolVersion) {
    host->Terminate();
    return absl::FailedPreconditionError(
        absl::StrCat("fitter host speaks protocol ", m.hello().protocol_version(), ", expected ",
                     kProtocolVersion, " (", options.host_path, " is from another build)"));
  }
  *hello = std::move(*m.mutable_hello());
  return host;
}

HostProcess::~HostProcess() { Terminate(); }

std::string HostProcess::Terminate() {
  if (pid_ <= 0) return "fitter host already gone";
  // SIGKILL does not change the exit status of a host already dying (of a
  // segfault, say): waitpid still reports that.
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  close(fd_);
  close(lifeline_);
  fd_ = -1;
  lifeline_ = -1;
  pid_ = -1;
  return r < 0 ? "fitter host ended" : DeathReason(status);
}

HostProcess::Wait HostProcess::WriteFrame(std::string_view frame, absl::Time kill_at,
                                          std::string* error) {
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t w =
        send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w >= 0) {
      done += static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return Wait::kEof;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = absl::StrCat("write to fitter host: ", std::strerror(errno));
      return Wait::kError;
    }
    if (absl::Now() >= kill_at) return Wait::kTimedOut;
    pollfd p{fd_, POLLOUT, 0};
    poll(&p, 1, PollMillis(kill_at));
  }
  return Wait::kOk;
}

HostProcess::Wait HostProcess::ReadFrame(absl::Time kill_at,
                                         const std::function<bool()>& interrupted,
                                         std::string* payload, std::string* error) {
  // The frame so far; until its size prefix is complete, read no more than
  // a prefix can be, so as not to read past a short frame.
  std::string& frame = *payload;
  frame.clear();
  size_t prefix = 0;
  uint32_t length = 0;
  char buf[64 * 1024];
  // interrupted() may be costly (a gRPC ServerContext::IsCancelled polls the
  // completion queue): ask it once per tick, not on every wake-up, so most
  // fits (well under a tick) never do.
  absl::Time next_check = absl::Now() + kPollTick;
  while (true) {
    if (prefix == 0) {
      if (absl::Status s = ParseFramePrefix(frame, &prefix, &length); !s.ok()) {
        *error = absl::StrCat("fitter host sent a malformed frame (", s.message(), ")");
        return Wait::kError;
      }
      if (prefix > 0) frame.reserve(prefix + std::min<uint32_t>(length, 1u << 20));
    }
    if (prefix > 0 && frame.size() >= prefix + length) {
      if (frame.size() > prefix + length) {
        *error = "fitter host sent bytes after its message";
        return Wait::kError;
      }
      frame.erase(0, prefix);
      return Wait::kOk;
    }
    const size_t want = prefix > 0 ? std::min(sizeof buf, prefix + length - frame.size())
                                   : kMaxFramePrefixBytes - frame.size();
    const ssize_t r = read(fd_, buf, want);
    if (r > 0) {
      frame.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0) return Wait::kEof;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return Wait::kEof;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = absl::StrCat("read from fitter host: ", std::strerror(errno));
      return Wait::kError;
    }
    const absl::Time now = absl::Now();
    if (now >= kill_at) return Wait::kTimedOut;
    if (interrupted && now >= next_check) {
      if (interrupted()) return Wait::kInterrupted;
      next_check = now + kPollTick;
    }
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, PollMillis(kill_at));
  }
}

HostProcess::Reply HostProcess::Call(const wire::ToHost& request, absl::Time kill_at,
                                     const std::function<bool()>& interrupted) {
  Reply reply;
  if (pid_ <= 0) {
    reply.reason = "fitter host already gone";
    return reply;
  }
  std::string error;
  absl::StatusOr<std::string> frame = Frame(request);
  Wait w = Wait::kError;
  if (!frame.ok()) {
    error = "request too large for the fitter host";
  } else {
    w = WriteFrame(*frame, kill_at, &error);
  }
  if (w == Wait::kOk) w = ReadFrame(kill_at, interrupted, &reply.payload, &error);
  switch (w) {
    case Wait::kOk:
      reply.kind = Reply::kOk;
      return reply;
    case Wait::kEof:
      reply.reason = Terminate();
      break;
    case Wait::kTimedOut:
      Terminate();
      reply.kind = Reply::kTimedOut;
      reply.reason = "fitter host killed (SIGKILL)";
      break;
    case Wait::kInterrupted:
      Terminate();
      reply.kind = Reply::kInterrupted;
      reply.reason = "fitter host killed (SIGKILL)";
      break;
    case Wait::kError:
      Terminate();
      reply.reason = absl::StrCat(error, ": fitter host killed");
      break;
  }
  reply.payload.clear();
  return reply;
}

// ---------------------------------------------------------------------------
// FitterHostPool

FitterHostPool::FitterHostPool(IsolationOptions options, std::string plugin_path,
                               wire::Descriptor descriptor)
    : options_(std::move(options)),
      plugin_path_(std::move(plugin_path)),
      descriptor_(std::move(descriptor)) {
  const wire::Descriptor& d = descriptor_;
  for (const auto& p : d.params()) params_.push_back({p.name().c_str(), p.description().c_str()});
  for (const auto& o : d.options()) {
    opts_.push_back({o.name().c_str(), o.default_value().c_str(), o.description().c_str()});
  }
  for (const auto& g : d.pooled()) {
    std::vector<const char*> candidates;
    for (const std::string& c : g.candidates()) candidates.push_back(c.c_str());
    pooled_candidates_.push_back(std::move(candidates));
  }
  for (int i = 0; i < d.pooled_size(); ++i) {
    const wire::Descriptor::Pooled& g = d.pooled(i);
    pooled_.push_back({g.option().c_str(), pooled_candidates_[i].data(),
                       static_cast<size_t>(g.candidates_size()), g.default_index()});
  }
  table_.struct_size = sizeof(adoption_fitter_descriptor_v1);
  table_.abi_major = d.abi_major();
  table_.abi_minor = d.abi_minor();
  table_.name = d.name().c_str();
  table_.version = d.version().c_str();
  table_.description = d.description().c_str();
  table_.flags = d.flags();
  table_.num_params = params_.size();
  table_.params = params_.empty() ? nullptr : params_.data();
  table_.num_options = opts_.size();
  table_.options = opts_.empty() ? nullptr : opts_.data();
  table_.num_pooled_options = pooled_.size();
  table_.pooled_options = pooled_.empty() ? nullptr : pooled_.data();
  table_.validate_options = d.has_validate_options() ? &NeverValidate : nullptr;
  table_.fit = &NeverFit;
  table_.predict = &NeverPredict;
}

FitterHostPool::~FitterHostPool() {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.clear();  // kills and reaps
}

void FitterHostPool::AddIdle(std::unique_ptr<HostProcess> host) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(host));
}

absl::StatusOr<std::unique_ptr<HostProcess>> FitterHostPool::Acquire() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<HostProcess> host = std::move(idle_.back());
      idle_.pop_back();
      return host;
    }
  }
  wire::Hello hello;
  absl::StatusOr<std::unique_ptr<HostProcess>> host =
      HostProcess::Spawn(options_, plugin_path_, &hello);
  if (!host.ok()) return host.status();
  if (!hello.has_plugin()) return absl::FailedPreconditionError(hello.refusal());
  if (hello.plugin().name() != descriptor_.name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the plugin now calls itself \"", hello.plugin().name(), "\""));
  }
  spdlog::debug("event=fitter_host_started fitter={} pid={}", descriptor_.name(), (*host)->pid());
  return host;
}

void FitterHostPool::Release(std::unique_ptr<HostProcess> host) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (host && host->alive()) idle_.push_back(std::move(host));
}

HostProcess::Reply FitterHostPool::Call(
    const wire::ToHost& request, wire::FromHost::KindCase expected, absl::Time kill_at,
    const std::function<bool()>& interrupted,
    const std::function<absl::Status(const wire::FromHost&)>& accept) const {
  absl::StatusOr<std::unique_ptr<HostProcess>> host = Acquire();
  if (!host.ok()) {
    HostProcess::Reply r;
    r.reason = absl::StrCat("could not start a fitter host: ", host.status().message());
    spdlog::error("event=fitter_host_fault fitter={} kind=start reason=\"{}\"", descriptor_.name(),
                  r.reason);
    if (options_.on_fault) options_.on_fault(descriptor_.name(), "start");
    return r;
  }
  const pid_t pid = (*host)->pid();
  HostProcess::Reply r = (*host)->Call(request, kill_at, interrupted);
  if (r.kind == HostProcess::Reply::kOk) {
    wire::FromHost reply;
    absl::Status s = ParseFromHost(r.payload, expected, &reply);
    if (s.ok()) s = accept(reply);
    if (!s.ok()) {
      (*host)->Terminate();
      r.kind = HostProcess::Reply::kFault;
      r.reason = absl::StrCat("fitter host sent a malformed reply (", s.message(), "): killed");
    }
  }
  if (r.kind != HostProcess::Reply::kOk) {
    const char* kind = r.kind == HostProcess::Reply::kTimedOut      ? "deadline"
                       : r.kind == HostProcess::Reply::kInterrupted ? "cancelled"
                                                                    : "fault";
    spdlog::warn("event=fitter_host_fault fitter={} pid={} kind={} reason=\"{}\"",
                 descriptor_.name(), pid, kind, r.reason);
    if (options_.on_fault) options_.on_fault(descriptor_.name(), kind);
  }
  Release(std::move(*host));
  return r;
}

FitRun FitterHostPool::Run(const Fitter& fitter, const SeriesRecord& history,
                           const FitterOptions& options, const FitBudget& budget,
                           const std::vector<double>& predict_at, bool status_only) const {
  const absl::Time start = absl::Now();
  wire::ToHost request;
  wire::FitRequest& req = *request.mutable_fit();
  ToWire(history.points, req.mutable_history());
  ToWire(options, req.mutable_options());
  req.set_max_iterations(budget.max_iterations);
  const bool stop_now =
      budget.cancelled != nullptr && budget.cancelled->load(std::memory_order_relaxed);
  absl::Time kill_at = absl::InfiniteFuture();
  if (stop_now) {
    req.set_deadline_in_ns(0);
    kill_at = start + options_.kill_grace;
  } else if (budget.deadline != absl::InfiniteFuture()) {
    req.set_deadline_in_ns(std::max<int64_t>(0, absl::ToInt64Nanoseconds(budget.deadline - start)));
    kill_at = budget.deadline + options_.kill_grace;
  }
  req.mutable_predict_at()->Add(predict_at.begin(), predict_at.end());
  req.set_status_only(status_only);

  FitRun run;
  HostProcess::Reply reply = Call(
      request, wire::FromHost::kFit, kill_at, budget.interrupted, [&](const wire::FromHost& m) {
        if (absl::Status s = FromWire(m.fit(), &run); !s.ok()) return s;
        return CheckFitRun(run, fitter, history.points.size(), predict_at, status_only);
      });
  if (reply.kind == HostProcess::Reply::kOk) return run;

  FitRun failed;
  FitOutcome& o = failed.outcome;
  o.fitter = fitter.name();
  o.forecast_baseline = fitter.forecast_baseline();
  o.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  switch (reply.kind) {
    case HostProcess::Reply::kTimedOut:
      o.status = FitStatus::kFailed;
      o.message = absl::StrCat(
          "plugin did not return by the fit's deadline (it does not poll should_stop): ",
          reply.reason, " after ", absl::FormatDuration(options_.kill_grace), " more");
      break;
    case HostProcess::Reply::kInterrupted:
      o.status = FitStatus::kCancelled;
      o.message = absl::StrCat("request cancelled during the fit: ", reply.reason);
      break;
    default:
      o.status = FitStatus::kFailed;
      o.message = reply.reason;
      break;
  }
  return failed;
}

absl::StatusOr<std::vector<double>> FitterHostPool::Predict(const Fitter& fitter,
                                                            const std::vector<double>& params,
                                                            const FitterOptions& options,
                                                            const SeriesRecord& history,
                                                            const std::vector<double>& t) const {
  wire::ToHost request;
  wire::PredictRequest& req = *request.mutable_predict();
  req.mutable_params()->Add(params.begin(), params.end());
  ToWire(options, req.mutable_options());
  ToWire(history.points, req.mutable_history());
  req.mutable_t()->Add(t.begin(), t.end());
  absl::StatusOr<std::vector<double>> out;
  HostProcess::Reply reply =
      Call(request, wire::FromHost::kPredict, absl::Now() + options_.call_timeout, {},
           [&](const wire::FromHost& m) {
             if (absl::Status s = FromWire(m.predict(), &out); !s.ok()) return s;
             if (out.ok() && (out->size() != t.size() || !AllFinite(*out))) {
               return absl::InternalError("bad predictions");
             }
             return absl::OkStatus();
           });
  switch (reply.kind) {
    case HostProcess::Reply::kOk:
      return out;
    case HostProcess::Reply::kTimedOut:
      return absl::InternalError(
          absl::StrCat("fitter \"", fitter.name(), "\" did not predict within ",
                       absl::FormatDuration(options_.call_timeout), ": ", reply.reason));
    default:
      return absl::InternalError(
          absl::StrCat("fitter \"", fitter.name(), "\" failed to predict: ", reply.reason));
  }
}

absl::Status FitterHostPool::ValidateOptionValues(const Fitter& fitter,
                                                  const FitterOptions& options) const {
  wire::ToHost request;
  ToWire(options, request.mutable_validate()->mutable_options());
  absl::Status result;
  HostProcess::Reply reply =
      Call(request, wire::FromHost::kValidate, absl::Now() + options_.call_timeout, {},
           [&](const wire::FromHost& m) { return FromWire(m.validate(), &result); });
  if (reply.kind == HostProcess::Reply::kOk) return result;
  return absl::InternalError(absl::StrCat("fitter \"", fitter.name(),
                                          "\" failed while validating options: ", reply.reason));
}

absl::Status LoadDirectoryIsolated(FitterRegistry* registry, const std::string& dir,
                                   const IsolationOptions& options) {
  absl::StatusOr<std::vector<std::string>> files = FitterRegistry::PluginFiles(dir);
  if (!files.ok()) return files.status();
  for (const auto& path : *files) {
    wire::Hello hello;
    absl::StatusOr<std::unique_ptr<HostProcess>> host = HostProcess::Spawn(options, path, &hello);
    if (!host.ok()) {
      (void)registry->Reject(path, std::string(host.status().message()));
      continue;
    }
    if (!hello.has_plugin()) {
      (void)registry->Reject(path, hello.refusal());  // the host exits by itself
      continue;
    }
    auto pool = std::make_shared<FitterHostPool>(options, path, std::move(*hello.mutable_plugin()));
    pool->AddIdle(std::move(*host));
    (void)registry->Add(pool->table(), path, pool);  // refusals are recorded
  }
  return absl::OkStatus();
}

}  // namespace adoption::isolation
