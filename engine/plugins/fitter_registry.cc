#include "engine/plugins/fitter_registry.h"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/store/validation.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

// Smallest descriptor size this host understands (ABI 1.0: every field up
// to and including predict).
constexpr size_t kMinDescriptorSize =
    offsetof(adoption_fitter_descriptor_v1, predict) + sizeof(void*);
constexpr uint32_t kMinAbiMinor = 0;

bool IsValidName(const char* name) {
  if (name == nullptr || *name == '\0' || strlen(name) > 40) return false;
  for (const char* p = name; *p; ++p) {
    if (!(absl::ascii_islower(*p) || absl::ascii_isdigit(*p) || *p == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status FitterRegistry::Reject(const std::string& path, const std::string& reason) {
  spdlog::error("event=plugin_rejected path={} reason=\"{}\"", path, reason);
  rejected_.push_back({path, reason});
  return absl::FailedPreconditionError(absl::StrCat(path, ": ", reason));
}

absl::Status FitterRegistry::Add(const adoption_fitter_descriptor_v1* t,
                                 const std::string& origin) {
  return Add(t, origin, nullptr);
}

absl::Status FitterRegistry::Add(const adoption_fitter_descriptor_v1* t, const std::string& origin,
                                 std::shared_ptr<const FitterBackend> backend) {
  if (t == nullptr) return Reject(origin, "entry point returned NULL");
  if (t->abi_major != ADOPTION_FITTER_ABI_MAJOR) {
    return Reject(origin, absl::StrCat("ABI major version ", t->abi_major,
                                       ", this server supports ", ADOPTION_FITTER_ABI_MAJOR));
  }
  if (t->abi_minor < kMinAbiMinor) {
    return Reject(origin, absl::StrCat("ABI minor version ", t->abi_minor,
                                       " is older than the minimum ", kMinAbiMinor));
  }
  if (t->struct_size < kMinDescriptorSize) {
    return Reject(
        origin, absl::StrCat("descriptor struct_size ", t->struct_size, " < ", kMinDescriptorSize));
  }
  if (!IsValidName(t->name)) {
    return Reject(origin, "name must be 1..40 characters of [a-z0-9_]");
  }
  if (std::string(t->name) == "combined") {
    return Reject(origin, "the name \"combined\" is reserved for the built-in combined forecaster");
  }
  if (t->fit == nullptr || t->predict == nullptr) {
    return Reject(origin, "fit or predict function is missing");
  }
  if (t->num_params > ADOPTION_MAX_PARAMS || (t->num_params > 0 && t->params == nullptr)) {
    return Reject(origin, absl::StrCat("invalid parameter table (", t->num_params, " parameters)"));
  }
  for (size_t i = 0; i < t->num_params; ++i) {
    if (t->params[i].name == nullptr || *t->params[i].name == '\0') {
      return Reject(origin, absl::StrCat("parameter ", i, " has no name"));
    }
  }
  if (t->num_options > 0 && t->options == nullptr) {
    return Reject(origin, "invalid option table");
  }
  for (size_t i = 0; i < t->num_options; ++i) {
    if (t->options[i].name == nullptr || t->options[i].default_value == nullptr) {
      return Reject(origin, absl::StrCat("option ", i, " has no name or default"));
    }
  }
  if (absl::StatusOr<std::vector<PooledGrid>> pooled = PooledOptionsOf(*t); !pooled.ok()) {
    return Reject(origin, std::string(pooled.status().message()));
  }
  if (by_name_.count(t->name)) {
    return Reject(origin, absl::StrCat("a fitter named \"", t->name, "\" is already loaded from ",
                                       by_name_[t->name]->path()));
  }
  const bool isolated = backend != nullptr;
  by_name_[t->name] = std::make_unique<Fitter>(t, origin, std::move(backend));
  spdlog::info("event=plugin_loaded name={} version={} abi={}.{} path={} isolation={}", t->name,
               t->version ? t->version : "", t->abi_major, t->abi_minor, origin,
               isolated ? "process" : "none");
  return absl::OkStatus();
}

absl::Status FitterRegistry::LoadFile(const std::string& path) {
  // RTLD_LOCAL keeps plugins' symbols apart; RTLD_NOW surfaces missing
  // symbols here rather than at the first call.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return Reject(path, absl::StrCat("dlopen failed: ", err ? err : "unknown"));
  }
  // Never dlclose()d: the server keeps plugin code for its lifetime.
  dlerror();
  void* sym = dlsym(handle, ADOPTION_FITTER_ENTRY_V1);
  if (sym == nullptr) {
    return Reject(path, absl::StrCat("missing entry point symbol ", ADOPTION_FITTER_ENTRY_V1));
  }
  auto entry = reinterpret_cast<adoption_fitter_entry_v1>(sym);
  const adoption_fitter_descriptor_v1* table = nullptr;
  try {
    table = entry();
  } catch (...) {
    return Reject(path, "entry point threw an exception");
  }
  return Add(table, path);
}

absl::StatusOr<std::vector<std::string>> FitterRegistry::PluginFiles(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("plugin directory ", dir, ": ", std::strerror(errno)));
  }
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (absl::EndsWith(name, ".so")) files.push_back(name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  for (auto& f : files) f = absl::StrCat(dir, "/", f);
  return files;
}

absl::Status FitterRegistry::LoadDirectory(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> files = PluginFiles(dir);
  if (!files.ok()) return files.status();
  for (const auto& f : *files) {
    (void)LoadFile(f);  // refusals are recorded
  }
  return absl::OkStatus();
}

const Fitter* FitterRegistry::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

absl::StatusOr<const Fitter*> FitterRegistry::Get(const std::string& name,
                                                  const std::string& field) const {
  if (absl::Status s = ValidateFitterName(name, field); !s.ok()) return s;
  const Fitter* f = Find(name);
  if (f == nullptr) {
    std::vector<std::string> names;
    for (const Fitter* g : fitters()) names.push_back(g->name());
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown fitter \"", name,
                     "\" (loaded: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
  }
  return f;
}

std::vector<const Fitter*> FitterRegistry::fitters() const {
  std::vector<const Fitter*> all;
  for (const auto& [name, f] : by_name_) all.push_back(f.get());
  return all;
}

}  // namespace adoption
