#include "clients/cli/finetune_csv.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace adoption::cli {
namespace {

// Longest id the server accepts (proto: 1..256 bytes).
constexpr size_t kMaxIdBytes = 256;
// Largest t the server accepts (SeriesLimits::max_t, engine/store/validation.h),
// in days for a daily series.
constexpr int kMaxDays = 10000;

// Splits one CSV record (RFC 4180: a field may be quoted, "" inside quotes
// is a quote). A quote inside an unquoted field is kept as a character.
// INVALID_ARGUMENT (reason only) on an unterminated quote or text after a
// closing quote.
absl::StatusOr<std::vector<std::string>> SplitCsvLine(absl::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;       // inside a quoted field
  bool after_quote = false;  // a quoted field just closed
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else {
        quoted = false;
        after_quote = true;
      }
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (after_quote) {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", fields.size() + 1, ": text after a closing quote"));
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else {
      field.push_back(c);
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        absl::StrCat("field ", fields.size() + 1,
                     ": unterminated quoted field (quoted fields may not span lines)"));
  }
  fields.push_back(std::move(field));
  return fields;
}

// The non-blank lines of a file's content, with their 1-based numbers; CR
// of CRLF line ends removed.
class CsvLines {
 public:
  explicit CsvLines(absl::string_view content) : content_(content) {}
  bool Next(absl::string_view* line) {
    while (pos_ < content_.size()) {
      size_t end = content_.find('\n', pos_);
      if (end == absl::string_view::npos) end = content_.size();
      *line = content_.substr(pos_, end - pos_);
      pos_ = end + 1;
      ++line_no_;
      if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
      if (!line->empty()) return true;  // blank lines, e.g. a trailing newline, are skipped
    }
    return false;
  }
  int line_no() const { return line_no_; }

 private:
  absl::string_view content_;
  size_t pos_ = 0;
  int line_no_ = 0;
};

// A header record: a UTF-8 byte order mark is not part of the first
// column's name; a column named twice is the reason returned ("" if none).
std::string CleanHeader(std::vector<std::string>* header) {
  if (!header->empty() && (*header)[0].rfind("\xEF\xBB\xBF", 0) == 0) {
    (*header)[0].erase(0, 3);
  }
  std::set<std::string> names;
  for (const std::string& h : *header) {
    if (!names.insert(h).second) return absl::StrCat("duplicate column \"", h, "\"");
  }
  return "";
}

// A file's records, each split into fields: the header first (cleaned by
// CleanHeader), then every row, which must have the header's field count.
// Errors are reasons only; line_no() is the line they concern.
class CsvRecords {
 public:
  explicit CsvRecords(absl::string_view content) : lines_(content) {}
  // The next record into *fields: true, or false at the end of the file.
  absl::StatusOr<bool> Next(std::vector<std::string>* fields) {
    absl::string_view line;
    if (!lines_.Next(&line)) return false;
    absl::StatusOr<std::vector<std::string>> split = SplitCsvLine(line);
    if (!split.ok()) return split.status();
    *fields = *std::move(split);
    is_header_ = !header_read_;
    if (is_header_) {
      header_read_ = true;
      if (std::string problem = CleanHeader(fields); !problem.empty()) {
        return absl::InvalidArgumentError(problem);
      }
      header_size_ = fields->size();
    } else if (fields->size() != header_size_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "expected ", header_size_, " fields as in the header, got ", fields->size()));
    }
    return true;
  }
  bool is_header() const { return is_header_; }
  int line_no() const { return lines_.line_no(); }

 private:
  CsvLines lines_;
  bool header_read_ = false;
  bool is_header_ = false;
  size_t header_size_ = 0;
};

// The metadata value naming where a series came from: "csv:<file name>".
std::string SourceTag(absl::string_view file_name) {
  if (size_t slash = file_name.rfind('/'); slash != absl::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  return absl::StrCat("csv:", file_name);
}

// Why an id cannot be stored, or "" if it can. The server checks the same
// (and UTF-8 validity); checking here names the file and line.
std::string IdProblem(absl::string_view id) {
  if (id.empty()) return "must not be empty";
  if (id.size() > kMaxIdBytes) {
    return absl::StrCat("must be at most ", kMaxIdBytes, " bytes, got ", id.size());
  }
  for (const char c : id) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "must not contain control characters";
  }
  return "";
}

// Parses "12", "12.0", "-3e2"; nullopt if not a number.
std::optional<double> ParseNumber(absl::string_view s) {
  double v;
  if (!absl::SimpleAtod(s, &v)) return std::nullopt;
  return v;
}

// Columns with a meaning of their own, mapped to metadata keys.
const std::map<std::string, std::string>& MetadataColumns() {
  static const auto* columns = new std::map<std::string, std::string>{
      {"company", "company"}, {"created_at", "created_at"}, {"lambda_i", "paper_lambda"},
      {"mu_i", "paper_mu"},   {"sigma_i", "paper_sigma"},   {"approx_cond_label", "paper_label"},
  };
  return *columns;
}
// The calendar date (UTC) of a created_at such as "2023-07-25 13:25:51+00:00"
// (or with "T", "Z", a fraction): the series' origin, since k-month is k
// months after creation. "" when it is not such a time or lies outside the
// origins the server accepts.
std::string OriginOf(const std::string& created_at) {
  for (const char* format :
       {"%Y-%m-%d %H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d"}) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime(format, created_at, absl::UTCTimeZone(), &t, &err)) {
      // Only origins the server accepts (1900-01-01..2199-12-31); a stranger
      // created_at stays metadata, and the series has no dates.
      const int64_t year = absl::ToCivilYear(t, absl::UTCTimeZone()).year();
      if (year < 1900 || year > 2199) return "";
      return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone());
    }
  }
  return "";
}

// Columns whose values must be numbers when present.
const std::set<std::string>& NumericColumns() {
  static const auto* columns = new std::set<std::string>{"lambda_i", "mu_i", "sigma_i", "sort_key"};
  return *columns;
}

// The day a column of a daily file names: "2024-07-02" or "2024-07-02
// 00:00:00" (any time of day after a space or T); nullopt for other names
// and for dates that do not exist.
std::optional<absl::CivilDay> DayColumn(absl::string_view name) {
  if (name.size() < 10 || (name.size() > 10 && name[10] != ' ' && name[10] != 'T')) {
    return std::nullopt;
  }
  absl::CivilDay day;
  if (!absl::ParseCivilTime(name.substr(0, 10), &day)) return std::nullopt;
  return day;
}

// The file's name without folders and ".csv": the organisation of a
// published download file ("Meta.csv" -> "Meta").
std::string FileStem(absl::string_view file_name) {
  if (size_t slash = file_name.rfind('/'); slash != absl::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  absl::ConsumeSuffix(&file_name, ".csv");
  return std::string(file_name);
}

}  // namespace

absl::StatusOr<std::vector<adoption::v1::Series>> ParseFinetuneCsv(absl::string_view content,
                                                                   absl::string_view file_name,
                                                                   std::vector<int>* line_numbers) {
  if (line_numbers != nullptr) line_numbers->clear();
  auto error = [&](int line, absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", line, ": ", reason));
  };
  std::vector<adoption::v1::Series> out;
  std::vector<std::string> header;
  int model_col = -1;
  std::vector<int> month_cols;  // month_cols[k] = column of "k-month"
  std::map<int, std::string> named_cols;
  std::set<std::string> seen_ids;

  CsvRecords records(content);
  std::vector<std::string> f;
  int line_no = 0;
  while (true) {
    absl::StatusOr<bool> more = records.Next(&f);
    line_no = records.line_no();
    if (!more.ok()) return error(line_no, more.status().message());
    if (!*more) break;
    if (records.is_header()) {
      header = f;
      std::map<int, int> months;  // k -> column
      for (int c = 0; c < static_cast<int>(header.size()); ++c) {
        const std::string& h = header[c];
        int k;
        absl::string_view hv = h;
        if (absl::ConsumeSuffix(&hv, "-month") && absl::SimpleAtoi(hv, &k) && k >= 0) {
          if (!months.emplace(k, c).second) {
            return error(line_no, absl::StrCat("column \"", h, "\" repeats month ", k));
          }
        } else if (h == "model") {
          model_col = c;
        } else if (MetadataColumns().count(h) || NumericColumns().count(h)) {
          named_cols[c] = h;
        }
      }
      if (model_col < 0) return error(line_no, "header has no \"model\" column");
      if (months.empty()) {
        for (const std::string& h : header) {
          if (DayColumn(h)) {
            return error(line_no, absl::StrCat("header has no month columns (0-month, 1-month, "
                                               "...) but has day columns (\"",
                                               h,
                                               "\"): a daily download file? load it with "
                                               "--kind downloads"));
          }
        }
        return error(line_no, "header has no month columns (0-month, 1-month, ...)");
      }
      int expected = 0;
      for (const auto& [k, c] : months) {
        if (k != expected) {
          return error(line_no, absl::StrCat("month columns must run 0-month, 1-month, "
                                             "... without gaps; ",
                                             expected, "-month is missing"));
        }
        month_cols.push_back(c);
        ++expected;
      }
      continue;
    }
    adoption::v1::Series series;
    const std::string& id = f[model_col];
    if (std::string problem = IdProblem(id); !problem.empty()) {
      return error(line_no, absl::StrCat("model: ", problem));
    }
    if (!seen_ids.insert(id).second) {
      return error(line_no, absl::StrCat("model: duplicate id \"", id, "\""));
    }
    series.set_id(id);
    series.set_unit("finetunes");

    bool ended = false;
    double previous = 0;
    for (int k = 0; k < static_cast<int>(month_cols.size()); ++k) {
      const std::string& cell = f[month_cols[k]];
      const std::string& column = header[month_cols[k]];
      if (cell.empty()) {
        ended = true;
        continue;
      }
      if (ended) {
        return error(line_no, absl::StrCat(column,
                                           ": value after an empty month "
                                           "(series must have no gaps)"));
      }
      std::optional<double> v = ParseNumber(cell);
      if (!v) {
        return error(line_no, absl::StrCat(column, ": not a number: \"", cell, "\""));
      }
      if (!std::isfinite(*v) || *v < 0) {
        return error(line_no, absl::StrCat(column, ": must be a finite count >= 0, got ", cell));
      }
      if (k > 0 && *v < previous) {
        return error(line_no, absl::StrCat(column, ": cumulative count decreases (", cell,
                                           " after ", previous, ")"));
      }
      previous = *v;
      auto* p = series.add_points();
      p->set_t(k);
      p->set_value(*v);
    }

    for (const auto& [c, name] : named_cols) {
      const std::string& cell = f[c];
      if (cell.empty()) continue;
      if (NumericColumns().count(name) && !ParseNumber(cell)) {
        return error(line_no, absl::StrCat(name, ": not a number: \"", cell, "\""));
      }
      auto it = MetadataColumns().find(name);
      if (it != MetadataColumns().end()) {
        (*series.mutable_metadata())[it->second] = cell;
      }
      if (name == "created_at") series.set_origin(OriginOf(cell));
    }
    series.set_time_unit(adoption::v1::TIME_UNIT_MONTH);
    (*series.mutable_metadata())["source"] = SourceTag(file_name);
    out.push_back(std::move(series));
    if (line_numbers != nullptr) line_numbers->push_back(line_no);
  }
  if (header.empty()) return error(line_no, "empty file: no header");
  return out;
}

absl::StatusOr<std::vector<adoption::v1::Series>> ParseLongCsv(absl::string_view content,
                                                               absl::string_view file_name,
                                                               adoption::v1::TimeUnit time_unit,
                                                               std::vector<int>* line_numbers) {
  if (line_numbers != nullptr) line_numbers->clear();
  auto error = [&](int line, absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", line, ": ", reason));
  };
  struct Row {
    std::string date;
    double value;
    int line;
  };
  struct Pending {
    adoption::v1::Series series;
    std::vector<Row> rows;
    int first_line = 0;
  };
  std::vector<Pending> out;
  std::map<std::string, size_t> index;  // id -> out[i]
  std::vector<std::string> header;
  int id_col = -1, ds_col = -1, y_col = -1, origin_col = -1;
  CsvRecords records(content);
  std::vector<std::string> f;
  int line_no = 0;
  while (true) {
    absl::StatusOr<bool> more = records.Next(&f);
    line_no = records.line_no();
    if (!more.ok()) return error(line_no, more.status().message());
    if (!*more) break;
    if (records.is_header()) {
      header = f;
      for (int c = 0; c < static_cast<int>(header.size()); ++c) {
        const std::string& h = header[c];
        if (h == "id" || h == "series_id") id_col = c;
        if (h == "ds" || h == "date") ds_col = c;
        if (h == "y" || h == "value") y_col = c;
        if (h == "origin") origin_col = c;
      }
      if (id_col < 0 || ds_col < 0 || y_col < 0) {
        return error(line_no,
                     "a long CSV needs the columns id (or series_id), ds (or date) and y (or "
                     "value)");
      }
      continue;
    }
    const std::string& id = f[id_col];
    if (std::string problem = IdProblem(id); !problem.empty()) {
      return error(line_no, absl::StrCat(header[id_col], ": ", problem));
    }
    std::optional<double> v = ParseNumber(f[y_col]);
    if (!v || !std::isfinite(*v) || *v < 0) {
      return error(line_no, absl::StrCat(header[y_col], ": must be a finite count >= 0, got \"",
                                         f[y_col], "\""));
    }
    std::string date = f[ds_col].substr(0, 10);  // "2024-03-01" or "2024-03-01 00:00:00"
    if (date.size() != 10 || date[4] != '-' || date[7] != '-') {
      return error(line_no, absl::StrCat(header[ds_col], ": expected a date YYYY-MM-DD, got \"",
                                         f[ds_col], "\""));
    }
    auto [it, inserted] = index.emplace(id, out.size());
    if (inserted) {
      Pending& p = out.emplace_back();
      p.series.set_id(id);
      p.series.set_time_unit(time_unit);
      p.first_line = line_no;
      for (int c = 0; c < static_cast<int>(header.size()); ++c) {
        if (c == id_col || c == ds_col || c == y_col || f[c].empty()) continue;
        if (c == origin_col) {
          p.series.set_origin(f[c].substr(0, 10));
        } else {
          (*p.series.mutable_metadata())[header[c]] = f[c];
        }
      }
      (*p.series.mutable_metadata())["source"] = SourceTag(file_name);
    }
    out[it->second].rows.push_back({date, *v, line_no});
  }
  if (header.empty()) return error(line_no, "empty file: no header");
  std::vector<adoption::v1::Series> series;
  for (Pending& p : out) {
    std::stable_sort(p.rows.begin(), p.rows.end(),
                     [](const Row& a, const Row& b) { return a.date < b.date; });
    for (size_t i = 0; i < p.rows.size(); ++i) {
      const Row& r = p.rows[i];
      if (i > 0 && r.date == p.rows[i - 1].date) {
        return error(r.line, absl::StrCat(header[ds_col], ": ", p.series.id(), " has ", r.date,
                                          " twice (also line ", p.rows[i - 1].line, ")"));
      }
      absl::CivilDay day, previous_day;
      if (i > 0 && time_unit != adoption::v1::TIME_UNIT_DAY && absl::ParseCivilTime(r.date, &day) &&
          absl::ParseCivilTime(p.rows[i - 1].date, &previous_day) && day - previous_day < 28) {
        return error(r.line,
                     absl::StrCat(header[ds_col], ": ", p.series.id(), " has ", p.rows[i - 1].date,
                                  " and ", r.date, ", ", day - previous_day,
                                  " days apart, in a monthly series: daily data? "
                                  "(load it with --time-unit day)"));
      }
      if (i > 0 && r.value < p.rows[i - 1].value) {
        return error(r.line, absl::StrCat(header[y_col], ": cumulative count of ", p.series.id(),
                                          " decreases on ", r.date, " (", r.value, " after ",
                                          p.rows[i - 1].value, " on ", p.rows[i - 1].date, ")"));
      }
      auto* point = p.series.add_points();
      point->set_date(r.date);
      point->set_value(r.value);
    }
    // The series starts at its first date unless the file says otherwise;
    // the server turns each date into t on that calendar.
    if (p.series.origin().empty()) p.series.set_origin(p.rows.front().date);
    series.push_back(std::move(p.series));
    if (line_numbers != nullptr) line_numbers->push_back(p.first_line);
  }
  return series;
}

absl::StatusOr<std::vector<adoption::v1::Series>> ParseDownloadsCsv(
    absl::string_view content, absl::string_view file_name, std::vector<int>* line_numbers) {
  if (line_numbers != nullptr) line_numbers->clear();
  auto error = [&](int line, absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ":", line, ": ", reason));
  };
  std::vector<adoption::v1::Series> out;
  std::vector<std::string> header;
  int model_col = -1, created_col = -1, company_col = -1;
  std::vector<std::pair<int, std::string>> day_cols;  // (column, YYYY-MM-DD), increasing
  std::set<std::string> seen_ids;
  CsvRecords records(content);
  std::vector<std::string> f;
  int line_no = 0;
  while (true) {
    absl::StatusOr<bool> more = records.Next(&f);
    line_no = records.line_no();
    if (!more.ok()) return error(line_no, more.status().message());
    if (!*more) break;
    if (records.is_header()) {
      header = f;
      std::optional<absl::CivilDay> previous;
      for (int c = 0; c < static_cast<int>(header.size()); ++c) {
        const std::string& h = header[c];
        if (h == "model") model_col = c;
        if (h == "created_at") created_col = c;
        if (h == "company") company_col = c;
        if (absl::EndsWith(h, "-month")) {
          return error(line_no, absl::StrCat("column ", c + 1, " \"", h,
                                             "\": month columns are the fine-tune layout; "
                                             "--kind downloads reads a column per day "
                                             "(load fine-tune files without --kind downloads)"));
        }
        std::optional<absl::CivilDay> day = DayColumn(h);
        if (!day) continue;
        if (day->year() < 1900 || day->year() > 2199) {
          return error(line_no, absl::StrCat("column ", c + 1, " \"", h,
                                             "\": days must lie in 1900-01-01..2199-12-31"));
        }
        if (previous && *day <= *previous) {
          return error(line_no, absl::StrCat("column ", c + 1, " \"", h,
                                             "\": day columns must be in "
                                             "increasing order without repeats (after ",
                                             absl::FormatCivilTime(*previous), ")"));
        }
        previous = day;
        day_cols.emplace_back(c, absl::FormatCivilTime(*day));
      }
      if (model_col < 0) return error(line_no, "header has no \"model\" column");
      if (created_col < 0) {
        return error(line_no,
                     "header has no \"created_at\" column (t is days since each model's "
                     "creation)");
      }
      if (day_cols.empty()) {
        return error(line_no, "header has no day columns (2024-07-02 00:00:00, ...)");
      }
      continue;
    }
    const std::string& model = f[model_col];
    if (std::string problem = IdProblem(DownloadDaysSeriesId(model));
        model.empty() || !problem.empty()) {
      return error(line_no, absl::StrCat("model: ", model.empty() ? "must not be empty" : problem));
    }
    if (!seen_ids.insert(model).second) {
      return error(line_no, absl::StrCat("model: duplicate id \"", model, "\""));
    }
    const std::string& created_at = f[created_col];
    std::string origin = OriginOf(created_at);
    if (origin.empty()) {
      return error(line_no, absl::StrCat("created_at: expected a time such as 2024-07-18 "
                                         "08:56:00+00:00, got \"",
                                         created_at, "\""));
    }
    adoption::v1::Series series;
    series.set_id(DownloadDaysSeriesId(model));
    series.set_unit(kDownloadDays.unit);
    series.set_time_unit(adoption::v1::TIME_UNIT_DAY);
    auto& metadata = *series.mutable_metadata();
    double previous = 0;
    std::string previous_date;
    for (const auto& [c, date] : day_cols) {
      const std::string& cell = f[c];
      std::optional<double> v = ParseNumber(cell);
      if (!v) {
        return error(line_no, absl::StrCat(header[c], ": not a number: \"", cell, "\""));
      }
      if (!std::isfinite(*v) || *v < 0) {
        return error(line_no, absl::StrCat(header[c], ": must be a finite count >= 0, got ", cell));
      }
      if (*v < previous) {
        return error(line_no, absl::StrCat(header[c], ": download-days decrease (", cell, " after ",
                                           previous, " on ", previous_date,
                                           "): a negative daily increment"));
      }
      // Zeros before the first non-zero day are days not yet observed.
      if (*v > 0 || series.points_size() > 0) {
        auto* p = series.add_points();
        p->set_date(date);
        p->set_value(*v);
      }
      previous = *v;
      previous_date = date;
    }
    if (series.points_size() > 0) {
      const std::string& first = series.points(0).date();
      const std::string& last = series.points(series.points_size() - 1).date();
      absl::CivilDay first_day, last_day, origin_day;
      if (absl::ParseCivilTime(last, &last_day) && absl::ParseCivilTime(first, &first_day) &&
          absl::ParseCivilTime(origin, &origin_day) &&
          last_day - std::min(first_day, origin_day) > kMaxDays) {
        return error(line_no, absl::StrCat("created_at: ", created_at, " lies more than ", kMaxDays,
                                           " days before ", last, " (the server's largest t)"));
      }
      metadata["first_observed"] = first;
      if (first < origin) {
        metadata["origin_note"] = absl::StrCat("first observed ", first,
                                               ", before created_at: t counts from the first "
                                               "observation");
        origin = first;
      }
    }
    series.set_origin(origin);
    metadata["model"] = model;
    metadata["created_at"] = created_at;
    metadata["company"] =
        company_col >= 0 && !f[company_col].empty() ? f[company_col] : FileStem(file_name);
    metadata["unit"] = kDownloadDays.unit;
    metadata["source"] = SourceTag(file_name);
    out.push_back(std::move(series));
    if (line_numbers != nullptr) line_numbers->push_back(line_no);
  }
  if (header.empty()) return error(line_no, "empty file: no header");
  return out;
}

bool IsLongCsv(absl::string_view content) {
  CsvLines lines(content);
  absl::string_view first_line;
  if (!lines.Next(&first_line)) return false;
  absl::StatusOr<std::vector<std::string>> header = SplitCsvLine(first_line);
  if (!header.ok()) return false;
  CleanHeader(&*header);
  bool model = false, date = false;
  for (const std::string& h : *header) {
    model = model || h == "model";
    date = date || h == "ds" || h == "date";
  }
  return date && !model;
}

absl::StatusOr<std::vector<adoption::v1::Series>> ReadFinetuneCsvFile(
    const std::string& path, std::vector<int>* line_numbers, adoption::v1::TimeUnit time_unit,
    CsvKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  if (kind == CsvKind::kDownloads) return ParseDownloadsCsv(buffer.str(), path, line_numbers);
  if (IsLongCsv(buffer.str())) return ParseLongCsv(buffer.str(), path, time_unit, line_numbers);
  return ParseFinetuneCsv(buffer.str(), path, line_numbers);
}

absl::StatusOr<std::vector<FinetuneCsvFile>> ReadFinetuneCsvFiles(
    const std::vector<std::string>& paths, adoption::v1::TimeUnit time_unit, CsvKind kind) {
  std::vector<FinetuneCsvFile> files;
  // id -> (file index, line) of its first occurrence.
  std::map<std::string, std::pair<size_t, int>> first_seen;
  for (const std::string& path : paths) {
    FinetuneCsvFile file;
    file.path = path;
    auto series = ReadFinetuneCsvFile(path, &file.lines, time_unit, kind);
    if (!series.ok()) return series.status();
    file.series = std::move(*series);
    for (size_t i = 0; i < file.series.size(); ++i) {
      const auto [it, inserted] =
          first_seen.emplace(file.series[i].id(), std::make_pair(files.size(), file.lines[i]));
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", file.lines[i], ": model: id \"", file.series[i].id(),
                         "\" is also in ", files[it->second.first].path, ":", it->second.second,
                         " (each id may be loaded from one file only)"));
      }
    }
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace adoption::cli
