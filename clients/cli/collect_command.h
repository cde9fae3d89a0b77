// `adoptctl collect`: builds adoption series from the Hugging Face Hub API
// (collector/) and stores them in adoptiond, one UpsertSeries per base model
// as soon as it is collected (a long run keeps what it has done).
#ifndef ADOPTION_CLIENTS_CLI_COLLECT_COMMAND_H_
#define ADOPTION_CLIENTS_CLI_COLLECT_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adoption/client.h"
#include "clients/cli/report_format.h"
#include "collector/collector.h"

namespace adoption::cli {

struct CollectArgs {
  std::vector<std::string> bases;
  std::string from_file;
  std::string relation = "finetune";
  std::string hub;  // default: $HF_ENDPOINT, else https://huggingface.co
  std::string until;
  int max_months = 0;
  int page_size = 1000;
  bool dry_run = false;
};

// Adds the subcommand and its options to app.
CLI::App* AddCollectCommand(CLI::App& app, CollectArgs* args, std::string* format);

// Reads base model ids from a file: one per line, '#' comments and blank
// lines skipped; a CSV line keeps its first field and a header line
// starting with "model" is skipped (so data/*.csv files work as lists).
absl::StatusOr<std::vector<std::string>> ReadBaseList(absl::string_view content);

// --until: RFC 3339 ("2025-02-20T23:35:00Z") or a date ("2025-02-20", the
// end of that day in UTC).
absl::StatusOr<absl::Time> ParseUntil(absl::string_view text);

// The collector options every Hub command shares: the Hub's URL (--hub,
// else $HF_ENDPOINT, else https://huggingface.co; INVALID_ARGUMENT unless
// http:// or https://), the token from HF_TOKEN, waits reported on stderr
// as "<command>: waiting ...".
absl::StatusOr<hub::CollectorOptions> HubOptions(const std::string& hub, const char* command);

// Runs the command; client is null with --dry-run. Returns the exit code.
int RunCollect(AdoptionClient* client, const CollectArgs& args, Format format);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_COLLECT_COMMAND_H_
