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
// (INVALID_ARGUMENT "<file>:<line>: <reason>"), so a caller can refuse the file
// without storing any of it.
#ifndef ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_
#define ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "adoption/v1/adoption.pb.h"

namespace adoption::cli {

// Parses CSV text. file_name is used in error messages and the source tag.
absl::StatusOr<std::vector<adoption::v1::Series>> ParseFinetuneCsv(
    absl::string_view content, absl::string_view file_name);

// Reads and parses a file (NOT_FOUND if it cannot be read).
absl::StatusOr<std::vector<adoption::v1::Series>> ReadFinetuneCsvFile(
    const std::string& path);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_FINETUNE_CSV_H_
