// Output formats of adoptctl: aligned tables for people, canonical proto3
// JSON and flat CSV for programs. Pure functions of the responses, so they
// are tested without a server.
#ifndef ADOPTION_CLIENTS_CLI_REPORT_FORMAT_H_
#define ADOPTION_CLIENTS_CLI_REPORT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adoption/v1/adoption.pb.h"
#include "google/protobuf/message.h"

namespace adoption::cli {

// kJsonLines: one JSON object per line, written as results arrive (compare).
enum class Format { kTable, kJson, kCsv, kJsonLines };

// Parses "table", "json", "jsonl" or "csv".
absl::StatusOr<Format> ParseFormat(const std::string& name);

// The message in the canonical proto3 JSON mapping, pretty printed, with
// fields at their default values included.
std::string ToJson(const google::protobuf::Message& message);
// The same on one line (no whitespace), for JSON lines.
std::string ToJsonLine(const google::protobuf::Message& message);
std::string ToJson(const google::protobuf::Message& message, bool pretty);

// "converged", "max_iterations", "not_fitted", "failed", "cancelled".
std::string StatusName(v1::FitStatus status);
// "fits", "does_not_fit", "not_enough_data".
std::string VerdictName(v1::SeriesVerdict verdict);

// A number for people: whole numbers and numbers from 1e5 up to 1e12 as
// whole units ("2162100"), others with 6 significant digits; an exponent
// only outside [1e-4, 1e12).
std::string Num(double v);
// A number for programs: the shortest decimal that reads back as exactly v
// (15 to 17 significant digits); "nan", "inf", "-inf" for the others.
std::string Exact(double v);

// A simple aligned text table.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  // Right-aligns columns whose cells are all numeric (or empty).
  std::string Render() const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// CompareModels as CSV: one row per series x fitter. Header:
// series_id,fitter,status,n,k,sse,rmse,r2,aicc,bic,akaike_weight,winner,
// param_<name>... (every parameter name in first-seen order; empty when the
// fitter lacks it), then, with cross-validation, cv_score,cv_rank and
// mae_h<H>,mape_h<H>,mase_h<H> per horizon, then verdict,message and
// paper_lambda,paper_mu,paper_sigma,paper_label from the series metadata.
// winner is true/false; status as StatusName(); numbers in full precision
// (Exact); missing numbers (and n..r2 of fits that are not usable) are empty.
// With pooled options (response.pooled), two more columns per option, the
// same on every row: pooled_<fitter>_<option> (the chosen value) and
// pooled_<fitter>_<option>_scores ("candidate=score;..." in grid order).
std::string CompareToCsv(const v1::CompareModelsResponse& response);
// One row per cross-validation fold of every fit (the request's
// cv_details): series_id,fitter,origin_t,cutoff,horizon,t,ds,actual,forecast,error
// (forecast - actual).
std::string CvFoldsToCsv(const v1::CompareModelsResponse& response);
// The sources of the fit columns, in layout order (proto/adoption/v1/
// fit_columns.txt): "fit.sse", "series.verdict", "meta.paper_mu", "@params"...
std::vector<std::string> FitColumnSources();

// The batch summary of pooled options: per option the chosen value, then
// each candidate with its batch cross-validated score. Empty without.
std::string PooledTable(const v1::CompareModelsResponse& response);
// The group profiles and the tests between groups (empty without them).
std::string ProfileTables(const v1::CompareModelsResponse& response);

// CompareModels for people: batch summary (verdict counts, then per fitter
// wins, fit outcomes, median R^2, mean Akaike weight, CV scores, then any
// pooled option with its candidates' scores: PooledTable), a table
// per group_by value (when grouped), one row per series (at most `limit`,
// largest last value first; 0 = all; a winner within kNearTie of its
// runner-up is noted "no clear winner"), and a per-fitter detail table
// (SeriesDetailTable) for each series shown when at most `detail_limit` are.
std::string CompareToTable(const v1::CompareModelsResponse& response, int limit,
                           int detail_limit = 3);

// A winner whose criterion value is within this of the runner-up's is not
// clear (Burnham & Anderson: a difference of 2 or less means substantial
// support for both). Python's adoption_client uses the same rule.
inline constexpr double kNearTie = 2.0;

// How clearly a series' winner won, from the per-fit criterion values (AICc,
// or BIC when the comparison ranked by BIC). The server may report this one
// day; until then every client computes it alike.
struct WinnerMargin {
  const v1::FitResult* winner = nullptr;     // null without a winner
  const v1::FitResult* runner_up = nullptr;  // the ranked fit with the best value after
  double margin = 0;                         // runner-up's value - winner's (>= 0)
  // A winner, a runner-up, and margin <= kNearTie: "no clear winner".
  bool near_tie() const { return runner_up != nullptr && margin <= kNearTie; }
};
WinnerMargin MarginOfWinner(const v1::SeriesReport& report,
                            v1::Criterion criterion = v1::CRITERION_AICC);

// One series' per-fitter table, the winner marked with '*' and the fits
// within kNearTie of it with '~' (then the heading says "no clear winner"),
// with the paper's parameters beside the citation row when present in
// metadata.
std::string SeriesDetailTable(const v1::SeriesReport& report,
                              v1::Criterion criterion = v1::CRITERION_AICC);

std::string FitToTable(const v1::FitResult& result);
std::string FitToCsv(const v1::FitResult& result);
std::string ForecastToTable(const v1::ForecastResponse& response);
std::string ForecastToCsv(const v1::ForecastResponse& response);
std::string FittersToTable(const v1::ListFittersResponse& response);
std::string SeriesListToTable(const std::vector<v1::Series>& series);
// id,revision,points,last_value, then one column per metadata key (sorted).
std::string SeriesListToCsv(const std::vector<v1::Series>& series);
std::string SeriesToTable(const v1::Series& series);
// series_id,t,date,value per point, full precision (date empty without an
// origin).
std::string SeriesPointsToCsv(const v1::Series& series);

// A CSV cell for text: quoted if it holds a comma, quote or newline (RFC
// 4180), and prefixed with a single quote if it begins with = + - @, tab or
// CR and is not a plain decimal number, so that a spreadsheet shows it as
// text instead of running it as a formula (OWASP, "CSV injection"). A
// program reading the CSV back strips that one quote from such cells.
std::string CsvCell(const std::string& text);

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_REPORT_FORMAT_H_
