// adoptctl's command-line values that become request fields: metadata
// filters and fitter options ("key=value"), per-fitter options
// ("fitter.key=value") and fitter lists ("a,b"). Pure functions, tested
// without a server; the CLI also uses the *Problem functions as CLI11
// validators, so malformed values are usage errors (exit code 2).
#ifndef ADOPTION_CLIENTS_CLI_REQUEST_ARGS_H_
#define ADOPTION_CLIENTS_CLI_REQUEST_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adoption/v1/adoption.pb.h"

namespace adoption::cli {

// Why `arg` is not "key=value" with a non-empty key, or "" if it is. The
// value may be empty and may contain '='.
std::string KeyValueProblem(const std::string& arg);
// Why `arg` is not "fitter.key=value" with non-empty fitter and key, or "".
std::string FitterOptionProblem(const std::string& arg);

// "key=value" pairs as a map. INVALID_ARGUMENT naming `flag` on a malformed
// pair or a key given twice with different values.
absl::StatusOr<std::map<std::string, std::string>> ParseKeyValues(
    const std::vector<std::string>& pairs, absl::string_view flag);

// Adds "fitter.key=value" pairs to request->fitter_options. The fitter name
// ends at the first '.', so option keys may contain dots, fitter names not.
absl::Status AddFitterOptions(const std::vector<std::string>& pairs,
                              v1::CompareModelsRequest* request);

// "a,b, c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> SplitFitterList(absl::string_view list);

// The losses every client knows: "sse" and "poisson" (adoptctl compare
// --loss, Python's compare(loss=), Go's LossName), and the server's names
// they stand for: "sse_cumulative", "poisson_deviance_increments". Returns
// the server's name; INVALID_ARGUMENT naming --loss for anything else.
absl::StatusOr<std::string> ServerLossName(absl::string_view name);

// Why `arg` is not an interval level, a number strictly between 0 and 1
// ("--level 0" would otherwise silently mean the server's 0.95), or "".
std::string IntervalLevelProblem(const std::string& arg);

// What to say when CompareModels answers OK for no series (the server
// reports series_count 0 for a filter nothing matches, or for --all on an
// empty store): "the selection matches no series: ...", with a hint for a
// metadata filter from `values` (every stored value of each filter key):
// a value that differs only in case or spaces ("did you mean
// company=Meta?"), else the values the key has, or that no series has it.
// The same words as Python's EmptySelection.
std::string EmptySelectionMessage(const v1::SeriesSelector& selection,
                                  const std::map<std::string, std::set<std::string>>& values);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_REQUEST_ARGS_H_
