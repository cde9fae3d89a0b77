// OpenStore: the one place that turns adoptiond's --db value into a
// SeriesStore. Each backend lives in its own folder under engine/store/ and
// has one entry in the table of open_store.cc (the scheme it answers to and
// how to open it); nothing else names backends.
//
//   :memory:            the in-memory store (not durable)
//   sqlite:PATH, PATH   the SQLite store in file PATH (created if missing)
#ifndef ADOPTION_ENGINE_STORE_OPEN_STORE_H_
#define ADOPTION_ENGINE_STORE_OPEN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/store/series_store.h"

namespace adoption {

struct OpenedStore {
  std::unique_ptr<SeriesStore> store;
  // The backend's name ("sqlite", "memory"), for logs and metrics.
  std::string kind;
  // Where the data lives (a path), or empty; never holds credentials.
  std::string location;
  // False when acknowledged writes do not survive the process.
  bool durable = true;
};

// Opens the store a --db value names. INVALID_ARGUMENT for a value no
// backend accepts; the backend's own error (FAILED_PRECONDITION for a file
// that is not ours, ...) when opening fails.
absl::StatusOr<OpenedStore> OpenStore(const std::string& db);

// One line per backend: how to write its --db value (for --help and errors).
std::vector<std::string> StoreUsage();

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_OPEN_STORE_H_
