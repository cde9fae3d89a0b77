// adoption-fitter-host: runs one fitter plugin for adoptiond in a separate
// process (adoptiond --plugin-isolation=process), so that a plugin that
// crashes or never returns costs one fit, not the server.
//
//   adoption-fitter-host --plugin PATH [--fd 3] [--lifeline 4]
//
// adoptiond starts it with posix_spawn, one end of a socketpair as fd 3,
// the read end of a "lifeline" pipe as fd 4 (adoptiond alone holds the
// write end and never writes), stdin from /dev/null and stdout on
// adoptiond's stderr (so whatever the plugin prints ends in the server's
// log, never in the protocol). The host loads the plugin with the server's
// own FitterRegistry (same checks), answers kHello, then serves requests one
// at a time until the channel closes (engine/isolation/host_protocol.h). A
// watchdog thread exits as soon as the lifeline reaches end-of-file (the
// server dropped this host, or died), even while a plugin is stuck in a fit,
// so hosts never outlive adoptiond. (A separate pipe, not the channel, so
// that requests do not wake the watchdog.) Not meant to be run by hand.
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "engine/isolation/host_protocol.h"
#include "engine/plugins/fitter_registry.h"
#include "spdlog/spdlog.h"

// Sanitizer builds (scripts/test-sanitizers): a plugin that crashes must
// kill this host with its own signal, which adoptiond reports as "plugin
// crashed: SIGSEGV"; ASan's handlers would catch the signal, print a report
// and exit with a status instead. The host's own code is still checked: a
// memory error in it is an ASan report, not a signal. Options set in
// ASAN_OPTIONS / TSAN_OPTIONS take precedence over these defaults.
#define ADOPTION_HOST_SIGNAL_OPTIONS "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0"
#if defined(__SANITIZE_ADDRESS__)
extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return ADOPTION_HOST_SIGNAL_OPTIONS;
}
#endif
#if defined(ADOPTION_TSAN)  // CMake sets it in TSan builds
extern "C" __attribute__((visibility("default"), used)) const char* __tsan_default_options() {
  return ADOPTION_HOST_SIGNAL_OPTIONS;
}
#endif

namespace {

using adoption::FitBudget;
using adoption::Fitter;
using adoption::FitterRegistry;
using adoption::SeriesRecord;
namespace iso = adoption::isolation;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "adoption-fitter-host[%d]: %s\n", static_cast<int>(getpid()), why.c_str());
  _exit(2);
}

// Descriptor fields the server needs, from the loaded plugin.
iso::DescriptorInfo Describe(const Fitter& f) {
  const adoption_fitter_descriptor_v1& t = f.table();
  iso::DescriptorInfo d;
  d.abi_major = t.abi_major;
  d.abi_minor = t.abi_minor;
  d.name = t.name;
  d.version = t.version ? t.version : "";
  d.description = t.description ? t.description : "";
  d.flags = t.flags;
  for (size_t i = 0; i < t.num_params; ++i) {
    d.params.emplace_back(t.params[i].name, t.params[i].description ? t.params[i].description : "");
  }
  for (size_t i = 0; i < t.num_options; ++i) {
    d.options.push_back({t.options[i].name, t.options[i].default_value,
                         t.options[i].description ? t.options[i].description : ""});
  }
  d.has_validate_options = t.validate_options != nullptr;
  d.pooled = f.pooled_options();
  return d;
}

SeriesRecord History(std::vector<adoption::SeriesPoint> points) {
  SeriesRecord s;
  s.points = std::move(points);
  return s;
}

// The reply to one request payload.
std::string Serve(const Fitter& fitter, const std::string& request) {
  absl::StatusOr<iso::MessageType> type = iso::TypeOf(request);
  if (!type.ok()) Die(std::string(type.status().message()));
  switch (*type) {
    case iso::MessageType::kFit: {
      iso::FitRequest req;
      if (absl::Status s = iso::Decode(request, &req); !s.ok()) Die(s.ToString());
      FitBudget budget;
      budget.max_iterations = req.max_iterations;
      if (req.deadline_in_ns >= 0) {
        budget.deadline = absl::Now() + absl::Nanoseconds(req.deadline_in_ns);
      }
      return iso::EncodeFitReply(fitter.RunInProcess(History(std::move(req.history)), req.options,
                                                     budget, req.predict_at, req.status_only));
    }
    case iso::MessageType::kPredict: {
      iso::PredictRequest req;
      if (absl::Status s = iso::Decode(request, &req); !s.ok()) Die(s.ToString());
      adoption::FitOutcome outcome;
      outcome.status = adoption::FitStatus::kConverged;
      const std::vector<std::string> names = fitter.param_names();
      for (size_t i = 0; i < req.params.size(); ++i) {
        outcome.params.push_back(
            {i < names.size() ? names[i] : "", req.params[i], false, std::nullopt});
      }
      return iso::EncodePredictReply(
          fitter.Predict(outcome, req.options, History(std::move(req.history)), req.t));
    }
    case iso::MessageType::kValidate: {
      iso::ValidateRequest req;
      if (absl::Status s = iso::Decode(request, &req); !s.ok()) Die(s.ToString());
      return iso::EncodeValidateReply(fitter.ValidateOptionValues(req.options));
    }
    default:
      Die("unexpected message type");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugin;
  int fd = 3;
  int lifeline = -1;  // none: watch the channel for hang-up instead
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--plugin" && i + 1 < argc) {
      plugin = argv[++i];
    } else if (a == "--fd" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &fd) || fd < 0) Die("bad --fd");
    } else if (a == "--lifeline" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &lifeline) || lifeline < 0) Die("bad --lifeline");
    } else {
      Die("usage: adoption-fitter-host --plugin PATH [--fd N] [--lifeline N] "
          "(started by adoptiond)");
    }
  }
  if (plugin.empty()) Die("--plugin is required");

  // A crashing plugin is expected here: no core files.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  // Nothing but stdio and the channel: an fd inherited by mistake would keep
  // another host's channel open after the server closed it.
  const int last_kept = std::max(fd, lifeline);
  for (int other = 3; other < last_kept; ++other) {
    if (other != fd && other != lifeline) close(other);
  }
  if (close_range(static_cast<unsigned>(last_kept) + 1, ~0u, 0) != 0) {
    const long max_fd = sysconf(_SC_OPEN_MAX);
    for (long other = last_kept + 1; other < (max_fd > 0 ? max_fd : 1024); ++other) {
      close(static_cast<int>(other));
    }
  }
  signal(SIGPIPE, SIG_IGN);

  // Exits as soon as adoptiond's end of the lifeline (or, without one, of
  // the channel) closes: adoptiond stopped, died, or dropped this host; even
  // in the middle of a fit.
  std::thread([watched = lifeline >= 0 ? lifeline : fd, lifeline] {
    pollfd p{watched, static_cast<short>(lifeline >= 0 ? POLLIN : POLLRDHUP), 0};
    while (true) {
      const int r = poll(&p, 1, -1);
      if (r < 0 && errno == EINTR) continue;
      // The lifeline is never written: readable means end-of-file.
      if (r < 0 || (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        _exit(0);
      }
    }
  }).detach();

  // The server logs loads and refusals; keep the host quiet.
  spdlog::set_level(spdlog::level::off);
  FitterRegistry registry;
  iso::Hello hello;
  const Fitter* fitter = nullptr;
  if (absl::Status s = registry.LoadFile(plugin); !s.ok()) {
    hello.loaded = false;
    hello.refusal =
        registry.rejected().empty() ? std::string(s.message()) : registry.rejected().back().reason;
  } else {
    fitter = registry.fitters().front();
    hello.loaded = true;
    hello.descriptor = Describe(*fitter);
  }
  if (absl::Status s = iso::WriteFrameBlocking(fd, iso::Encode(hello)); !s.ok()) _exit(0);
  if (fitter == nullptr) _exit(0);

  std::string request;
  while (true) {
    absl::Status s = iso::ReadFrameBlocking(fd, &request);
    if (absl::IsNotFound(s)) _exit(0);  // the server closed the channel
    if (!s.ok()) Die(s.ToString());
    const std::string reply = Serve(*fitter, request);
    if (!iso::WriteFrameBlocking(fd, reply).ok()) _exit(0);
  }
}
