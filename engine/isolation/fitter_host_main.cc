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
// own FitterRegistry (same checks), says hello, then serves requests one
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
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "engine/isolation/host_protocol.h"
#include "engine/plugins/fitter_registry.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
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
iso::wire::Descriptor Describe(const Fitter& f) {
  const adoption_fitter_descriptor_v1& t = f.table();
  iso::wire::Descriptor d;
  d.set_abi_major(t.abi_major);
  d.set_abi_minor(t.abi_minor);
  d.set_name(t.name);
  d.set_version(t.version ? t.version : "");
  d.set_description(t.description ? t.description : "");
  d.set_flags(t.flags);
  for (size_t i = 0; i < t.num_params; ++i) {
    iso::wire::Descriptor::Param* p = d.add_params();
    p->set_name(t.params[i].name);
    p->set_description(t.params[i].description ? t.params[i].description : "");
  }
  for (size_t i = 0; i < t.num_options; ++i) {
    iso::wire::Descriptor::Option* o = d.add_options();
    o->set_name(t.options[i].name);
    o->set_default_value(t.options[i].default_value);
    o->set_description(t.options[i].description ? t.options[i].description : "");
  }
  d.set_has_validate_options(t.validate_options != nullptr);
  for (const adoption::PooledGrid& g : f.pooled_options()) {
    iso::wire::Descriptor::Pooled* p = d.add_pooled();
    p->set_option(g.option);
    p->mutable_candidates()->Add(g.candidates.begin(), g.candidates.end());
    p->set_default_index(static_cast<uint32_t>(g.default_index));
  }
  return d;
}

SeriesRecord History(const iso::wire::Points& points) {
  SeriesRecord s;
  if (absl::Status st = iso::FromWire(points, &s.points); !st.ok()) Die(st.ToString());
  return s;
}

std::vector<double> Doubles(const google::protobuf::RepeatedField<double>& v) {
  return {v.begin(), v.end()};
}

// The reply to one request.
iso::wire::FromHost Serve(const Fitter& fitter, const iso::wire::ToHost& request) {
  iso::wire::FromHost reply;
  switch (request.kind_case()) {
    case iso::wire::ToHost::kFit: {
      const iso::wire::FitRequest& req = request.fit();
      FitBudget budget;
      budget.max_iterations = req.max_iterations();
      if (req.has_deadline_in_ns()) {
        budget.deadline = absl::Now() + absl::Nanoseconds(req.deadline_in_ns());
      }
      iso::ToWire(fitter.RunInProcess(History(req.history()), iso::FromWire(req.options()), budget,
                                      Doubles(req.predict_at()), req.status_only()),
                  reply.mutable_fit());
      break;
    }
    case iso::wire::ToHost::kPredict: {
      const iso::wire::PredictRequest& req = request.predict();
      adoption::FitOutcome outcome;
      outcome.status = adoption::FitStatus::kConverged;
      const std::vector<std::string> names = fitter.param_names();
      for (int i = 0; i < req.params_size(); ++i) {
        outcome.params.push_back({static_cast<size_t>(i) < names.size() ? names[i] : "",
                                  req.params(i), false, std::nullopt});
      }
      iso::ToWire(fitter.Predict(outcome, iso::FromWire(req.options()), History(req.history()),
                                 Doubles(req.t())),
                  reply.mutable_predict());
      break;
    }
    case iso::wire::ToHost::kValidate:
      iso::ToWire(fitter.ValidateOptionValues(iso::FromWire(request.validate().options())),
                  reply.mutable_validate());
      break;
    default:
      Die("unexpected message kind");
  }
  return reply;
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
  iso::wire::FromHost hello;
  hello.mutable_hello()->set_protocol_version(iso::kProtocolVersion);
  const Fitter* fitter = nullptr;
  if (absl::Status s = registry.LoadFile(plugin); !s.ok()) {
    hello.mutable_hello()->set_refusal(
        registry.rejected().empty() ? std::string(s.message()) : registry.rejected().back().reason);
  } else {
    fitter = registry.fitters().front();
    *hello.mutable_hello()->mutable_plugin() = Describe(*fitter);
  }
  if (!iso::WriteMessage(fd, hello).ok()) _exit(0);
  if (fitter == nullptr) _exit(0);

  google::protobuf::io::FileInputStream in(fd);
  iso::wire::ToHost request;
  while (true) {
    absl::Status s = iso::ReadMessage(&in, &request);
    if (absl::IsNotFound(s)) _exit(0);  // the server closed the channel
    if (!s.ok()) Die(s.ToString());
    if (!iso::WriteMessage(fd, Serve(*fitter, request)).ok()) _exit(0);
  }
}
