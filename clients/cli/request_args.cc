#include "clients/cli/request_args.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace adoption::cli {

std::string KeyValueProblem(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos) {
    return absl::StrCat("expected key=value, got \"", arg, "\"");
  }
  if (eq == 0) return absl::StrCat("empty key in \"", arg, "\"");
  return "";
}

std::string FitterOptionProblem(const std::string& arg) {
  const size_t eq = arg.find('=');
  const size_t dot = arg.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
    return absl::StrCat("expected fitter.key=value (e.g. citation.m=100), got \"", arg, "\"");
  }
  if (dot == 0) return absl::StrCat("empty fitter name in \"", arg, "\"");
  if (dot + 1 == eq) return absl::StrCat("empty option key in \"", arg, "\"");
  return "";
}

absl::StatusOr<std::map<std::string, std::string>> ParseKeyValues(
    const std::vector<std::string>& pairs, absl::string_view flag) {
  std::map<std::string, std::string> out;
  for (const std::string& p : pairs) {
    if (std::string problem = KeyValueProblem(p); !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": ", problem));
    }
    const size_t eq = p.find('=');
    std::string key = p.substr(0, eq);
    std::string value = p.substr(eq + 1);
    const auto [it, inserted] = out.emplace(key, value);
    if (!inserted && it->second != value) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": key \"", key, "\" given twice (\"",
                                                     it->second, "\" and \"", value, "\")"));
    }
  }
  return out;
}

absl::Status AddFitterOptions(const std::vector<std::string>& pairs,
                              v1::CompareModelsRequest* request) {
  std::map<std::string, std::vector<std::string>> by_fitter;
  for (const std::string& p : pairs) {
    if (std::string problem = FitterOptionProblem(p); !problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--option: ", problem));
    }
    const size_t dot = p.find('.');
    by_fitter[p.substr(0, dot)].push_back(p.substr(dot + 1));
  }
  for (const auto& [fitter, key_values] : by_fitter) {
    auto options = ParseKeyValues(key_values, absl::StrCat("--option ", fitter, "."));
    if (!options.ok()) return options.status();
    auto* target = (*request->mutable_fitter_options())[fitter].mutable_options();
    target->insert(options->begin(), options->end());
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitFitterList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

absl::StatusOr<std::string> ServerLossName(absl::string_view name) {
  if (name == "sse" || name == "sse_cumulative") return std::string("sse_cumulative");
  if (name == "poisson" || name == "poisson_deviance_increments") {
    return std::string("poisson_deviance_increments");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--loss: expected sse or poisson (or sse_cumulative, poisson_deviance_increments), got \"",
      name, "\""));
}

std::string IntervalLevelProblem(const std::string& arg) {
  double v;
  if (!absl::SimpleAtod(arg, &v) || !std::isfinite(v)) {
    return absl::StrCat("expected a number in (0, 1), got \"", arg, "\"");
  }
  if (!(v > 0 && v < 1)) return absl::StrCat("must be in (0, 1) (e.g. 0.9), got ", arg);
  return "";
}

namespace {

// Case and spaces do not count: "meta" is near "Meta", "Mistral AI" near
// "MistralAI".
std::string Folded(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) out += absl::ascii_tolower(c);
  }
  return out;
}

}  // namespace

std::string EmptySelectionMessage(const v1::SeriesSelector& selection,
                                  const std::map<std::string, std::set<std::string>>& values) {
  std::string out = "the selection matches no series: ";
  if (selection.all()) return out + "the store is empty";
  if (selection.metadata_filter().empty()) return out + "no series has these ids";
  const std::map<std::string, std::string> wanted(selection.metadata_filter().begin(),
                                                  selection.metadata_filter().end());
  std::vector<std::string> what, near, other;
  for (const auto& [key, value] : wanted) {
    what.push_back(absl::StrCat(key, "=", value));
    auto it = values.find(key);
    if (it == values.end()) continue;  // not looked up
    const std::set<std::string>& have = it->second;
    std::string close;
    for (const auto& v : have) {
      if (v != value && Folded(v) == Folded(value)) {
        close = v;
        break;
      }
    }
    if (!close.empty()) {
      near.push_back(absl::StrCat(key, "=", close));
    } else if (have.empty()) {
      other.push_back(absl::StrCat("no series has the metadata key '", key, "'"));
    } else if (have.count(value) == 0) {
      std::vector<std::string> shown(have.begin(), have.end());
      std::string listed;
      if (shown.size() > 12) {
        listed = absl::StrCat(absl::StrJoin(shown.begin(), shown.begin() + 12, ", "), ", ... (",
                              shown.size(), " values)");
      } else {
        listed = absl::StrJoin(shown, ", ");
      }
      other.push_back(absl::StrCat(key, " is one of ", listed));
    }
  }
  absl::StrAppend(&out, "no series has metadata ", absl::StrJoin(what, " "));
  if (!near.empty()) {
    absl::StrAppend(&out, " (filters match exactly: did you mean ", absl::StrJoin(near, " "), "?)");
  } else if (!other.empty()) {
    absl::StrAppend(&out, " (", absl::StrJoin(other, "; "), ")");
  }
  return out;
}

}  // namespace adoption::cli
