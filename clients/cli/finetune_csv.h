// Readers of adoption series in CSV: the fine-tune format of the paper's
// published data (data/hf-finetunes-2025-02-18), one base model per row; the
// long layout (a row per series and date); the paper's daily download files
// (data/hf-downloads-2025-02-18, ParseDownloadsCsv).
//
// The fine-tune format:
//
// Columns: `model` (the series id), `0-month` .. `K-month` (cumulative counts
// k months after the base model's creation; empty after the collection date),
// and optionally lambda_i, mu_i, sigma_i, approx_condition, approx_cond_label,
// base_model, company, created_at, sort_key. Other columns are ignored.
//
// Each row becomes a Series with points (t = k, value) for every non-empty
// month cell, and metadata:
//   company, created_at          as given (when present and non-empty)
//   paper_lambda, paper_mu,      the paper's fitted citation parameters, kept
//   paper_sigma, paper_label     so reports can show them beside ours
//   source                       "csv:<file name>"
// The reader is strict: the first malformed line makes the whole file fail
// (INVALID_ARGUMENT "<file>:<line>: <reason>", the reason naming the column),
// so a caller can refuse the file without storing any of it. Refused: a
// header without `model` or without month columns, or with month columns
// that skip a month; a row whose field count differs from the header's; an
// empty, over-long (> 256 bytes) or duplicate id, or one with control
// characters; a month value that is not a number, negative, not finite,
// lower than the month before, or present after an empty month; a
// non-numeric lambda_i/mu_i/sigma_i/sort_key; an unterminated quote.
// Quoted fields follow RFC 4180 but may not span lines (the format has none).
// Blank lines are skipped; CRLF line ends and a UTF-8 BOM are accepted.
#ifndef ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_
#define ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adoption/v1/adoption.pb.h"
#include "clients/cli/download_series.h"

namespace adoption::cli {

// Parses CSV text. file_name is used in error messages and the source tag.
// If line_numbers is not null, it receives the 1-based line of each returned
// series (same order), for messages about a series found later.
absl::StatusOr<std::vector<adoption::v1::Series>> ParseFinetuneCsv(
    absl::string_view content, absl::string_view file_name,
    std::vector<int>* line_numbers = nullptr);

// The long layout, one row per (series, date), as a DataFrame of Prophet's
// or statsforecast's shape is written: columns `id` (or `series_id`), `ds`
// (or `date`; YYYY-MM-DD, a time after it is ignored), `y` (or `value`,
// the cumulative count), optionally `origin` (the date of t = 0; default:
// the series' first date); every other column is metadata (its value on
// the series' first row). Rows may come in any order; each series' points
// are sent by date, in date order, with the given time unit, and the
// server computes t on its calendar. Strict like the paper's reader: a
// missing column, a value that is not a finite count >= 0, a malformed
// date, a date twice in one series, a decreasing count, or (time unit
// month) two dates of a series less than 28 days apart, i.e. daily data
// read as monthly, fails the file ("<file>:<line>: <column>: reason").
absl::StatusOr<std::vector<adoption::v1::Series>> ParseLongCsv(
    absl::string_view content, absl::string_view file_name, adoption::v1::TimeUnit time_unit,
    std::vector<int>* line_numbers = nullptr);

// True when the header names a date column (ds or date) and no model
// column: the long layout rather than the paper's.
bool IsLongCsv(absl::string_view content);

// What a file holds (adoptctl load-csv --kind): adoption series by month
// (the paper's fine-tune layout or the long layout), or the paper's daily
// download files.
enum class CsvKind { kFinetunes, kDownloads };

// The daily download files of the paper's data (shared as
// hf-downloads-2025-02-18): one row per model; columns `model`, one column
// per day ("2024-07-02 00:00:00" or "2024-07-02"), dates strictly
// increasing, then `created_at`; `company` optional (default: the file's
// name without ".csv", which is how the published files name their
// organisation). Each value is the Hub's 30-day download count summed once
// a day ("download-days"; docs/decisions.md, "Daily download series").
//
// Each row becomes a Series:
//   id          "download_days:<model>" (DownloadDaysSeriesId)
//   unit        "downloads_30d_daysum", also as metadata `unit` (selections
//               filter on metadata: compare --filter unit=downloads_30d_daysum)
//   time_unit   DAY; origin the UTC date of created_at (t = days since the
//               model's creation), or the first observed day when the data
//               start before created_at (metadata origin_note says so)
//   points      by date, from the first non-zero day on: the zeros before
//               it are days not yet observed and are left out (a row of
//               zeros gives a series without points)
//   metadata    model, company, created_at, unit, source ("csv:<file>"),
//               first_observed (the first point's date, when there is one)
// Strict like the other readers ("<file>:<line>: <column>: reason"): no
// model, created_at or day column; a day column out of order or repeated;
// month columns (a fine-tune file); a cell that is empty, not a number,
// negative or not finite; a value lower than the day before (negative
// increment); a created_at that is not a time; a duplicate or bad id.
absl::StatusOr<std::vector<adoption::v1::Series>> ParseDownloadsCsv(
    absl::string_view content, absl::string_view file_name,
    std::vector<int>* line_numbers = nullptr);

// Reads and parses a file (NOT_FOUND if it cannot be read). kFinetunes:
// either monthly layout, time_unit applying to the long layout;
// kDownloads: ParseDownloadsCsv.
absl::StatusOr<std::vector<adoption::v1::Series>> ReadFinetuneCsvFile(
    const std::string& path, std::vector<int>* line_numbers = nullptr,
    adoption::v1::TimeUnit time_unit = adoption::v1::TIME_UNIT_MONTH,
    CsvKind kind = CsvKind::kFinetunes);

// One parsed file of a load.
struct FinetuneCsvFile {
  std::string path;
  std::vector<adoption::v1::Series> series;
  std::vector<int> lines;  // lines[i]: the line series[i] came from
};

// Reads and parses every file before returning any, so a caller can store
// all or nothing. Fails on the first file that cannot be read or parsed,
// and (INVALID_ARGUMENT "<file>:<line>: model: id \"x\" is also in
// <other>:<line>") on an id found in two files: stored one file per
// request, the later file would silently replace the earlier one's series.
absl::StatusOr<std::vector<FinetuneCsvFile>> ReadFinetuneCsvFiles(
    const std::vector<std::string>& paths,
    adoption::v1::TimeUnit time_unit = adoption::v1::TIME_UNIT_MONTH,
    CsvKind kind = CsvKind::kFinetunes);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_
