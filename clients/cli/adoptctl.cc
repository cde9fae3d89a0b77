// adoptctl: command-line client of adoptiond.
//
//   adoptctl [--server ADDR] [--timeout S] [--token-file F] [--tls-ca F]
//            <command> [options]
//
// Commands: load-csv, collect, snapshot, list, get, append, delete, fitters,
// fit, compare, forecast
// (`adoptctl <command> --help` for each). Results go to stdout in the chosen
// --format (table for people; json is the response message in the canonical
// proto3 JSON mapping; csv for spreadsheets and scripts); errors go to
// stderr. Output depends only on the server's responses, so it is
// deterministic for a given store and set of plugins.
//
// Exit codes: 0 success; 1 the server refused the request or could not be
// reached ("error: <CODE>: <message>" on stderr), a CSV file was refused
// ("error: INVALID_ARGUMENT: <file>:<line>: <reason>"), or a compare
// selection matched no series ("error: NOT_FOUND: the selection matches no
// series: ..."); 2 usage error.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adoption/client.h"
#include "clients/cli/collect_command.h"
#include "clients/cli/finetune_csv.h"
#include "clients/cli/report_format.h"
#include "clients/cli/request_args.h"
#include "clients/cli/snapshot_command.h"

namespace {

namespace v1 = adoption::v1;
using adoption::cli::Format;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr char kDefaultServer[] = "127.0.0.1:50051";

// Everything the command line sets; one instance, filled by CLI11.
struct Args {
  // Global.
  std::string server = kDefaultServer;
  double timeout_seconds = 600;
  std::string token_file;
  std::string tls_ca;
  std::string format = "table";
  // Shared by several commands (only one command runs).
  std::string id;
  std::vector<std::string> points;  // append: t=value
  int64_t expected_revision = -1;   // append, delete: -1 = unchecked
  std::string series_id;
  std::string fitter;
  std::vector<std::string> options;  // key=value (fit, forecast)
  std::vector<std::string> filters;  // key=value (list, compare)
  // load-csv
  std::vector<std::string> csv_files;
  std::string time_unit = "month";
  std::string kind = "finetunes";
  bool time_unit_given = false;
  // list
  int page_size = 1000;
  bool with_points = false;
  // delete
  bool allow_missing = false;
  // compare
  bool all = false;
  std::vector<std::string> series_ids;
  std::string fitter_list;
  std::vector<std::string> fitter_options;  // fitter.key=value
  std::string criterion = "aicc";
  std::string group_by;
  bool profiles = false;
  std::string profile_fitter;
  int limit = 20;
  bool summary_only = false;
  std::string loss = "sse";
  bool no_cv = false;
  std::vector<int> horizons;  // compare: cross-validation horizons
  bool quiet = false;         // compare: no progress line on a terminal
  bool cv_details = false;    // compare: every fold
  bool progress = false;      // compare: progress lines even when not a terminal
  // collect
  adoption::cli::CollectArgs collect;
  adoption::cli::SnapshotArgs snapshot;
  // forecast
  int horizon = 0;
  double level = 0.95;
};

int Fail(const absl::Status& status) {
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  return kExitError;
}

// An argument CLI11's checks let through but the request cannot take (e.g. a
// key given twice with different values): a usage error.
int FailUsage(const absl::Status& status) {
  std::cerr << status.message() << "\nRun with --help for more information.\n";
  return kExitUsage;
}

// Fail() plus a hint for the two errors whose cause is usually local.
int FailRpc(const absl::Status& status, const Args& args) {
  Fail(status);
  if (status.code() == absl::StatusCode::kUnavailable) {
    std::cerr << "hint: is adoptiond running at " << args.server
              << "? (--server or ADOPTION_SERVER; --tls-ca if it uses TLS)\n";
  } else if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    std::cerr << "hint: the call ran past --timeout " << args.timeout_seconds << " s\n";
  }
  return kExitError;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// CLI11 validators over the request_args checks: a malformed pair is a
// usage error, reported before anything is sent.
CLI::Validator KeyValueValidator() {
  return CLI::Validator([](std::string& arg) { return adoption::cli::KeyValueProblem(arg); },
                        "KEY=VALUE", "key=value");
}
CLI::Validator FitterOptionValidator() {
  return CLI::Validator([](std::string& arg) { return adoption::cli::FitterOptionProblem(arg); },
                        "FITTER.KEY=VALUE", "fitter.key=value");
}

void AddFormat(CLI::App* cmd, Args* args, std::vector<std::string> formats) {
  std::string names;
  for (const auto& f : formats) names += (names.empty() ? "" : ", ") + f;
  cmd->add_option("--format", args->format, "output: " + names)
      ->capture_default_str()
      ->check(CLI::IsMember(formats));
}

void Print(const std::string& text) { std::cout << text << std::flush; }

// A comparison's progress on stderr: on a terminal one line rewritten in
// place (counts, rate, time left), at most 5 times a second; with --progress
// and no terminal, one line per update, for logs and tests.
class ProgressLine {
 public:
  ProgressLine(bool enabled, bool terminal) : enabled_(enabled), terminal_(terminal) {}
  void Show(const v1::CompareProgress& p) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (terminal_ && now - last_ < absl::Milliseconds(200) && p.fits_done() < p.fits_total()) {
      return;
    }
    last_ = now;
    const double rate = p.elapsed_seconds() > 0 ? p.fits_done() / p.elapsed_seconds() : 0;
    const double left = rate > 0 ? (p.fits_total() - p.fits_done()) / rate : 0;
    std::string line = absl::StrFormat(
        "%s: %d/%d series, %d/%d fits (%.0f%%), %.0f fits/s, %.0f s left", p.phase(),
        p.series_done(), p.series_total(), p.fits_done(), p.fits_total(),
        p.fits_total() > 0 ? 100.0 * p.fits_done() / p.fits_total() : 100.0, rate, left);
    if (terminal_) {
      std::cerr << "\r" << line << "\x1b[K" << std::flush;
      shown_ = true;
    } else {
      std::cerr << "progress " << line << "\n";
    }
  }
  // Clears the line on a terminal.
  void Done() {
    if (shown_) std::cerr << "\r\x1b[K" << std::flush;
    shown_ = false;
  }

 private:
  bool enabled_;
  bool terminal_;
  bool shown_ = false;
  absl::Time last_ = absl::InfinitePast();
};

// Each command: sends its requests, prints the result, returns the exit code.

int LoadCsv(adoption::AdoptionClient& client, const Args& args) {
  const bool downloads = args.kind == "downloads";
  if (downloads && args.time_unit_given) {
    return FailUsage(absl::InvalidArgumentError(
        "--time-unit: --kind downloads reads daily files (the time unit is day); --time-unit "
        "is for the long layout"));
  }
  // Parse every file before sending anything: one bad file stores nothing.
  auto files = adoption::cli::ReadFinetuneCsvFiles(
      args.csv_files, args.time_unit == "day" ? v1::TIME_UNIT_DAY : v1::TIME_UNIT_MONTH,
      downloads ? adoption::cli::CsvKind::kDownloads : adoption::cli::CsvKind::kFinetunes);
  if (!files.ok()) {
    Fail(files.status());
    std::cerr << "nothing was stored\n";
    return kExitError;
  }
  int created = 0, updated = 0, unchanged = 0;
  for (size_t i = 0; i < files->size(); ++i) {
    auto& file = (*files)[i];
    if (file.series.empty()) {
      std::cout << file.path << ": no series\n";
      continue;
    }
    // One request per file: the server stores it atomically.
    v1::UpsertSeriesRequest req;
    for (auto& s : file.series) *req.add_series() = std::move(s);
    auto resp = client.UpsertSeries(req);
    if (!resp.ok()) {
      FailRpc(resp.status(), args);
      std::cerr << file.path << " was not stored";
      if (i > 0) {
        std::cerr << "; the " << i << " file(s) before it were (totals so far: " << created
                  << " created, " << updated << " updated, " << unchanged << " unchanged)";
      } else {
        std::cerr << "; nothing was stored";
      }
      std::cerr << "\n";
      return kExitError;
    }
    std::cout << file.path << ": " << req.series_size() << " series: " << resp->created()
              << " created, " << resp->updated() << " updated, " << resp->unchanged()
              << " unchanged\n";
    for (const auto& w : resp->warnings())
      std::cerr << "warning: " << file.path << ": " << w << "\n";
    created += resp->created();
    updated += resp->updated();
    unchanged += resp->unchanged();
  }
  std::cout << "total: " << created + updated + unchanged << " series: " << created << " created, "
            << updated << " updated, " << unchanged << " unchanged\n";
  return kExitOk;
}

int List(adoption::AdoptionClient& client, const Args& args, Format format) {
  auto filter = adoption::cli::ParseKeyValues(args.filters, "--filter");
  if (!filter.ok()) return FailUsage(filter.status());
  // The table and CSV show each series' point count and last value, so they
  // need the points; JSON carries them only when asked.
  const bool include_points = format != Format::kJson || args.with_points;
  v1::ListSeriesResponse all_pages;
  std::string token;
  do {
    v1::ListSeriesRequest req;
    req.set_page_size(args.page_size);
    req.set_page_token(token);
    req.set_include_points(include_points);
    req.mutable_metadata_filter()->insert(filter->begin(), filter->end());
    auto resp = client.ListSeries(req);
    if (!resp.ok()) return FailRpc(resp.status(), args);
    for (auto& s : *resp->mutable_series()) *all_pages.add_series() = std::move(s);
    all_pages.set_total_size(resp->total_size());
    token = resp->next_page_token();
  } while (!token.empty());
  const std::vector<v1::Series> series(all_pages.series().begin(), all_pages.series().end());
  switch (format) {
    case Format::kJson:
    case Format::kJsonLines:
      Print(adoption::cli::ToJson(all_pages) + "\n");
      break;
    case Format::kCsv:
      Print(adoption::cli::SeriesListToCsv(series));
      break;
    case Format::kTable:
      Print(adoption::cli::SeriesListToTable(series) + absl::StrCat(series.size(), " series\n"));
      break;
  }
  return kExitOk;
}

int Get(adoption::AdoptionClient& client, const Args& args, Format format) {
  v1::GetSeriesRequest req;
  req.set_id(args.id);
  auto resp = client.GetSeries(req);
  if (!resp.ok()) return FailRpc(resp.status(), args);
  switch (format) {
    case Format::kJson:
    case Format::kJsonLines:
      Print(adoption::cli::ToJson(*resp) + "\n");
      break;
    case Format::kCsv:
      Print(adoption::cli::SeriesPointsToCsv(*resp));
      break;
    case Format::kTable:
      Print(adoption::cli::SeriesToTable(*resp));
      break;
  }
  return kExitOk;
}

// Adds points after a series' last point (what a periodic job does).
int Append(adoption::AdoptionClient& client, const Args& args) {
  v1::AppendPointsRequest req;
  req.set_series_id(args.id);
  for (size_t i = 0; i < args.points.size(); ++i) {
    const std::string& p = args.points[i];
    const size_t eq = p.find('=');
    const std::string when = p.substr(0, eq == std::string::npos ? 0 : eq);
    // A date (YYYY-MM-DD, read on the series' origin by the server) or a t.
    const bool is_date = when.size() == 10 && when[4] == '-' && when[7] == '-';
    double t = 0, value = 0;
    if (eq == std::string::npos || (!is_date && !absl::SimpleAtod(when, &t)) ||
        !absl::SimpleAtod(p.substr(eq + 1), &value)) {
      return FailUsage(absl::InvalidArgumentError(
          absl::StrCat("--point ", p,
                       ": expected MONTH=VALUE or DATE=VALUE, e.g. --point 14=5300 or --point "
                       "2024-09-18=5300")));
    }
    auto* point = req.add_points();
    if (is_date) {
      point->set_date(when);
    } else {
      point->set_t(t);
    }
    point->set_value(value);
  }
  if (args.expected_revision >= 0) req.set_expected_revision(args.expected_revision);
  auto resp = client.AppendPoints(req);
  if (!resp.ok()) return FailRpc(resp.status(), args);
  std::cout << args.id << ": " << resp->appended() << " appended, " << resp->already_present()
            << " already present, revision " << resp->revision() << "\n";
  return kExitOk;
}

int Delete(adoption::AdoptionClient& client, const Args& args) {
  v1::DeleteSeriesRequest req;
  req.set_id(args.id);
  req.set_allow_missing(args.allow_missing);
  if (args.expected_revision >= 0) req.set_expected_revision(args.expected_revision);
  auto resp = client.DeleteSeries(req);
  if (!resp.ok()) return FailRpc(resp.status(), args);
  std::cout << (resp->deleted() ? "deleted " : "no such series (nothing deleted): ") << args.id
            << "\n";
  return kExitOk;
}

int Fitters(adoption::AdoptionClient& client, const Args& args, Format format) {
  auto resp = client.ListFitters();
  if (!resp.ok()) return FailRpc(resp.status(), args);
  Print(format == Format::kJson ? adoption::cli::ToJson(*resp) + "\n"
                                : adoption::cli::FittersToTable(*resp));
  return kExitOk;
}

int Fit(adoption::AdoptionClient& client, const Args& args, Format format) {
  auto opts = adoption::cli::ParseKeyValues(args.options, "--option");
  if (!opts.ok()) return FailUsage(opts.status());
  v1::FitRequest req;
  req.set_series_id(args.series_id);
  req.set_fitter(args.fitter);
  req.mutable_options()->insert(opts->begin(), opts->end());
  auto resp = client.Fit(req);
  if (!resp.ok()) return FailRpc(resp.status(), args);
  switch (format) {
    case Format::kJson:
    case Format::kJsonLines:
      Print(adoption::cli::ToJson(*resp) + "\n");
      break;
    case Format::kCsv:
      Print(adoption::cli::FitToCsv(resp->result()));
      break;
    case Format::kTable:
      Print(adoption::cli::FitToTable(resp->result()));
      break;
  }
  return kExitOk;
}

// A CompareModels that matched no series: the server answers OK with
// series_count 0; say so, with near matches of a --filter, and fail.
int FailEmptySelection(adoption::AdoptionClient& client, const v1::SeriesSelector& selection) {
  std::map<std::string, std::set<std::string>> values;
  if (!selection.metadata_filter().empty()) {
    for (const auto& [key, value] : selection.metadata_filter()) values[key];
    v1::ListSeriesRequest req;
    req.set_page_size(1000);
    do {
      auto page = client.ListSeries(req);
      if (!page.ok()) {  // the hint is a courtesy
        values.clear();
        break;
      }
      for (const auto& s : page->series()) {
        for (auto& [key, have] : values) {
          if (auto it = s.metadata().find(key); it != s.metadata().end()) have.insert(it->second);
        }
      }
      req.set_page_token(page->next_page_token());
    } while (!req.page_token().empty());
  }
  return Fail(absl::NotFoundError(adoption::cli::EmptySelectionMessage(selection, values)));
}

int Compare(adoption::AdoptionClient& client, const Args& args, Format format) {
  v1::CompareModelsRequest req;
  if (args.all) {
    req.mutable_selection()->set_all(true);
  } else if (!args.series_ids.empty()) {
    for (const auto& s : args.series_ids) req.mutable_selection()->add_ids(s);
  } else {
    auto filter = adoption::cli::ParseKeyValues(args.filters, "--filter");
    if (!filter.ok()) return FailUsage(filter.status());
    req.mutable_selection()->mutable_metadata_filter()->insert(filter->begin(), filter->end());
  }
  for (auto& f : adoption::cli::SplitFitterList(args.fitter_list)) {
    req.add_fitters(std::move(f));
  }
  if (absl::Status s = adoption::cli::AddFitterOptions(args.fitter_options, &req); !s.ok()) {
    return FailUsage(s);
  }
  req.set_criterion(args.criterion == "bic" ? v1::CRITERION_BIC : v1::CRITERION_AICC);
  req.set_group_by(args.group_by);
  req.set_profiles(args.profiles || !args.profile_fitter.empty());
  req.set_profile_fitter(args.profile_fitter);
  req.set_summary_only(args.summary_only);
  req.set_loss(*adoption::cli::ServerLossName(args.loss));  // checked by CLI11
  if (args.no_cv) req.mutable_cross_validation()->set_disabled(true);
  if (args.no_cv && !args.horizons.empty()) {
    return FailUsage(absl::InvalidArgumentError("--horizons: not with --no-cv"));
  }
  for (int h : args.horizons) req.mutable_cross_validation()->add_horizons(h);
  req.set_cv_details(args.cv_details);
  ProgressLine progress(args.progress || (!args.quiet && isatty(STDERR_FILENO)),
                        isatty(STDERR_FILENO));
  if (format == Format::kJsonLines) {
    // Bounded memory: every batch of series reports is written as it
    // arrives, one SeriesReport per line, then the summary's line.
    absl::Status status = client.CompareModelsStream(req, [&](const v1::CompareModelsEvent& e) {
      if (e.has_progress()) progress.Show(e.progress());
      for (const auto& r : e.series().reports()) Print(adoption::cli::ToJsonLine(r) + "\n");
      if (e.has_summary()) {
        progress.Done();
        Print(adoption::cli::ToJsonLine(e.summary()) + "\n");
      }
      return true;
    });
    progress.Done();
    if (!status.ok()) return FailRpc(status, args);
    return kExitOk;
  }
  auto resp = client.CompareModelsWithProgress(
      req, [&](const v1::CompareProgress& p) { progress.Show(p); });
  progress.Done();
  if (!resp.ok()) return FailRpc(resp.status(), args);
  if (resp->series_count() == 0) return FailEmptySelection(client, req.selection());
  switch (format) {
    case Format::kJson:
    case Format::kJsonLines:
      Print(adoption::cli::ToJson(*resp) + "\n");
      break;
    case Format::kCsv:
      Print(args.cv_details ? adoption::cli::CvFoldsToCsv(*resp)
                            : adoption::cli::CompareToCsv(*resp));
      break;
    case Format::kTable:
      Print(adoption::cli::CompareToTable(*resp, args.limit));
      break;
  }
  return kExitOk;
}

int Forecast(adoption::AdoptionClient& client, const Args& args, Format format) {
  auto opts = adoption::cli::ParseKeyValues(args.options, "--option");
  if (!opts.ok()) return FailUsage(opts.status());
  v1::ForecastRequest req;
  req.set_series_id(args.series_id);
  req.set_fitter(args.fitter);
  req.set_horizon(args.horizon);
  req.set_interval_level(args.level);
  req.mutable_options()->insert(opts->begin(), opts->end());
  auto resp = client.Forecast(req);
  if (!resp.ok()) return FailRpc(resp.status(), args);
  switch (format) {
    case Format::kJson:
    case Format::kJsonLines:
      Print(adoption::cli::ToJson(*resp) + "\n");
      break;
    case Format::kCsv:
      Print(adoption::cli::ForecastToCsv(*resp));
      break;
    case Format::kTable:
      Print(adoption::cli::ForecastToTable(*resp));
      break;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.server = adoption::DefaultServerAddress();  // $ADOPTION_SERVER, else 127.0.0.1:50051

  CLI::App app{
      "adoptctl: client of adoptiond, the adoption-engine server.\n"
      "Loads adoption series (cumulative fine-tunes per month, download-days per day) and "
      "compares "
      "adoption models on them.\n"
      "Exit codes: 0 ok, 1 server/RPC error or refused file, 2 usage error."};
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  adoptctl load-csv data/hf-finetunes-2025-02-18/*.csv\n"
      "  adoptctl load-csv --kind downloads data/hf-downloads-2025-02-18/*.csv\n"
      "  adoptctl compare --all --group-by company\n"
      "  HF_TOKEN=hf_... adoptctl collect --base meta-llama/Llama-3.1-8B --relation all\n"
      "  adoptctl snapshot --author meta-llama   # once a day: downloads and likes\n"
      "  adoptctl compare --series meta-llama/Llama-2-7b\n"
      "  adoptctl compare --filter company=Meta --format csv > meta.csv\n"
      "  adoptctl fit --series google/gemma-2b --fitter citation --option m=100\n"
      "  adoptctl forecast --series google/gemma-2b --fitter combined --horizon 6\n"
      "Run `adoptctl <command> --help` for a command's options.");
  app.add_option("--server", args.server,
                 "adoptiond address host:port (default from env ADOPTION_SERVER, "
                 "else 127.0.0.1:50051)")
      ->capture_default_str();
  app.add_option("--timeout", args.timeout_seconds, "deadline of each call, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--token-file", args.token_file,
                 "file holding a bearer token (sent as authorization: Bearer <token>)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", args.tls_ca, "PEM root certificate of the server: connect with TLS")
      ->check(CLI::ExistingFile);

  auto* load = app.add_subcommand(
      "load-csv",
      "Load series from CSV files: the paper's layout (data/hf-finetunes-2025-02-18: a "
      "model per row, k-month columns) or the long layout (a row per series and date: "
      "columns id, ds, y, optionally origin, other columns as metadata), or with --kind "
      "downloads the paper's daily download files. Every "
      "file is parsed first; if any is malformed (<file>:<line>: <reason>), nothing "
      "is stored. Each file is stored atomically in one request; ids must be unique "
      "across the files.");
  load->add_option("files", args.csv_files, "CSV files")->required()->check(CLI::ExistingFile);
  auto* time_unit_option =
      load->add_option("--time-unit", args.time_unit,
                       "long layout: the series' time unit, month (calendar months from the "
                       "origin) or day")
          ->check(CLI::IsMember({"month", "day"}));
  load->add_option("--kind", args.kind,
                   "finetunes: monthly adoption series (the paper's fine-tune layout or the "
                   "long layout); downloads: the paper's daily download files "
                   "(hf-downloads-2025-02-18: a model per row, a column per day, then "
                   "created_at), stored as series \"download_days:<model>\" with unit "
                   "downloads_30d_daysum, days since creation, leading unobserved days left out")
      ->capture_default_str()
      ->check(CLI::IsMember({"finetunes", "downloads"}));

  auto* collect = adoption::cli::AddCollectCommand(app, &args.collect, &args.format);
  auto* snapshot = adoption::cli::AddSnapshotCommand(app, &args.snapshot, &args.format);

  auto* list = app.add_subcommand("list", "List stored series (all pages), in id order.");
  list->add_option("--filter", args.filters,
                   "metadata key=value, e.g. company=Meta (repeatable; all must match)")
      ->check(KeyValueValidator());
  list->add_option("--page-size", args.page_size, "series per request")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  list->add_flag("--points", args.with_points,
                 "include the points in json output (table and csv always show the "
                 "point count and last value)");
  AddFormat(list, &args, {"table", "json", "csv"});

  auto* get = app.add_subcommand("get", "Show one series with its metadata and points.");
  get->add_option("id", args.id, "series id, e.g. meta-llama/Llama-2-7b")->required();
  AddFormat(get, &args, {"table", "json", "csv"});

  auto* del = app.add_subcommand("delete", "Delete one series.");
  del->add_option("id", args.id, "series id")->required();
  del->add_flag("--allow-missing", args.allow_missing, "succeed if the series does not exist");
  del->add_option("--expected-revision", args.expected_revision,
                  "refuse (ABORTED) unless the series is at this revision")
      ->check(CLI::NonNegativeNumber);

  auto* append = app.add_subcommand(
      "append",
      "Add points after the last point of a stored series (a monthly job's write). A point "
      "already stored with the same value is accepted unchanged, so re-running is safe; "
      "another value at a stored month, a point before the end or a decrease is refused and "
      "nothing changes. Metadata is kept.");
  append->add_option("--series", args.id, "series id")->required();
  append
      ->add_option("--point", args.points,
                   "MONTH=VALUE or DATE=VALUE (YYYY-MM-DD, for a series with an origin date), "
                   "repeatable, in increasing time")
      ->required();
  append
      ->add_option("--expected-revision", args.expected_revision,
                   "refuse (ABORTED) unless the series is at this revision (from `get`)")
      ->check(CLI::NonNegativeNumber);

  auto* fitters = app.add_subcommand(
      "fitters", "List the loaded fitter plugins, and plugins the server refused.");
  AddFormat(fitters, &args, {"table", "json"});

  auto* fit = app.add_subcommand("fit", "Fit one fitter to one series.");
  fit->add_option("--series", args.series_id, "series id")->required();
  fit->add_option("--fitter", args.fitter, "fitter name (see `adoptctl fitters`)")->required();
  fit->add_option("--option", args.options, "fitter option key=value, e.g. m=100 (repeatable)")
      ->check(KeyValueValidator());
  AddFormat(fit, &args, {"table", "json", "csv"});

  auto* compare =
      app.add_subcommand("compare",
                         "Compare fitters on a selection of series: which model explains adoption "
                         "best, per series, per group and over the batch.");
  auto* selection =
      compare->add_option_group("selection", "which series to compare (exactly one of these)");
  selection->add_flag("--all", args.all, "every stored series");
  selection->add_option("--series", args.series_ids, "series ids (one or more)");
  selection
      ->add_option("--filter", args.filters,
                   "metadata key=value, e.g. company=Meta (repeatable; all must match)")
      ->check(KeyValueValidator());
  selection->require_option(1);
  compare->add_option("--fitters", args.fitter_list,
                      "comma-separated fitter names (default: every loaded fitter)");
  compare
      ->add_option("--option", args.fitter_options,
                   "fitter option fitter.key=value, e.g. citation.m=100 (repeatable); "
                   "citation.m=pooled chooses one m for the whole selection by "
                   "cross-validation")
      ->check(FitterOptionValidator());
  compare->add_option("--criterion", args.criterion, "ranking criterion")
      ->capture_default_str()
      ->check(CLI::IsMember({"aicc", "bic"}));
  compare->add_option("--group-by", args.group_by, "metadata key to aggregate by, e.g. company");
  compare->add_flag("--profiles", args.profiles,
                    "with --group-by: per group, the distribution of the citation parameters "
                    "and derived quantities over the series it fits, and tests of whether the "
                    "groups differ");
  compare->add_option("--profile-fitter", args.profile_fitter,
                      "the fitter to profile (implies --profiles; default citation)");
  compare
      ->add_option("--limit", args.limit,
                   "series rows in the table, largest last value first (0 = all); "
                   "per-fitter details are shown when at most 3 series are")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  compare->add_flag("--summary-only", args.summary_only,
                    "only the batch and group summaries (no per-series results)");
  compare
      ->add_option("--loss", args.loss,
                   "what curves are fitted to: sse (least squares on the cumulative "
                   "series) or poisson (Poisson likelihood on monthly increments); "
                   "sse_cumulative and poisson_deviance_increments (the names in the "
                   "output) also work")
      ->capture_default_str()
      ->check(CLI::IsMember({"sse", "poisson", "sse_cumulative", "poisson_deviance_increments"}));
  compare->add_flag("--no-cv", args.no_cv, "skip rolling-origin cross-validation");
  compare
      ->add_option("--horizons", args.horizons,
                   "cross-validation horizons in the series' time unit, comma-separated "
                   "(default 1,3,6: months, or days for daily series such as 7,30,60); each "
                   "1..60")
      ->delimiter(',')
      ->check(CLI::Range(1, 60));
  compare->add_flag(
      "--cv-details", args.cv_details,
      "every cross-validation fold: with --format csv one row per fold "
      "(series_id,fitter,origin_t,cutoff,horizon,t,ds,actual,forecast,error) instead of the "
      "fit rows; in json each fit's cvFolds");
  compare->add_flag("--quiet", args.quiet,
                    "no progress line (shown on stderr when it is a terminal)");
  compare->add_flag("--progress", args.progress,
                    "progress lines on stderr even when it is not a terminal");
  AddFormat(compare, &args, {"table", "json", "jsonl", "csv"});
  compare->footer(
      "table: batch summary (verdicts; per fitter wins, fit outcomes, median R^2, mean "
      "Akaike weight, cross-validated errors; a pooled m with its grid scores), one table "
      "per --group-by value, then one "
      "row per series; '*' marks the winner in the per-fitter details.\n"
      "csv: one row per series x fitter: series_id,fitter,status,n,k,sse,rmse,r2,aicc,"
      "bic,akaike_weight,winner,param_<name>...,[cv columns],verdict,message,paper_*"
      "[,pooled_citation_m,pooled_citation_m_scores with citation.m=pooled].\n"
      "json: the CompareModelsResponse in the proto3 JSON mapping.\n"
      "jsonl: one SeriesReport per line as the server sends them, then the summary (the "
      "response without series) on the last line; memory stays bounded for any size.");

  auto* forecast = app.add_subcommand(
      "forecast", "Fit one fitter to one series and extrapolate it, with prediction intervals.");
  forecast->add_option("--series", args.series_id, "series id")->required();
  forecast
      ->add_option("--fitter", args.fitter,
                   "fitter name, or \"combined\" (every fitter, weighted by its "
                   "cross-validated error)")
      ->required();
  forecast->add_option("--horizon", args.horizon, "months past the last point")
      ->required()
      ->check(CLI::Range(1, 120));
  forecast->add_option("--level", args.level, "prediction interval coverage, in (0, 1)")
      ->capture_default_str()
      ->check(
          CLI::Validator([](std::string& arg) { return adoption::cli::IntervalLevelProblem(arg); },
                         "(0, 1)", "level"));
  forecast->add_option("--option", args.options, "fitter option key=value (repeatable)")
      ->check(KeyValueValidator());
  AddFormat(forecast, &args, {"table", "json", "csv"});

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a "success" ParseError; everything else is a usage error,
    // exit code 2 whatever CLI11's own code for it.
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  const Format format = *adoption::cli::ParseFormat(args.format);

  adoption::ClientOptions client_options;
  client_options.timeout = absl::Seconds(args.timeout_seconds);
  if (!args.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadWholeFile(args.token_file);
    if (!token.ok()) return Fail(token.status());
    client_options.token = std::string(absl::StripAsciiWhitespace(*token));
  }
  if (!args.tls_ca.empty()) {
    absl::StatusOr<std::string> pem = ReadWholeFile(args.tls_ca);
    if (!pem.ok()) return Fail(pem.status());
    client_options.tls_root_certs = *pem;
  }
  auto client_or = adoption::AdoptionClient::Connect(args.server, client_options);
  if (!client_or.ok()) return Fail(client_or.status());
  adoption::AdoptionClient& client = **client_or;

  args.time_unit_given = time_unit_option->count() > 0;
  if (*load) return LoadCsv(client, args);
  if (*collect) {
    return adoption::cli::RunCollect(args.collect.dry_run ? nullptr : &client, args.collect,
                                     format);
  }
  if (*snapshot) return adoption::cli::RunSnapshot(client, args.snapshot, format);
  if (*list) return List(client, args, format);
  if (*get) return Get(client, args, format);
  if (*del) return Delete(client, args);
  if (*append) return Append(client, args);
  if (*fitters) return Fitters(client, args, format);
  if (*fit) return Fit(client, args, format);
  if (*compare) return Compare(client, args, format);
  if (*forecast) return Forecast(client, args, format);
  return kExitUsage;  // unreachable: require_subcommand(1)
}
