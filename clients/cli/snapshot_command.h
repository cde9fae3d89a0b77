// `adoptctl snapshot`: records, once a day, a model's download and like
// counters from the Hugging Face Hub (collector/, Collector::Stats) as one
// dated point of each of its daily series (clients/cli/download_series.h):
//   download_days:<model>       previous value + today's 30-day `downloads`
//                               (the paper's download-days)
//   downloads_all_time:<model>  the Hub's downloadsAllTime
//   likes:<model>               the Hub's likes
// A series is created on the model's first snapshot (origin: its creation
// date, time unit day) and appended to afterwards through AppendPoints.
// The first snapshot of a day wins: a series whose last point is already
// on that day is left as it is, so re-running within a day changes nothing.
// The Hub keeps no history: a series starts at its first snapshot.
#ifndef ADOPTION_CLIENTS_CLI_SNAPSHOT_COMMAND_H_
#define ADOPTION_CLIENTS_CLI_SNAPSHOT_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "adoption/client.h"
#include "clients/cli/report_format.h"

namespace adoption::cli {

struct SnapshotArgs {
  std::vector<std::string> models;
  std::vector<std::string> authors;
  std::string hub;   // default: $HF_ENDPOINT, else https://huggingface.co
  std::string date;  // YYYY-MM-DD; default: today (UTC)
  int page_size = 1000;
};

// Adds the subcommand and its options to app.
CLI::App* AddSnapshotCommand(CLI::App& app, SnapshotArgs* args, std::string* format);

// Runs the command. Returns the exit code: 0 when every model was read and
// every point recorded or already there (a counter that fell is reported as
// a warning, not recorded); 1 when a model could not be read or a write was
// refused; 2 on usage errors.
int RunSnapshot(AdoptionClient& client, const SnapshotArgs& args, Format format);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_SNAPSHOT_COMMAND_H_
