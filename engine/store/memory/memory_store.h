// The in-memory backend of SeriesStore (tests, and adoptiond --db :memory:):
// the same semantics as the SQLite store, nothing durable.
#ifndef ADOPTION_ENGINE_STORE_MEMORY_MEMORY_STORE_H_
#define ADOPTION_ENGINE_STORE_MEMORY_MEMORY_STORE_H_

#include <memory>

#include "engine/store/series_store.h"

namespace adoption {

// A new, empty store. Not durable: its series are lost with it.
std::unique_ptr<SeriesStore> NewMemoryStore();

}  // namespace adoption

#endif  // ADOPTION_ENGINE_STORE_MEMORY_MEMORY_STORE_H_
