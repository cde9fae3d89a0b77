#include "clients/cli/request_args.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
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

}  // namespace adoption::cli
