// Reader for the fine-tune adoption CSV format of the paper's published data
// (data/hf-finetunes-2025-02-18): one base model per row.
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
// date, a date twice in one series or a decreasing count fails the file
// ("<file>:<line>: <column>: reason").
absl::StatusOr<std::vector<adoption::v1::Series>> ParseLongCsv(
    absl::string_view content, absl::string_view file_name, adoption::v1::TimeUnit time_unit,
    std::vector<int>* line_numbers = nullptr);

// True when the header names a date column (ds or date) and no model
// column: the long layout rather than the paper's.
bool IsLongCsv(absl::string_view content);

// Reads and parses a file in either layout (NOT_FOUND if it cannot be
// read); time_unit applies to the long layout.
absl::StatusOr<std::vector<adoption::v1::Series>> ReadFinetuneCsvFile(
    const std::string& path, std::vector<int>* line_numbers = nullptr,
    adoption::v1::TimeUnit time_unit = adoption::v1::TIME_UNIT_MONTH);

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
    adoption::v1::TimeUnit time_unit = adoption::v1::TIME_UNIT_MONTH);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_
