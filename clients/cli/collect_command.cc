#include "clients/cli/collect_command.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "collector/collector.h"
#include "collector/months.h"

namespace adoption::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

std::string DefaultHub() {
  const char* endpoint = std::getenv("HF_ENDPOINT");  // as huggingface_hub reads it
  return endpoint != nullptr && *endpoint != '\0' ? endpoint : "https://huggingface.co";
}

// One row of the output: a stored series, or a base model that failed.
struct Row {
  std::string id;  // series id, or the requested base id when failed
  std::string base;
  std::string relation;
  int months = -1;
  int64_t last = -1;
  std::string created_at;
  std::string status;  // "stored", "dry-run", "not_found", "unavailable", ...
  std::string message;
};

std::string StatusWord(const absl::Status& s) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(s.code()));
}

}  // namespace

CLI::App* AddCollectCommand(CLI::App& app, CollectArgs* args, std::string* format) {
  auto* cmd = app.add_subcommand(
      "collect",
      "Build adoption series from the Hugging Face Hub API: for each base model, count "
      "the models that declare it as their base, by whole calendar months since its "
      "creation, and store one cumulative series per relation (id "
      "\"base_model:<relation>:<id>\", or \"base_model:<id>\" for --relation all). "
      "Re-running updates the series in place. A token, if needed, comes from the "
      "HF_TOKEN environment variable (never a flag; never printed).");
  cmd->add_option("--base", args->bases,
                  "base model id, e.g. meta-llama/Llama-3.1-8B (repeatable)");
  cmd->add_option("--from-file", args->from_file,
                  "file of base model ids, one per line (# comments; a CSV's first "
                  "column, e.g. data/hf-finetunes-2025-02-18/Meta.csv)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--relation", args->relation,
                  "which derived models to count: finetune (the paper's), adapter, "
                  "quantized, merge, or all (one series per relation plus one of all)")
      ->capture_default_str()
      ->check(CLI::IsMember({"finetune", "adapter", "quantized", "merge", "all"}));
  cmd->add_option("--hub", args->hub,
                  "Hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)");
  cmd->add_option("--until", args->until,
                  "collection instant: RFC 3339 (2025-02-20T23:35:00Z) or a date (end of "
                  "that day, UTC); default now. Only whole months up to it are counted");
  cmd->add_option("--max-months", args->max_months,
                  "keep at most this many months after creation (0 = all; the paper's "
                  "table stops at 34)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--page-size", args->page_size,
                  "models per listing page (the Hub's maximum is 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--dry-run", args->dry_run,
                "collect and print, but store nothing (no server needed)");
  cmd->add_option("--format", *format, "output: table, csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv"}));
  cmd->footer(
      "Progress goes to stderr. Exit code 0 when every base model was collected and "
      "stored; 1 when any was not (missing, private, network), or the token was "
      "refused (the run stops); 2 on usage errors.");
  return cmd;
}

absl::StatusOr<hub::CollectorOptions> HubOptions(const std::string& hub, const char* command) {
  hub::CollectorOptions options;
  options.hub_url = hub.empty() ? DefaultHub() : hub;
  if (!absl::StartsWith(options.hub_url, "http://") &&
      !absl::StartsWith(options.hub_url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hub \"", options.hub_url, "\" must start with http:// or https://"));
  }
  if (const char* token = std::getenv("HF_TOKEN"); token != nullptr) {
    options.token = std::string(absl::StripAsciiWhitespace(token));
  }
  const std::string name = command;
  options.http.on_wait = [name](absl::Duration d, const std::string& reason) {
    std::cerr << name << ": waiting " << absl::FormatDuration(d) << " (" << reason << ")\n";
  };
  return options;
}

absl::StatusOr<std::vector<std::string>> ReadBaseList(absl::string_view content) {
  std::vector<std::string> ids;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    line = absl::StripAsciiWhitespace(line.substr(0, line.find(',')));
    if (absl::ConsumePrefix(&line, "\"")) absl::ConsumeSuffix(&line, "\"");
    if (line == "model" || line.empty()) continue;  // CSV header
    ids.emplace_back(line);
  }
  return ids;
}

absl::StatusOr<absl::Time> ParseUntil(absl::string_view text) {
  absl::CivilDay day;
  if (absl::ParseCivilTime(text, &day)) {
    return absl::FromCivil(day + 1, absl::UTCTimeZone()) - absl::Nanoseconds(1);
  }
  absl::StatusOr<absl::Time> t = hub::ParseHubTime(text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--until \"", text,
                     "\" is neither a date (2025-02-20) nor an RFC 3339 time "
                     "(2025-02-20T23:35:00Z)"));
  }
  return t;
}

int RunCollect(AdoptionClient* client, const CollectArgs& args, Format format) {
  auto usage = [](const std::string& message) {
    std::cerr << message << "\nRun with --help for more information.\n";
    return kExitUsage;
  };
  std::vector<std::string> bases = args.bases;
  if (!args.from_file.empty()) {
    std::ifstream in(args.from_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<std::vector<std::string>> listed = ReadBaseList(ss.str());
    if (!in || !listed.ok())
      return usage(absl::StrCat("--from-file ", args.from_file, ": cannot read"));
    bases.insert(bases.end(), listed->begin(), listed->end());
  }
  {  // Duplicates would only cost requests.
    std::set<std::string> seen;
    std::vector<std::string> unique;
    for (auto& b : bases) {
      if (seen.insert(b).second) unique.push_back(b);
    }
    bases = std::move(unique);
  }
  if (bases.empty()) return usage("collect: give at least one --base or a --from-file with ids");

  absl::StatusOr<hub::CollectorOptions> hub_options = HubOptions(args.hub, "collect");
  if (!hub_options.ok()) return usage(std::string(hub_options.status().message()));
  hub::CollectorOptions& options = *hub_options;
  absl::StatusOr<std::vector<std::string>> relations = hub::ExpandRelation(args.relation);
  if (!relations.ok()) return usage(std::string(relations.status().message()));
  options.relations = *relations;
  if (!args.until.empty()) {
    absl::StatusOr<absl::Time> until = ParseUntil(args.until);
    if (!until.ok()) return usage(std::string(until.status().message()));
    options.until = *until;
  }
  options.max_months = args.max_months;
  options.page_size = args.page_size;
  hub::Collector collector(options);
  const size_t total = bases.size();
  size_t index = 0;
  collector.set_progress([&](const hub::CollectorProgress& p) {
    if (p.pages % 10 == 0) {
      std::cerr << "collect: [" << index << "/" << total << "] " << p.base_id << ": "
                << p.models_listed << " models listed so far\n";
    }
  });

  std::vector<Row> rows;
  int failed = 0;
  bool stopped = false;
  for (const std::string& base : bases) {
    ++index;
    absl::StatusOr<hub::BaseCollection> got = collector.Collect(base);
    if (!got.ok()) {
      ++failed;
      rows.push_back(Row{base, base, args.relation, -1, -1, "", StatusWord(got.status()),
                         std::string(got.status().message())});
      std::cerr << "collect: [" << index << "/" << total << "] " << base << ": "
                << absl::StatusCodeToString(got.status().code()) << ": " << got.status().message()
                << "\n";
      if (got.status().code() == absl::StatusCode::kUnauthenticated) {
        stopped = true;
        break;
      }
      continue;
    }
    v1::UpsertSeriesRequest req;
    for (const std::string& relation : options.relations) {
      *req.add_series() = hub::ToSeries(*got, relation, options.hub_url);
    }
    std::string status = "dry-run";
    std::string message;
    if (client != nullptr) {
      absl::StatusOr<v1::UpsertSeriesResponse> resp = client->UpsertSeries(req);
      if (resp.ok()) {
        status = resp->created() > 0 ? "created" : resp->updated() > 0 ? "updated" : "unchanged";
        // A re-collection that has fewer months or metadata than what is
        // stored (e.g. an earlier --until) replaces it: say so.
        for (const auto& w : resp->warnings()) std::cerr << "warning: " << w << "\n";
      } else {
        ++failed;
        status = "not_stored";
        message = absl::StrCat(absl::StatusCodeToString(resp.status().code()), ": ",
                               resp.status().message());
      }
    }
    std::vector<std::string> notes;
    if (got->canonical_id != base) notes.push_back("redirected to " + got->canonical_id);
    if (got->created_at_unknown) {
      notes.push_back(
          "creation date unknown (the Hub's legacy placeholder): months are counted from it");
    }
    if (!got->gated.empty()) notes.push_back("gated: " + got->gated);
    if (!message.empty()) notes.push_back(message);
    const std::string note = absl::StrJoin(notes, "; ");
    for (const v1::Series& s : req.series()) {
      rows.push_back(
          Row{s.id(), got->canonical_id, s.metadata().at("relation"), s.points_size() - 1,
              s.points_size() > 0 ? static_cast<int64_t>(s.points(s.points_size() - 1).value()) : 0,
              s.metadata().at("created_at"), status, note});
    }
    const std::vector<int64_t>& first = got->cumulative.begin()->second;
    std::cerr << "collect: [" << index << "/" << total << "] " << got->canonical_id << ": "
              << got->derived_models << " derived models listed in " << got->pages << " page(s); "
              << options.relations.front() << ": " << (first.empty() ? 0 : first.back()) << " over "
              << first.size() << " month(s); " << status << (note.empty() ? "" : "; " + note)
              << " (" << collector.http_stats().requests << " requests, "
              << collector.http_stats().rate_limit_waits << " rate-limit waits so far)\n";
  }
  const hub::HttpStats& http = collector.http_stats();
  std::cerr << "collect: " << total << " base model(s): " << (index - failed) << " collected, "
            << failed << " failed" << (stopped ? " (run stopped: token refused)" : "") << "; "
            << http.requests << " requests, " << http.retries << " retries, "
            << http.rate_limit_waits << " rate-limit waits, waited "
            << absl::FormatDuration(http.waited) << "\n";

  if (format == Format::kCsv) {
    std::cout << "series_id,base_model,relation,months,last_value,created_at,status,message\n";
    for (const Row& r : rows) {
      std::cout << CsvCell(r.id) << "," << CsvCell(r.base) << "," << r.relation << ","
                << (r.months >= 0 ? absl::StrCat(r.months) : "") << ","
                << (r.last >= 0 ? absl::StrCat(r.last) : "") << "," << r.created_at << ","
                << r.status << "," << CsvCell(r.message) << "\n";
    }
  } else {
    Table table({"series", "months", "last", "created_at", "status", "note"});
    for (const Row& r : rows) {
      table.AddRow({r.id, r.months >= 0 ? absl::StrCat(r.months) : "",
                    r.last >= 0 ? absl::StrCat(r.last) : "", r.created_at, r.status, r.message});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return failed == 0 ? kExitOk : kExitError;
}

}  // namespace adoption::cli
