// FitterRegistry: the fitter plugins adoptiond loaded, behind the C ABI of
// plugins/sdk/include/adoption/fitter_abi.h.
//
// The host side of the plugin boundary. It
//   - checks each plugin's ABI version itself and refuses a wrong one (the
//     refusal is kept, listed by ListFitters, and logged; the server goes on);
//   - never lets a plugin's exception, NaN/inf numbers or garbage take the
//     server down or reach a report: every such fit becomes FAILED with the
//     reason (see Fitter::Fit);
//   - bounds each fit through the budget's should_stop callback (deadline and
//     cancellation) and an iteration cap;
//   - never dlclose()s a plugin: tables and code stay valid until exit.
// A segfault inside a plugin is not containable in-process: it takes the
// server down. Operators who load untrusted fitters run them out of process
// (adoptiond --plugin-isolation=process, engine/isolation/): the Fitter then
// holds a copy of the plugin's descriptor and a FitterBackend that makes
// every plugin call in a helper process.
#ifndef ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
#define ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adoption/fitter_abi.h"
#include "engine/plugins/fitter.h"

namespace adoption {

struct RejectedPlugin {
  std::string path;
  std::string reason;
};

// The set of loaded fitters. Built once at start-up, then read-only (safe
// for concurrent readers).
class FitterRegistry {
 public:
  FitterRegistry() = default;
  FitterRegistry(const FitterRegistry&) = delete;
  FitterRegistry& operator=(const FitterRegistry&) = delete;

  // Loads every *.so in dir (sorted by file name). A file that cannot be
  // loaded or fails the checks is recorded in rejected() and logged. Fails
  // only if dir cannot be read.
  absl::Status LoadDirectory(const std::string& dir);

  // dlopen()s one file and adds it; the error names the file and the reason.
  absl::Status LoadFile(const std::string& path);

  // Adds a descriptor already in memory (tests, built-ins). Runs the same
  // checks as LoadFile; `origin` is reported as the path.
  absl::Status Add(const adoption_fitter_descriptor_v1* table, const std::string& origin);
  // The same for a plugin loaded elsewhere: table is a copy kept alive by
  // backend, which makes every plugin call.
  absl::Status Add(const adoption_fitter_descriptor_v1* table, const std::string& origin,
                   std::shared_ptr<const FitterBackend> backend);

  // Records a plugin that could not be loaded (listed by rejected(), logged);
  // returns FAILED_PRECONDITION naming path and reason.
  absl::Status Reject(const std::string& path, const std::string& reason);

  // The *.so files of dir, sorted by file name (the order LoadDirectory loads).
  static absl::StatusOr<std::vector<std::string>> PluginFiles(const std::string& dir);

  // nullptr if no fitter has this name.
  const Fitter* Find(const std::string& name) const;
  // The fitter `name` of a request field: INVALID_ARGUMENT naming `field`
  // when it is empty or unknown (the message lists the loaded fitters).
  absl::StatusOr<const Fitter*> Get(const std::string& name, const std::string& field) const;
  // All fitters in name order.
  std::vector<const Fitter*> fitters() const;
  const std::vector<RejectedPlugin>& rejected() const { return rejected_; }

 private:
  std::map<std::string, std::unique_ptr<Fitter>> by_name_;
  std::vector<RejectedPlugin> rejected_;
};

}  // namespace adoption

#endif  // ADOPTION_ENGINE_PLUGINS_FITTER_REGISTRY_H_
