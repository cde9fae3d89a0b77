#include "clients/cli/report_format.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace adoption::cli {
namespace {

// A cell right-aligned as a number ("1.0.0" is not one).
// Numbers and percentages ("1.2%") are right-aligned.
bool IsNumeric(const std::string& s) {
  double unused;
  return s.empty() || absl::SimpleAtod(absl::StripSuffix(s, "%"), &unused);
}

// A plain decimal number ("-2.78", "+1e-3"): a spreadsheet reads it as the
// number, never as a formula.
bool IsDecimalNumber(absl::string_view s) {
  const auto digit = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  bool mantissa = false;
  for (; digit(i); ++i) mantissa = true;
  if (i < s.size() && s[i] == '.') {
    for (++i; digit(i); ++i) mantissa = true;
  }
  if (!mantissa) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

std::string Opt(bool has, double v) { return has ? Num(v) : ""; }
std::string OptExact(bool has, double v) { return has ? Exact(v) : ""; }

// "fits", ... or "" when the server did not set a verdict (e.g. a plain Fit).
std::string CsvVerdict(v1::SeriesVerdict verdict) {
  return verdict == v1::SERIES_VERDICT_UNSPECIFIED ? "" : VerdictName(verdict);
}

// A metadata value that should be a number (the paper's parameters), for
// people; shown as given if it is not one.
std::string MetaNum(const std::string& value) {
  double v;
  return absl::SimpleAtod(value, &v) ? Num(v) : value;
}

std::string Meta(const v1::SeriesReport& s, const std::string& key) {
  auto it = s.metadata().find(key);
  return it == s.metadata().end() ? "" : it->second;
}

const v1::FitResult* WinnerFit(const v1::SeriesReport& s) {
  for (const auto& f : s.fits()) {
    if (f.winner()) return &f;
  }
  return nullptr;
}

// The value a fit was ranked by; false when it has none.
bool CriterionValue(const v1::FitResult& f, v1::Criterion criterion, double* value) {
  if (criterion == v1::CRITERION_BIC) {
    *value = f.bic();
    return f.has_bic();
  }
  *value = f.aicc();
  return f.has_aicc();
}

std::string CriterionName(v1::Criterion criterion) {
  return criterion == v1::CRITERION_BIC ? "BIC" : "AICc";
}

// "no clear winner: bass within 0.84 AICc", or "" when the winner is clear.
std::string NearTieNote(const v1::SeriesReport& s, v1::Criterion criterion) {
  const WinnerMargin m = MarginOfWinner(s, criterion);
  if (!m.near_tie()) return "";
  return absl::StrFormat("no clear winner: %s within %.2f %s", m.runner_up->fitter(), m.margin,
                         CriterionName(criterion));
}

std::string ParamsCell(const v1::FitResult& f) {
  std::vector<std::string> parts;
  for (const auto& p : f.parameters()) {
    std::string cell = absl::StrCat(p.name(), "=", Num(p.value()));
    if (p.fixed()) {
      absl::StrAppend(&cell, " (fixed)");
    } else if (p.has_std_error()) {
      absl::StrAppend(&cell, "±", Num(p.std_error()));
    }
    parts.push_back(cell);
  }
  return absl::StrJoin(parts, " ");
}

}  // namespace

absl::StatusOr<Format> ParseFormat(const std::string& name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  if (name == "jsonl") return Format::kJsonLines;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: expected table, json, jsonl or csv, got \"", name, "\""));
}

std::string ToJson(const google::protobuf::Message& message) { return ToJson(message, true); }

std::string ToJsonLine(const google::protobuf::Message& message) { return ToJson(message, false); }

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  namespace pb = google::protobuf;
  pb::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  // MessageToJsonString serialises the message and converts the bytes, so
  // map entries come out in the map's iteration order, which protobuf
  // randomises per process. The same conversion from a deterministic
  // serialisation (map entries sorted by key) makes the output repeatable.
  static pb::util::TypeResolver* const resolver = pb::util::NewTypeResolverForDescriptorPool(
      "type.googleapis.com", pb::DescriptorPool::generated_pool());
  std::string binary;
  {
    pb::io::StringOutputStream stream(&binary);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  std::string out;
  if (message.GetDescriptor()->file()->pool() == pb::DescriptorPool::generated_pool() &&
      pb::util::BinaryToJsonString(resolver,
                                   "type.googleapis.com/" + message.GetDescriptor()->full_name(),
                                   binary, &out, options)
          .ok()) {
    return out;
  }
  out.clear();
  (void)pb::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string StatusName(v1::FitStatus status) {
  switch (status) {
    case v1::FIT_STATUS_CONVERGED:
      return "converged";
    case v1::FIT_STATUS_MAX_ITERATIONS:
      return "max_iterations";
    case v1::FIT_STATUS_NOT_FITTED:
      return "not_fitted";
    case v1::FIT_STATUS_FAILED:
      return "failed";
    case v1::FIT_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "unspecified";
  }
}

std::string VerdictName(v1::SeriesVerdict verdict) {
  switch (verdict) {
    case v1::SERIES_VERDICT_FITS:
      return "fits";
    case v1::SERIES_VERDICT_DOES_NOT_FIT:
      return "does_not_fit";
    case v1::SERIES_VERDICT_NOT_ENOUGH_DATA:
      return "not_enough_data";
    default:
      return "unspecified";
  }
}

std::string Exact(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  // The shortest of 15..17 significant digits that reads back as v: 0.99
  // stays "0.99" instead of "0.98999999999999999".
  for (int digits = 15; digits < 17; ++digits) {
    std::string s = absl::StrFormat("%.*g", digits, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return absl::StrFormat("%.17g", v);
}

std::string Num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == std::floor(v) && std::fabs(v) < 1e12) return absl::StrFormat("%.0f", v);
  const double a = std::fabs(v);
  // %g would write 2162100.4 as 2.1621e+06: whole units are precise enough.
  if (a >= 1e5 && a < 1e12) return absl::StrFormat("%.0f", v);
  if (a >= 1e-4) return absl::StrFormat("%.6g", v);
  return absl::StrFormat("%.4e", v);
}

Table::Table(std::vector<std::string> header) : header_(std::move(header)) {}

void Table::AddRow(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::string Table::Render() const {
  const size_t cols = header_.size();
  std::vector<size_t> width(cols);
  std::vector<bool> numeric(cols, true);
  for (size_t c = 0; c < cols; ++c) {
    width[c] = header_[c].size();
    for (const auto& r : rows_) {
      // Width in code points, so '±' counts once.
      size_t w = 0;
      for (unsigned char ch : r[c]) w += (ch & 0xC0) != 0x80;
      width[c] = std::max(width[c], w);
      numeric[c] = numeric[c] && IsNumeric(r[c]);
    }
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t c = 0; c < cols; ++c) {
      size_t w = 0;
      for (unsigned char ch : r[c]) w += (ch & 0xC0) != 0x80;
      const std::string pad(width[c] - w, ' ');
      const bool last = c + 1 == cols;
      if (numeric[c]) {
        absl::StrAppend(&out, pad, r[c]);
      } else {
        absl::StrAppend(&out, r[c], last ? "" : pad);
      }
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::vector<std::string> rule;
  for (size_t c = 0; c < cols; ++c) rule.push_back(std::string(width[c], '-'));
  out += line(rule);
  for (const auto& r : rows_) out += line(r);
  return out;
}

std::string CsvCell(const std::string& text) {
  std::string s = text;
  // A spreadsheet runs a cell that begins with one of these as a formula
  // ("=HYPERLINK(...)", "@SUM(...)", "-2+3"): prefixed with ' it stays text.
  if (!s.empty() && absl::string_view("=+-@\t\r").find(s[0]) != absl::string_view::npos &&
      !IsDecimalNumber(s)) {
    s.insert(0, 1, '\'');
  }
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

namespace pb = google::protobuf;

// One entry of proto/adoption/v1/fit_columns.txt.
struct FitColumn {
  std::string name;   // the header; empty for a group
  std::string group;  // "params" or "cv" for @params / @cv
  std::string scope;  // "fit", "series" or "meta"
  std::string field;  // the field name, or the metadata key
  std::string shown;  // "always", "usable" or "present"
};

// The layout (fit_columns.inc holds the file as a string literal).
const std::vector<FitColumn>& FitColumns() {
  static const std::vector<FitColumn>* columns = [] {
    static const char kText[] =
#include "clients/cli/fit_columns.inc"
        ;
    auto* out = new std::vector<FitColumn>;
    for (absl::string_view line : absl::StrSplit(kText, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
      FitColumn c;
      if (words[0][0] == '@') {
        c.group = words[0].substr(1);
      } else if (words.size() == 3) {
        c.name = words[0];
        std::pair<std::string, std::string> source = absl::StrSplit(words[1], '.');
        c.scope = source.first;
        c.field = source.second;
        c.shown = words[2];
      }
      out->push_back(std::move(c));
    }
    return out;
  }();
  return *columns;
}

// A field's cell: numbers exact, enums by their report names, strings
// quoted for CSV; "" when it is optional and absent.
std::string FieldCell(const pb::Message& m, const std::string& field) {
  const pb::FieldDescriptor* d = m.GetDescriptor()->FindFieldByName(field);
  const pb::Reflection* r = m.GetReflection();
  if (d == nullptr) return "";
  if (d->has_presence() && !r->HasField(m, d)) return "";
  switch (d->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return Exact(r->GetDouble(m, d));
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(m, d));
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(m, d));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(m, d) ? "true" : "false";
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return CsvCell(r->GetString(m, d));
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      if (d->enum_type() == v1::FitStatus_descriptor()) {
        return StatusName(static_cast<v1::FitStatus>(r->GetEnumValue(m, d)));
      }
      if (d->enum_type() == v1::SeriesVerdict_descriptor()) {
        return CsvVerdict(static_cast<v1::SeriesVerdict>(r->GetEnumValue(m, d)));
      }
      return r->GetEnum(m, d)->name();
    default:
      return "";
  }
}

}  // namespace

std::vector<std::string> FitColumnSources() {
  std::vector<std::string> out;
  for (const FitColumn& c : FitColumns()) {
    out.push_back(c.group.empty() ? c.scope + "." + c.field : "@" + c.group);
  }
  return out;
}

std::string CompareToCsv(const v1::CompareModelsResponse& response) {
  std::vector<std::string> params, derived;
  std::set<std::string> seen, seen_derived;
  // Cross-validation horizons in first-seen order.
  std::vector<int> horizons;
  for (const auto& s : response.series()) {
    for (const auto& f : s.fits()) {
      for (const auto& p : f.parameters()) {
        if (seen.insert(p.name()).second) params.push_back(p.name());
      }
      for (const auto& d : f.derived()) {
        if (seen_derived.insert(d.name()).second) derived.push_back(d.name());
      }
      for (const auto& e : f.cv_errors()) {
        if (std::find(horizons.begin(), horizons.end(), e.horizon()) == horizons.end()) {
          horizons.push_back(e.horizon());
        }
      }
    }
  }
  std::vector<std::string> header;
  for (const FitColumn& c : FitColumns()) {
    if (c.group == "params") {
      for (const auto& p : params) header.push_back("param_" + p);
    } else if (c.group == "std_errors") {
      for (const auto& p : params) header.push_back("se_" + p);
    } else if (c.group == "at_bound") {
      for (const auto& p : params) header.push_back("at_bound_" + p);
    } else if (c.group == "derived") {
      for (const auto& d : derived) header.push_back("derived_" + d);
    } else if (c.group == "cv") {
      if (horizons.empty()) continue;
      header.push_back("cv_score");
      header.push_back("cv_rank");
      for (int h : horizons) {
        for (const char* m : {"mae", "mape", "mase"}) header.push_back(absl::StrCat(m, "_h", h));
      }
    } else {
      header.push_back(c.name);
    }
  }
  // Batch-level choices of pooled options, on every row (like paper_*), so
  // the file stays one table.
  std::vector<std::string> pooled_cells;
  for (const auto& p : response.pooled()) {
    const std::string name = absl::StrCat("pooled_", p.fitter(), "_", p.option());
    header.push_back(name);
    header.push_back(name + "_scores");
    pooled_cells.push_back(CsvCell(p.chosen()));
    std::vector<std::string> scores;
    for (int g = 0; g < p.candidates_size() && g < p.scores_size(); ++g) {
      scores.push_back(absl::StrCat(p.candidates(g), "=", Exact(p.scores(g))));
    }
    pooled_cells.push_back(CsvCell(absl::StrJoin(scores, ";")));
  }
  std::string out = absl::StrJoin(header, ",") + "\n";
  for (const auto& s : response.series()) {
    for (const auto& f : s.fits()) {
      const bool usable =
          f.status() == v1::FIT_STATUS_CONVERGED || f.status() == v1::FIT_STATUS_MAX_ITERATIONS;
      std::vector<std::string> row;
      for (const FitColumn& c : FitColumns()) {
        if (c.group == "params" || c.group == "std_errors" || c.group == "at_bound") {
          std::map<std::string, const v1::Parameter*> by_name;
          for (const auto& p : f.parameters()) by_name[p.name()] = &p;
          for (const auto& name : params) {
            auto it = by_name.find(name);
            if (it == by_name.end()) {
              row.push_back("");
            } else if (c.group == "params") {
              row.push_back(Exact(it->second->value()));
            } else if (c.group == "std_errors") {
              row.push_back(OptExact(it->second->has_std_error(), it->second->std_error()));
            } else {
              row.push_back(it->second->at_bound() ? "true" : "false");
            }
          }
        } else if (c.group == "derived") {
          std::map<std::string, double> values;
          for (const auto& d : f.derived()) values[d.name()] = d.value();
          for (const auto& d : derived) {
            auto it = values.find(d);
            row.push_back(it == values.end() ? "" : Exact(it->second));
          }
        } else if (c.group == "cv") {
          if (horizons.empty()) continue;
          row.push_back(OptExact(f.has_cv_score(), f.cv_score()));
          row.push_back(f.cv_rank() > 0 ? absl::StrCat(f.cv_rank()) : "");
          for (int h : horizons) {
            const v1::HorizonError* e = nullptr;
            for (const auto& x : f.cv_errors()) {
              if (x.horizon() == h) e = &x;
            }
            row.push_back(e && e->folds() > 0 ? Exact(e->mae()) : "");
            row.push_back(e ? OptExact(e->has_mape(), e->mape()) : "");
            row.push_back(e ? OptExact(e->has_mase(), e->mase()) : "");
          }
        } else if (c.scope == "meta") {
          row.push_back(CsvCell(Meta(s, c.field)));
        } else if (c.shown == "usable" && !usable) {
          row.push_back("");
        } else {
          row.push_back(c.scope == "series" ? FieldCell(s, c.field) : FieldCell(f, c.field));
        }
      }
      row.insert(row.end(), pooled_cells.begin(), pooled_cells.end());
      out += absl::StrJoin(row, ",") + "\n";
    }
  }
  return out;
}

WinnerMargin MarginOfWinner(const v1::SeriesReport& s, v1::Criterion criterion) {
  WinnerMargin m;
  m.winner = WinnerFit(s);
  double best;
  if (m.winner == nullptr || !CriterionValue(*m.winner, criterion, &best)) return m;
  for (const auto& f : s.fits()) {
    double v;
    if (&f == m.winner || f.rank() <= 0 || !CriterionValue(f, criterion, &v)) continue;
    if (m.runner_up == nullptr || v - best < m.margin ||
        (v - best == m.margin && f.rank() < m.runner_up->rank())) {
      m.runner_up = &f;
      m.margin = v - best;
    }
  }
  return m;
}

std::string CvFoldsToCsv(const v1::CompareModelsResponse& response) {
  std::string out = "series_id,fitter,origin_t,cutoff,horizon,t,ds,actual,forecast,error\n";
  for (const auto& s : response.series()) {
    for (const auto& f : s.fits()) {
      for (const auto& c : f.cv_folds()) {
        absl::StrAppend(&out, CsvCell(s.series_id()), ",", CsvCell(f.fitter()), ",",
                        Exact(c.origin_t()), ",", c.origin_date(), ",", c.horizon(), ",",
                        Exact(c.t()), ",", c.date(), ",", Exact(c.actual()), ",",
                        Exact(c.forecast()), ",", Exact(c.forecast() - c.actual()), "\n");
      }
    }
  }
  return out;
}

std::string SeriesDetailTable(const v1::SeriesReport& s, v1::Criterion criterion) {
  std::string out = absl::StrCat("series ", s.series_id(), ": n=", s.n(), ", last value ",
                                 Num(s.last_value()), ", verdict ", VerdictName(s.verdict()));
  if (!s.verdict_reason().empty()) absl::StrAppend(&out, " (", s.verdict_reason(), ")");
  const WinnerMargin margin = MarginOfWinner(s, criterion);
  double best = 0;
  if (margin.near_tie()) {
    CriterionValue(*margin.winner, criterion, &best);
    absl::StrAppend(&out, "; no clear winner: ", margin.runner_up->fitter(), "'s ",
                    CriterionName(criterion), absl::StrFormat(" is within %.2f of ", margin.margin),
                    margin.winner->fitter(), "'s");
  }
  out += "\n";
  Table t({"", "fitter", "status", "sse", "rmse", "r2", "aicc", "weight", "rank", "cv_mase",
           "cv_rank", "parameters (value±std.error)"});
  for (const auto& f : s.fits()) {
    const bool usable =
        f.status() == v1::FIT_STATUS_CONVERGED || f.status() == v1::FIT_STATUS_MAX_ITERATIONS;
    std::string params = usable ? ParamsCell(f) : f.message();
    if (f.forecast_baseline() && usable) params += "  [baseline: one-step-ahead error, not ranked]";
    double value;
    const bool tied = margin.near_tie() && !f.winner() && f.rank() > 0 &&
                      CriterionValue(f, criterion, &value) && value - best <= kNearTie;
    t.AddRow({f.winner() ? "*" : (tied ? "~" : ""), f.fitter(), StatusName(f.status()),
              usable ? Num(f.sse()) : "", usable ? Num(f.rmse()) : "",
              usable ? absl::StrFormat("%.4f", f.r2()) : "",
              f.has_aicc() ? absl::StrFormat("%.2f", f.aicc()) : "",
              f.has_akaike_weight() ? absl::StrFormat("%.3f", f.akaike_weight()) : "",
              f.rank() > 0 ? absl::StrCat(f.rank()) : "",
              f.has_cv_score() ? absl::StrFormat("%.3f", f.cv_score()) : "",
              f.cv_rank() > 0 ? absl::StrCat(f.cv_rank()) : "", params});
    if (f.fitter() == "citation" && !Meta(s, "paper_lambda").empty()) {
      // The paper's published fit (scipy, m = 1, t in years), for comparison.
      t.AddRow({"", "  (paper)", Meta(s, "paper_label"), "", "", "", "", "", "", "", "",
                absl::StrCat("lambda=", MetaNum(Meta(s, "paper_lambda")),
                             " mu=", MetaNum(Meta(s, "paper_mu")),
                             " sigma=", MetaNum(Meta(s, "paper_sigma")))});
    }
  }
  out += t.Render();
  for (const auto& f : s.fits()) {
    if (!f.derived().empty()) {
      std::vector<std::string> d;
      for (const auto& q : f.derived()) d.push_back(absl::StrCat(q.name(), "=", Num(q.value())));
      absl::StrAppend(&out, "  ", f.fitter(), " derived: ", absl::StrJoin(d, ", "), "\n");
    }
  }
  out += "  * winner by the criterion; weight = Akaike weight over the ranked fits";
  if (margin.near_tie()) {
    absl::StrAppend(&out, "; ~ within ", Num(kNearTie), " ", CriterionName(criterion),
                    " of the winner (no clear winner)");
  }
  if (!s.cv_winner().empty()) {
    absl::StrAppend(&out, "; best forecaster by cross-validation: ", s.cv_winner(),
                    " (cv_mase: mean scaled error over the horizons, < 1 beats last value)");
  }
  out += "\n";
  return out;
}

namespace {

// A number with 3 significant digits for the profile tables.
std::string Short(double v) {
  if (!std::isfinite(v)) return Num(v);
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e6)) return absl::StrFormat("%.2e", v);
  return absl::StrFormat("%.3g", v);
}

std::string PValue(double p) { return p < 1e-4 ? absl::StrFormat("%.1e", p) : Short(p); }

}  // namespace

std::string ProfileTables(const v1::CompareModelsResponse& r) {
  if (!r.has_profile_tests()) return "";
  const v1::ProfileTests& t = r.profile_tests();
  std::string out;
  absl::StrAppend(&out, "\nProfiles by ", r.group_by(), " (", t.fitter(),
                  "; series it fits with R^2 >= 0.95, no abrupt surge and every parameter "
                  "identified; median [95% bootstrap interval] (quartiles)):\n");
  Table counts({r.group_by(), "series", "fitted", "at_bound", "unidentified", "used"});
  std::vector<std::string> quantities;
  for (const auto& g : r.groups()) {
    const auto& p = g.profile();
    counts.AddRow({g.value().empty() ? "(none)" : g.value(), absl::StrCat(p.series()),
                   absl::StrCat(p.fitted()), absl::StrCat(p.at_bound()),
                   absl::StrCat(p.unidentified()), absl::StrCat(p.used())});
    for (const auto& q : p.quantities()) {
      if (std::find(quantities.begin(), quantities.end(), q.quantity()) == quantities.end()) {
        quantities.push_back(q.quantity());
      }
    }
  }
  out += counts.Render();
  out +=
      "  at_bound, unidentified: fitted, left out (a parameter on its bound, or without a "
      "standard error, is not an estimate)\n";
  std::vector<std::string> header = {r.group_by()};
  for (const auto& q : quantities) header.push_back(q);
  Table medians(header);
  for (const auto& g : r.groups()) {
    std::vector<std::string> row = {g.value().empty() ? "(none)" : g.value()};
    for (const auto& name : quantities) {
      std::string cell = "-";
      for (const auto& q : g.profile().quantities()) {
        if (q.quantity() != name) continue;
        cell = absl::StrCat(Short(q.median()), " [", Short(q.median_lower()), ", ",
                            Short(q.median_upper()), "] (", Short(q.q1()), "-", Short(q.q3()), ")");
      }
      row.push_back(cell);
    }
    medians.AddRow(row);
  }
  out += medians.Render();
  if (t.tests_size() == 0) {
    absl::StrAppend(&out, "No test between groups: ", t.note(), "\n");
    return out;
  }
  absl::StrAppend(&out, "\nDo the groups differ? Kruskal-Wallis per quantity over the ",
                  t.tested_size(), " groups with at least ", t.min_group_size(),
                  " series used (Holm-corrected over the quantities; epsilon^2: effect size)",
                  t.too_small_size() > 0
                      ? absl::StrCat("; too small to test: ", absl::StrJoin(t.too_small(), ", "))
                      : "",
                  ":\n");
  Table tests({"quantity", "groups", "n", "H", "p", "p_holm", "epsilon2", "differ"});
  for (const auto& q : t.tests()) {
    tests.AddRow({q.quantity(), absl::StrCat(q.groups()), absl::StrCat(q.n()), Short(q.h()),
                  PValue(q.p_value()), PValue(q.p_adjusted()), Short(q.epsilon_squared()),
                  q.significant() ? "yes" : "no"});
  }
  out += tests.Render();
  absl::StrAppend(&out,
                  "\nSignificant pairwise differences among the largest groups (Dunn's test, "
                  "Holm-corrected per quantity; delta: Cliff's delta, P(a > b) - P(a < b)):\n");
  Table pairs({"quantity", "a", "b", "median_a-b", "delta", "p_holm"});
  int shown = 0, total = 0;
  for (const auto& q : t.tests()) {
    for (const auto& d : q.pairs()) {
      ++total;
      if (!d.significant()) continue;
      ++shown;
      pairs.AddRow({q.quantity(), d.group_a(), d.group_b(), Short(d.median_difference()),
                    Short(d.cliffs_delta()), PValue(d.p_adjusted())});
    }
  }
  if (shown > 0) out += pairs.Render();
  absl::StrAppend(&out, "  ", shown, " of ", total, " pairs differ at 0.05\n");
  return out;
}

std::string PooledTable(const v1::CompareModelsResponse& r) {
  std::string out;
  for (const auto& p : r.pooled()) {
    absl::StrAppend(
        &out, "\nPooled ", p.fitter(), ".", p.option(), " = ", p.chosen(),
        " for every series, chosen by rolling-origin cross-validation\n",
        absl::StrFormat("  cv_score: median over %d series of the mean MASE over the horizons "
                        "(lower is better); %d fits, %.2f s\n",
                        p.series_scored(), p.fits(), p.elapsed_seconds()));
    Table t({p.option(), "cv_score", "chosen"});
    for (int g = 0; g < p.candidates_size(); ++g) {
      t.AddRow({p.candidates(g), g < p.scores_size() ? absl::StrFormat("%.4f", p.scores(g)) : "",
                p.candidates(g) == p.chosen() ? "*" : ""});
    }
    out += t.Render();
    if (p.fitter() == "citation" && p.option() == "m") {
      out +=
          "  m = 1 is the paper's (t in years), m = 100 the authors' app's (t in months); "
          "the time unit does not change which m fits\n";
    }
  }
  return out;
}

std::string CompareToTable(const v1::CompareModelsResponse& r, int limit, int detail_limit) {
  std::string out = absl::StrFormat(
      "Compared %d series in %.2f s (criterion %s on %s).\n"
      "Verdicts: %d fit, %d do not fit (no model reaches R^2 0.95, or an abrupt "
      "surge), %d not enough data.\n\n",
      r.series_count(), r.elapsed_seconds(), r.criterion() == v1::CRITERION_BIC ? "BIC" : "AICc",
      r.loss() == "poisson_deviance_increments" ? "Poisson deviance of monthly increments"
                                                : "least squares on the cumulative series",
      r.series_count() - r.does_not_fit() - r.not_enough_data(), r.does_not_fit(),
      r.not_enough_data());
  int with_winner = 0, near_ties = 0;
  for (const auto& s : r.series()) {
    const WinnerMargin m = MarginOfWinner(s, r.criterion());
    with_winner += m.winner != nullptr;
    near_ties += m.near_tie();
  }
  if (with_winner > 0) {
    // Replaces the blank line the verdicts end with.
    out.pop_back();
    absl::StrAppend(
        &out, absl::StrFormat("No clear winner in %d of the %d series with one (the "
                              "runner-up's %s within %s of the winner's).\n\n",
                              near_ties, with_winner, CriterionName(r.criterion()), Num(kNearTie)));
  }
  std::vector<std::string> header = {"fitter", "wins",      "converged", "max_iter",   "not_fitted",
                                     "failed", "cancelled", "median_r2", "mean_weight"};
  std::vector<int> horizons;
  if (r.fitters_size() > 0) {
    for (const auto& m : r.fitters(0).cv_median()) horizons.push_back(m.horizon());
  }
  if (!horizons.empty()) {
    header.push_back("cv_wins");
    for (int h : horizons) header.push_back(absl::StrCat("mase_h", h));
  }
  Table fitters(header);
  for (const auto& f : r.fitters()) {
    std::vector<std::string> row = {f.fitter(),
                                    absl::StrCat(f.wins()),
                                    absl::StrCat(f.converged()),
                                    absl::StrCat(f.max_iterations()),
                                    absl::StrCat(f.not_fitted()),
                                    absl::StrCat(f.failed()),
                                    absl::StrCat(f.cancelled()),
                                    absl::StrFormat("%.4f", f.median_r2()),
                                    absl::StrFormat("%.3f", f.mean_akaike_weight())};
    if (!horizons.empty()) {
      row.push_back(absl::StrCat(f.cv_wins()));
      for (int h : horizons) {
        std::string cell;
        for (const auto& m : f.cv_median()) {
          if (m.horizon() == h && m.has_mase()) cell = absl::StrFormat("%.3f", m.mase());
        }
        row.push_back(cell);
      }
    }
    fitters.AddRow(row);
  }
  out += fitters.Render();
  if (!horizons.empty()) {
    out +=
        "  wins: by the criterion (curves only); cv_wins and mase_h*: rolling-origin forecasts, "
        "median over series of the error scaled by the last-value forecast's (< 1 beats it)\n";
  }

  out += PooledTable(r);

  if (!r.group_by().empty() && r.groups_size() > 0) {
    absl::StrAppend(&out, "\nBy ", r.group_by(), " (wins per fitter):\n");
    std::vector<std::string> header = {r.group_by(), "series", "does_not_fit", "no_data"};
    for (const auto& f : r.fitters()) header.push_back(f.fitter());
    Table groups(header);
    for (const auto& g : r.groups()) {
      std::vector<std::string> row = {g.value().empty() ? "(none)" : g.value(),
                                      absl::StrCat(g.series()), absl::StrCat(g.does_not_fit()),
                                      absl::StrCat(g.not_enough_data())};
      // By name: a group need not list the fitters in the batch's order.
      for (const auto& batch_fitter : r.fitters()) {
        std::string wins = "0";
        for (const auto& f : g.fitters()) {
          if (f.fitter() == batch_fitter.fitter()) wins = absl::StrCat(f.wins());
        }
        row.push_back(wins);
      }
      groups.AddRow(row);
    }
    out += groups.Render();
  }
  out += ProfileTables(r);

  if (r.series_size() > 0) {
    std::vector<const v1::SeriesReport*> order;
    for (const auto& s : r.series()) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
      return a->last_value() > b->last_value();
    });
    const size_t shown = limit <= 0 ? order.size() : std::min<size_t>(order.size(), limit);
    absl::StrAppend(&out, "\nSeries (largest adoption first):\n");
    Table series({"series", "n", "last", "winner", "r2", "best_forecaster", "verdict", "note"});
    for (size_t i = 0; i < shown; ++i) {
      const auto* s = order[i];
      const v1::FitResult* w = WinnerFit(*s);
      std::vector<std::string> notes;
      for (std::string note : {NearTieNote(*s, r.criterion()), s->verdict_reason()}) {
        if (!note.empty()) notes.push_back(std::move(note));
      }
      series.AddRow({s->series_id(), absl::StrCat(s->n()), Num(s->last_value()),
                     s->winner().empty() ? "-" : s->winner(),
                     w ? absl::StrFormat("%.4f", w->r2()) : "",
                     s->cv_winner().empty() ? "-" : s->cv_winner(), VerdictName(s->verdict()),
                     absl::StrJoin(notes, "; ")});
    }
    out += series.Render();
    if (shown < order.size()) {
      absl::StrAppend(&out, "... ", order.size() - shown, " more series (--limit 0 for all)\n");
    }
    // Few series on screen: show each one's per-fitter table too.
    if (shown <= static_cast<size_t>(std::max(detail_limit, 0))) {
      for (size_t i = 0; i < shown; ++i) out += "\n" + SeriesDetailTable(*order[i], r.criterion());
    }
  }
  return out;
}

std::string FitToTable(const v1::FitResult& f) {
  v1::SeriesReport s;
  s.set_series_id(f.series_id());
  *s.add_fits() = f;
  std::string out =
      absl::StrCat("fit of ", f.fitter(), " to ", f.series_id(), ": ", StatusName(f.status()));
  if (!f.message().empty() && f.message() != StatusName(f.status())) {
    absl::StrAppend(&out, " (", f.message(), ")");
  }
  out += "\n";
  Table t({"parameter", "value", "std_error", "ci95_low", "ci95_high", "fixed"});
  for (const auto& p : f.parameters()) {
    t.AddRow({p.name(), Num(p.value()), Opt(p.has_std_error(), p.std_error()),
              Opt(p.has_ci_low(), p.ci_low()), Opt(p.has_ci_high(), p.ci_high()),
              p.fixed() ? "yes" : ""});
  }
  out += t.Render();
  if (!f.covariance_note().empty())
    absl::StrAppend(&out, "covariance: ", f.covariance_note(), "\n");
  absl::StrAppend(&out, absl::StrFormat("loss %s, n=%d, k=%d, sse=%s, rmse=%s, r2=%.4f", f.loss(),
                                        f.n(), f.k(), Num(f.sse()), Num(f.rmse()), f.r2()));
  if (f.has_aicc()) absl::StrAppend(&out, absl::StrFormat(", aicc=%.3f", f.aicc()));
  if (f.has_bic()) absl::StrAppend(&out, absl::StrFormat(", bic=%.3f", f.bic()));
  absl::StrAppend(&out, absl::StrFormat(", %d iterations over %d starts, %.2f ms\n", f.iterations(),
                                        f.starts(), 1e3 * f.fit_seconds()));
  for (const auto& d : f.derived()) absl::StrAppend(&out, d.name(), " = ", Num(d.value()), "\n");
  return out;
}

std::string FitToCsv(const v1::FitResult& f) {
  v1::CompareModelsResponse r;
  auto* s = r.add_series();
  s->set_series_id(f.series_id());
  *s->add_fits() = f;
  return CompareToCsv(r);
}

std::string ForecastToTable(const v1::ForecastResponse& r) {
  std::string out = absl::StrCat("forecast of ", r.series_id(), " by ", r.fitter());
  if (r.interval_level() > 0) {
    absl::StrAppend(&out, absl::StrFormat(" (%g%% intervals: %s", 100 * r.interval_level(),
                                          r.interval_method()));
    if (r.interval_method() == "conformal") {
      absl::StrAppend(&out,
                      absl::StrFormat(", %d rolling origin%s + corpus band", r.interval_folds(),
                                      r.interval_folds() == 1 ? "" : "s"));
    }
    out += ")";
  }
  out += "\n";
  if (r.has_fit()) {
    const v1::FitResult& f = r.fit();
    absl::StrAppend(&out, "fit: ", StatusName(f.status()));
    const bool usable =
        f.status() == v1::FIT_STATUS_CONVERGED || f.status() == v1::FIT_STATUS_MAX_ITERATIONS;
    if (usable && f.n() > 0) {  // a combination has no statistics of its own
      absl::StrAppend(&out,
                      absl::StrFormat(", n=%d, r2=%.4f, rmse=%s", f.n(), f.r2(), Num(f.rmse())));
    }
    if (usable && r.weights_size() == 0) {  // weights are listed below
      const std::string params = ParamsCell(f);
      if (!params.empty()) absl::StrAppend(&out, ", ", params);
    }
    if (!f.message().empty() && f.message() != StatusName(f.status())) {
      absl::StrAppend(&out, " (", f.message(), ")");
    }
    out += "\n";
  }
  if (r.weights_size() > 0) {
    std::vector<std::string> w;
    for (const auto& fw : r.weights()) {
      w.push_back(absl::StrFormat("%s %.3f", fw.fitter(), fw.weight()));
    }
    absl::StrAppend(&out, "weights: ", absl::StrJoin(w, ", "), "\n");
  }
  const bool dated = r.points_size() > 0 && !r.points(0).date().empty();
  std::vector<std::string> header = {"t", "value", "lower", "upper", "P(>=10x)"};
  if (dated) header.insert(header.begin() + 1, "date");
  Table t(header);
  for (const auto& p : r.points()) {
    std::vector<std::string> row = {
        Num(p.t()), Num(p.value()), Opt(p.has_lower(), p.lower()), Opt(p.has_upper(), p.upper()),
        p.has_tenfold_probability() ? absl::StrFormat("%.1f%%", 100 * p.tenfold_probability())
                                    : std::string()};
    if (dated) row.insert(row.begin() + 1, p.date());
    t.AddRow(row);
  }
  out += t.Render();
  for (const auto& w : r.warnings()) absl::StrAppend(&out, "warning: ", w, "\n");
  return out;
}

std::string ForecastToCsv(const v1::ForecastResponse& r) {
  std::string out = "series_id,fitter,t,date,value,lower,upper,tenfold_probability\n";
  for (const auto& p : r.points()) {
    absl::StrAppend(&out, CsvCell(r.series_id()), ",", r.fitter(), ",", Exact(p.t()), ",", p.date(),
                    ",", Exact(p.value()), ",", OptExact(p.has_lower(), p.lower()), ",",
                    OptExact(p.has_upper(), p.upper()), ",",
                    OptExact(p.has_tenfold_probability(), p.tenfold_probability()), "\n");
  }
  return out;
}

std::string FittersToTable(const v1::ListFittersResponse& r) {
  Table t({"fitter", "version", "kind", "parameters", "options (default)", "description"});
  for (const auto& f : r.fitters()) {
    std::vector<std::string> params, options;
    for (const auto& p : f.parameters()) params.push_back(p.name());
    for (const auto& o : f.options()) {
      options.push_back(absl::StrCat(o.name(), "=", o.default_value()));
    }
    t.AddRow(
        {f.name(), f.version(),
         absl::StrCat(f.forecast_baseline() ? "baseline" : "curve", f.opt_in() ? " (opt-in)" : ""),
         absl::StrJoin(params, ","), absl::StrJoin(options, " "), f.description()});
  }
  std::string out = r.fitters().empty() ? "no fitters loaded\n" : t.Render();
  if (r.fitters_size() > 0) {
    out +=
        "  kind: curve = ranked by the information criterion; baseline = forecast "
        "baseline, judged by forecast error only; opt-in = runs only when a request "
        "names it (--fitters)\n";
  }
  for (const auto& rej : r.rejected()) {
    absl::StrAppend(&out, "rejected plugin ", rej.path(), ": ", rej.reason(), "\n");
  }
  return out;
}

std::string SeriesListToTable(const std::vector<v1::Series>& series) {
  Table t({"id", "points", "last", "company", "created_at", "revision"});
  for (const auto& s : series) {
    auto meta = [&](const char* k) {
      auto it = s.metadata().find(k);
      return it == s.metadata().end() ? std::string() : it->second;
    };
    t.AddRow({s.id(), absl::StrCat(s.points_size()),
              s.points_size() ? Num(s.points(s.points_size() - 1).value()) : "", meta("company"),
              meta("created_at"), absl::StrCat(s.revision())});
  }
  return t.Render();
}

std::string SeriesListToCsv(const std::vector<v1::Series>& series) {
  std::set<std::string> keys;
  for (const auto& s : series) {
    for (const auto& [k, v] : s.metadata()) keys.insert(k);
  }
  std::string out = "id,revision,points,last_value";
  for (const auto& k : keys) absl::StrAppend(&out, ",", CsvCell(k));
  out += "\n";
  for (const auto& s : series) {
    absl::StrAppend(&out, CsvCell(s.id()), ",", s.revision(), ",", s.points_size(), ",",
                    s.points_size() ? Exact(s.points(s.points_size() - 1).value()) : "");
    for (const auto& k : keys) {
      auto it = s.metadata().find(k);
      absl::StrAppend(&out, ",", it == s.metadata().end() ? "" : CsvCell(it->second));
    }
    out += "\n";
  }
  return out;
}

std::string SeriesPointsToCsv(const v1::Series& s) {
  std::string out = "series_id,t,date,value\n";
  for (const auto& p : s.points()) {
    absl::StrAppend(&out, CsvCell(s.id()), ",", Exact(p.t()), ",", p.date(), ",", Exact(p.value()),
                    "\n");
  }
  return out;
}

std::string SeriesToTable(const v1::Series& s) {
  const bool dated = !s.origin().empty();
  std::string out = absl::StrCat("series ", s.id(), " (unit ", s.unit().empty() ? "-" : s.unit(),
                                 ", t in ", s.time_unit() == v1::TIME_UNIT_DAY ? "days" : "months",
                                 dated ? absl::StrCat(" since ", s.origin()) : std::string(),
                                 ", revision ", s.revision(), ")\n");
  // Sorted: a protobuf map's iteration order changes from run to run.
  const std::map<std::string, std::string> metadata(s.metadata().begin(), s.metadata().end());
  for (const auto& [k, v] : metadata) absl::StrAppend(&out, "  ", k, ": ", v, "\n");
  Table t(dated ? std::vector<std::string>{"t", "date", "value"}
                : std::vector<std::string>{"t", "value"});
  for (const auto& p : s.points()) {
    t.AddRow(dated ? std::vector<std::string>{Num(p.t()), p.date(), Num(p.value())}
                   : std::vector<std::string>{Num(p.t()), Num(p.value())});
  }
  return out + t.Render();
}

}  // namespace adoption::cli
