// Out-of-process fitter plugins (adoptiond --plugin-isolation=process).
//
// Each plugin file gets a pool of long-lived adoption-fitter-host processes
// (engine/isolation/fitter_host_main.cc), each with the plugin loaded and
// serving one request at a time over a socketpair
// (engine/isolation/host_protocol.h). adoptiond itself never dlopen()s the
// plugin: it keeps a copy of the descriptor a host reported, and every
// plugin call (fit, predict, validate_options) is a round trip to a host
// taken from the pool, on the calling thread.
//
// Faults cost one call, never the server:
//   - the host dies (plugin segfault, abort, exit): the fit is FAILED with
//     "plugin crashed: SIGSEGV" (or the exit status); the host is reaped;
//   - it sends something that does not decode, or an inconsistent result:
//     FAILED, the host is killed;
//   - it has not answered grace after the fit's deadline (the plugin does
//     not poll should_stop): SIGKILL, FAILED saying so;
//   - the request is cancelled (FitBudget::interrupted): SIGKILL, CANCELLED.
// A dead or killed host is dropped; the next call spawns a fresh one
// (posix_spawn, never a bare fork). Hosts leave with the server: the pool's
// destructor kills and reaps them, and a host exits by itself when the
// write end of its lifeline pipe, held only by adoptiond, closes (also when
// adoptiond is SIGKILLed).
#ifndef ADOPTION_ENGINE_ISOLATION_HOST_POOL_H_
#define ADOPTION_ENGINE_ISOLATION_HOST_POOL_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/isolation/host_protocol.h"
#include "engine/plugins/fitter_registry.h"

namespace adoption::isolation {

struct IsolationOptions {
  // The adoption-fitter-host executable.
  std::string host_path;
  // How long past a fit's deadline a host may take to answer before it is
  // killed. Cooperative plugins stop at the deadline itself (should_stop).
  absl::Duration kill_grace = absl::Milliseconds(250);
  // Time limit of predict and validate_options calls, which have no budget.
  absl::Duration call_timeout = absl::Seconds(10);
  // Time a new host has to load its plugin and say hello.
  absl::Duration startup_timeout = absl::Seconds(10);
  // Told of every failed host call (fitter name and kind: "fault",
  // "deadline", "cancelled" or "start"), e.g. for metrics; may be empty.
  // Called from the fitting threads: must be thread-safe.
  std::function<void(const std::string& fitter, const char* kind)> on_fault;
};

// Where adoption-fitter-host is by default: beside the running executable.
std::string DefaultHostPath();

// One host process and its channel. Used by one thread at a time.
class HostProcess {
 public:
  // Starts a host for plugin_path and waits for its hello. On failure the
  // process (if any) is gone and reaped, and the status says why, e.g.
  // "plugin crashed while loading: SIGSEGV".
  static absl::StatusOr<std::unique_ptr<HostProcess>> Spawn(const IsolationOptions& options,
                                                            const std::string& plugin_path,
                                                            wire::Hello* hello);
  ~HostProcess();  // kills (if alive) and reaps
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  struct Reply {
    enum Kind { kOk, kFault, kTimedOut, kInterrupted } kind = kFault;
    std::string payload;  // kOk: the reply's bytes (unparsed)
    std::string reason;   // otherwise: what happened (the host is dead and reaped)
  };
  // Sends one request and waits for the reply until kill_at, polling
  // interrupted (may be empty) meanwhile. Anything but kOk leaves the host
  // dead and reaped.
  Reply Call(const wire::ToHost& request, absl::Time kill_at,
             const std::function<bool()>& interrupted);
  // Kills and reaps the host; returns how it ended ("plugin crashed:
  // SIGSEGV", "fitter host exited with status 3", ...).
  std::string Terminate();

  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0; }

 private:
  HostProcess(pid_t pid, int fd, int lifeline) : pid_(pid), fd_(fd), lifeline_(lifeline) {}
  enum class Wait { kOk, kEof, kTimedOut, kInterrupted, kError };
  Wait ReadFrame(absl::Time kill_at, const std::function<bool()>& interrupted, std::string* payload,
                 std::string* error);
  Wait WriteFrame(std::string_view frame, absl::Time kill_at, std::string* error);

  pid_t pid_;
  int fd_;        // the channel
  int lifeline_;  // write end of the host's lifeline pipe (never written)
};

// The pool of hosts of one plugin, and the FitterBackend that sends a
// Fitter's calls to them. Thread-safe.
class FitterHostPool : public FitterBackend {
 public:
  FitterHostPool(IsolationOptions options, std::string plugin_path, wire::Descriptor descriptor);
  ~FitterHostPool() override;

  // The copy of the plugin's descriptor (owned by the pool; its function
  // pointers must never be called).
  const adoption_fitter_descriptor_v1* table() const { return &table_; }
  // Puts a started host (e.g. the one that described the plugin) in the pool.
  void AddIdle(std::unique_ptr<HostProcess> host);

  FitRun Run(const Fitter& fitter, const SeriesRecord& history, const FitterOptions& options,
             const FitBudget& budget, const std::vector<double>& predict_at,
             bool status_only) const override;
  absl::StatusOr<std::vector<double>> Predict(const Fitter& fitter,
                                              const std::vector<double>& params,
                                              const FitterOptions& options,
                                              const SeriesRecord& history,
                                              const std::vector<double>& t) const override;
  absl::Status ValidateOptionValues(const Fitter& fitter,
                                    const FitterOptions& options) const override;

 private:
  // An idle host, or a new one. Error if none could be started.
  absl::StatusOr<std::unique_ptr<HostProcess>> Acquire() const;
  void Release(std::unique_ptr<HostProcess> host) const;
  // One round trip. The reply must parse, be of the expected kind and pass
  // accept (which decodes and checks it); if not, the host is killed and the
  // reply becomes a fault. On anything but kOk the host is gone (and the
  // fault logged).
  HostProcess::Reply Call(const wire::ToHost& request, wire::FromHost::KindCase expected,
                          absl::Time kill_at, const std::function<bool()>& interrupted,
                          const std::function<absl::Status(const wire::FromHost&)>& accept) const;

  IsolationOptions options_;
  std::string plugin_path_;
  wire::Descriptor descriptor_;
  // Storage behind table_ (built once; the strings are descriptor_'s).
  std::vector<adoption_param_spec_v1> params_;
  std::vector<adoption_option_spec_v1> opts_;
  std::vector<std::vector<const char*>> pooled_candidates_;
  std::vector<adoption_pooled_option_v1> pooled_;
  adoption_fitter_descriptor_v1 table_{};

  mutable std::mutex mu_;
  mutable std::vector<std::unique_ptr<HostProcess>> idle_;  // guarded by mu_
};

// Like FitterRegistry::LoadDirectory, with every plugin in its own hosts:
// each *.so is loaded by a fresh host (never by this process); a plugin the
// host refuses, or that crashes or hangs while loading, is recorded as
// rejected. Fails only if dir cannot be read.
absl::Status LoadDirectoryIsolated(FitterRegistry* registry, const std::string& dir,
                                   const IsolationOptions& options);

}  // namespace adoption::isolation

#endif  // ADOPTION_ENGINE_ISOLATION_HOST_POOL_H_
