#include "clients/cli/snapshot_command.h"

#include <iostream>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/cli/collect_command.h"
#include "clients/cli/download_series.h"
#include "collector/collector.h"
#include "collector/months.h"

namespace adoption::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// One series of one model in the output.
struct Row {
  std::string model;
  std::string series;
  std::string value;   // "" when nothing was recorded
  std::string status;  // created, appended, already_recorded, not_recorded, failed
  std::string note;
};

// What one snapshot writes to one series.
struct Write {
  const DownloadSignal* signal;
  std::optional<double> value;  // nullopt: the Hub gave no value
  const char* hub_field;
};

std::string StatusText(const absl::Status& s) {
  return absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
}

// A new daily series for a model, its first point on `date`.
v1::Series NewSeries(const DownloadSignal& signal, const hub::ModelStats& stats,
                     const std::string& date, double value, const std::string& hub_url,
                     const char* hub_field) {
  v1::Series s;
  s.set_id(SignalSeriesId(signal, stats.canonical_id));
  s.set_unit(signal.unit);
  s.set_time_unit(v1::TIME_UNIT_DAY);
  // t is days since the model's creation (a model listed on the day of its
  // creation, or a --date before it, starts at the snapshot's day).
  const std::string created = absl::FormatTime("%Y-%m-%d", stats.created_at, absl::UTCTimeZone());
  s.set_origin(created <= date ? created : date);
  auto& m = *s.mutable_metadata();
  const std::string author = hub::AuthorOf(stats.canonical_id);
  m["model"] = stats.canonical_id;
  m["author"] = author;
  m["company"] = author;
  m["created_at"] = hub::FormatHubTime(stats.created_at);
  m["unit"] = signal.unit;
  m["hub_field"] = hub_field;
  m["source"] = absl::StrCat("huggingface-hub:", hub_url);
  m["first_observed"] = date;
  if (stats.requested_id != stats.canonical_id) m["requested_id"] = stats.requested_id;
  if (stats.created_at_unknown) m["created_at_unknown"] = "true";
  v1::Point* p = s.add_points();
  p->set_date(date);
  p->set_value(value);
  return s;
}

// Records one model's counters on `date`: one row per series.
std::vector<Row> Record(AdoptionClient& client, const hub::ModelStats& stats,
                        const std::string& date, const std::string& hub_url, int* failed) {
  std::vector<Row> rows;
  const Write writes[] = {
      {&kDownloadDays, static_cast<double>(stats.downloads_30d),
       "downloads (30 days), summed daily"},
      {&kDownloadsAllTime,
       stats.downloads_all_time ? std::optional<double>(*stats.downloads_all_time) : std::nullopt,
       "downloadsAllTime"},
      {&kLikes, static_cast<double>(stats.likes), "likes"},
  };
  for (const Write& w : writes) {
    Row row{stats.canonical_id, SignalSeriesId(*w.signal, stats.canonical_id), "", "", ""};
    auto fail = [&](std::string note) {
      ++*failed;
      row.status = "failed";
      row.note = std::move(note);
      rows.push_back(row);
    };
    if (!w.value) {
      row.status = "not_recorded";
      row.note = absl::StrCat("the Hub's answer has no ", w.hub_field);
      rows.push_back(row);
      continue;
    }
    v1::GetSeriesRequest get;
    get.set_id(row.series);
    absl::StatusOr<v1::Series> stored = client.GetSeries(get);
    if (!stored.ok() && stored.status().code() != absl::StatusCode::kNotFound) {
      fail(StatusText(stored.status()));
      continue;
    }
    if (!stored.ok()) {  // the model's first snapshot
      v1::UpsertSeriesRequest req;
      req.set_check_revisions(true);  // revision 0: only if nobody created it meanwhile
      *req.add_series() = NewSeries(*w.signal, stats, date, *w.value, hub_url, w.hub_field);
      absl::StatusOr<v1::UpsertSeriesResponse> resp = client.UpsertSeries(req);
      if (!resp.ok()) {
        fail(StatusText(resp.status()));
        continue;
      }
      row.value = absl::StrCat(*w.value);
      row.status = "created";
      rows.push_back(row);
      continue;
    }
    if (stored->time_unit() != v1::TIME_UNIT_DAY || stored->origin().empty()) {
      fail("the stored series is not a dated daily series (time unit day with an origin)");
      continue;
    }
    const int n = stored->points_size();
    const std::string last_date = n > 0 ? stored->points(n - 1).date() : "";
    const double last_value = n > 0 ? stored->points(n - 1).value() : 0;
    if (last_date == date) {
      row.value = absl::StrCat(last_value);
      row.status = "already_recorded";
      row.note = "the first snapshot of a day is kept";
      rows.push_back(row);
      continue;
    }
    if (last_date > date) {
      fail(absl::StrCat("the series already has a point on ", last_date, ", after ", date));
      continue;
    }
    // Download-days add the day's 30-day count to the running sum; the
    // other two are the Hub's totals.
    const double value = w.signal == &kDownloadDays ? last_value + *w.value : *w.value;
    if (value < last_value) {
      row.status = "not_recorded";
      row.note = absl::StrCat(w.hub_field, " fell from ", last_value, " (", last_date, ") to ",
                              value, "; series are non-decreasing, so ", date, " has no point");
      rows.push_back(row);
      continue;
    }
    v1::AppendPointsRequest append;
    append.set_series_id(row.series);
    append.set_expected_revision(stored->revision());
    v1::Point* p = append.add_points();
    p->set_date(date);
    p->set_value(value);
    absl::StatusOr<v1::AppendPointsResponse> resp = client.AppendPoints(append);
    if (!resp.ok()) {
      fail(StatusText(resp.status()));
      continue;
    }
    row.value = absl::StrCat(value);
    row.status = "appended";
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

CLI::App* AddSnapshotCommand(CLI::App& app, SnapshotArgs* args, std::string* format) {
  auto* cmd = app.add_subcommand(
      "snapshot",
      "Record today's download and like counters of Hugging Face models as one daily point "
      "of each of three series: download_days:<model> (running sum of the Hub's 30-day "
      "`downloads`, the paper's download-days, unit downloads_30d_daysum), "
      "downloads_all_time:<model> (the Hub's downloadsAllTime) and likes:<model>. Meant to "
      "run once a day (deploy/ has a systemd timer and a cron line). The Hub keeps no "
      "history: series start at the first snapshot. Re-running within a day changes "
      "nothing (the day's first snapshot is kept). A token, if needed, comes from HF_TOKEN.");
  cmd->add_option("--model", args->models, "model id, e.g. meta-llama/Llama-3.1-8B (repeatable)");
  cmd->add_option("--author", args->authors,
                  "every model of this user or organisation, e.g. meta-llama (repeatable)");
  cmd->add_option("--hub", args->hub,
                  "Hub base URL (default: $HF_ENDPOINT, else https://huggingface.co)");
  cmd->add_option("--date", args->date,
                  "the day the counters are recorded for, YYYY-MM-DD (default: today, UTC); for "
                  "tests and for a job that runs just after midnight for the day before");
  cmd->add_option("--page-size", args->page_size,
                  "models per listing page with --author (the Hub's maximum is 1000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--format", *format, "output: table, csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv"}));
  cmd->footer(
      "Output: one row per model and series with the value recorded and a status: created "
      "(first snapshot), appended, already_recorded (this day has its point), not_recorded "
      "(the Hub gave no value, or a total fell: the store keeps non-decreasing series), "
      "failed. Exit code 0 when every model was read and nothing failed; 1 otherwise; 2 on "
      "usage errors.");
  return cmd;
}

int RunSnapshot(AdoptionClient& client, const SnapshotArgs& args, Format format) {
  auto usage = [](const std::string& message) {
    std::cerr << message << "\nRun with --help for more information.\n";
    return kExitUsage;
  };
  if (args.models.empty() && args.authors.empty()) {
    return usage("snapshot: give at least one --model or --author");
  }
  std::string date = args.date;
  if (date.empty()) {
    date = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  } else if (absl::CivilDay day; date.size() != 10 || !absl::ParseCivilTime(date, &day)) {
    return usage(absl::StrCat("--date \"", date, "\" is not a date YYYY-MM-DD"));
  }
  absl::StatusOr<hub::CollectorOptions> options = HubOptions(args.hub, "snapshot");
  if (!options.ok()) return usage(std::string(options.status().message()));
  options->page_size = args.page_size;
  hub::Collector collector(*options);

  // The models to record: listed ids, then every model of each author.
  std::vector<hub::ModelStats> models;
  std::vector<Row> rows;
  int failed = 0;
  bool stopped = false;
  auto failed_read = [&](const std::string& what, const absl::Status& status) {
    ++failed;
    rows.push_back(Row{what, "", "", absl::AsciiStrToLower(absl::StatusCodeToString(status.code())),
                       std::string(status.message())});
    std::cerr << "snapshot: " << what << ": " << StatusText(status) << "\n";
    stopped = stopped || status.code() == absl::StatusCode::kUnauthenticated;
  };
  for (const std::string& id : args.models) {
    if (stopped) break;
    absl::StatusOr<hub::ModelStats> stats = collector.Stats(id);
    if (stats.ok()) {
      models.push_back(*std::move(stats));
    } else {
      failed_read(id, stats.status());
    }
  }
  for (const std::string& author : args.authors) {
    if (stopped) break;
    absl::StatusOr<std::vector<hub::ModelStats>> listed = collector.AuthorStats(author);
    if (!listed.ok()) {
      failed_read(author, listed.status());
      continue;
    }
    if (listed->empty()) {  // the Hub answers an unknown author with an empty list
      failed_read(author, absl::NotFoundError("the Hub lists no models of this author"));
      continue;
    }
    std::cerr << "snapshot: " << author << ": " << listed->size() << " model(s)\n";
    models.insert(models.end(), listed->begin(), listed->end());
  }
  std::set<std::string> done;  // a model listed twice is recorded once
  if (!stopped) {
    for (const hub::ModelStats& stats : models) {
      if (!done.insert(stats.canonical_id).second) continue;
      for (Row& r : Record(client, stats, date, options->hub_url, &failed)) {
        rows.push_back(std::move(r));
      }
    }
  }
  std::cerr << "snapshot: " << date << ": " << done.size() << " model(s) recorded, " << failed
            << " failure(s)" << (stopped ? " (run stopped: token refused)" : "") << "; "
            << collector.http_stats().requests << " requests\n";
  if (format == Format::kCsv) {
    std::cout << "model,series_id,date,value,status,note\n";
    for (const Row& r : rows) {
      std::cout << CsvCell(r.model) << "," << CsvCell(r.series) << "," << date << "," << r.value
                << "," << r.status << "," << CsvCell(r.note) << "\n";
    }
  } else {
    Table table({"series", "date", "value", "status", "note"});
    for (const Row& r : rows) {
      table.AddRow({r.series.empty() ? r.model : r.series, date, r.value, r.status, r.note});
    }
    std::cout << table.Render();
  }
  std::cout << std::flush;
  return failed == 0 ? kExitOk : kExitError;
}

}  // namespace adoption::cli
