#include "clients/cli/finetune_csv.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace adoption::cli {
namespace {

// Longest id the server accepts (proto: 1..256 bytes).
constexpr size_t kMaxIdBytes = 256;

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

  CsvLines lines(content);
  absl::string_view line;
  int line_no = 0;
  while (lines.Next(&line)) {
    line_no = lines.line_no();
    auto fields = SplitCsvLine(line);
    if (!fields.ok()) return error(line_no, fields.status().message());

    if (header.empty()) {
      header = *fields;
      if (std::string problem = CleanHeader(&header); !problem.empty()) {
        return error(line_no, problem);
      }
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

    if (fields->size() != header.size()) {
      return error(line_no, absl::StrCat("expected ", header.size(),
                                         " fields as in the header, got ", fields->size()));
    }
    const std::vector<std::string>& f = *fields;
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
  CsvLines lines(content);
  absl::string_view line;
  int line_no = 0;
  while (lines.Next(&line)) {
    line_no = lines.line_no();
    auto fields = SplitCsvLine(line);
    if (!fields.ok()) return error(line_no, fields.status().message());
    if (header.empty()) {
      header = *fields;
      if (std::string problem = CleanHeader(&header); !problem.empty()) {
        return error(line_no, problem);
      }
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
    if (fields->size() != header.size()) {
      return error(line_no, absl::StrCat("expected ", header.size(),
                                         " fields as in the header, got ", fields->size()));
    }
    const std::vector<std::string>& f = *fields;
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
    const std::string& path, std::vector<int>* line_numbers, adoption::v1::TimeUnit time_unit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  if (IsLongCsv(buffer.str())) return ParseLongCsv(buffer.str(), path, time_unit, line_numbers);
  return ParseFinetuneCsv(buffer.str(), path, line_numbers);
}

absl::StatusOr<std::vector<FinetuneCsvFile>> ReadFinetuneCsvFiles(
    const std::vector<std::string>& paths, adoption::v1::TimeUnit time_unit) {
  std::vector<FinetuneCsvFile> files;
  // id -> (file index, line) of its first occurrence.
  std::map<std::string, std::pair<size_t, int>> first_seen;
  for (const std::string& path : paths) {
    FinetuneCsvFile file;
    file.path = path;
    auto series = ReadFinetuneCsvFile(path, &file.lines, time_unit);
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
