// adoptctl: command-line client of adoptiond.
//
//   adoptctl [--server ADDR] <command> [options]
//
// Exit codes: 0 success; 1 the server (or a file) refused the request, with
// "error: <CODE>: <message>" on stderr; 2 usage error.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "adoption/client.h"
#include "clients/cli/finetune_csv.h"
#include "clients/cli/report_format.h"

namespace {

using adoption::cli::Format;

int Fail(const absl::Status& status) {
  std::cerr << "error: " << absl::StatusCodeToString(status.code()) << ": "
            << status.message() << "\n";
  return 1;
}

// Splits "key=value" pairs into a map; INVALID_ARGUMENT naming the flag.
absl::StatusOr<std::map<std::string, std::string>> ParsePairs(
    const std::vector<std::string>& pairs, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& p : pairs) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": expected key=value, got \"", p, "\""));
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"adoptctl: client of adoptiond, the adoption-engine server"};
  app.require_subcommand(1);
  const char* env_server = std::getenv("ADOPTION_SERVER");
  std::string server = env_server && *env_server ? env_server : "127.0.0.1:50051";
  double timeout_s = 600;
  std::string token_file, tls_ca;
  app.add_option("--server", server, "adoptiond address host:port (env ADOPTION_SERVER)")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "deadline of each call, seconds")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--token-file", token_file, "file holding a bearer token");
  app.add_option("--tls-ca", tls_ca, "PEM root certificate: connect with TLS");

  std::string format_name = "table";
  auto add_format = [&](CLI::App* cmd) {
    cmd->add_option("--format", format_name, "table, json or csv")
        ->capture_default_str()
        ->check(CLI::IsMember({"table", "json", "csv"}));
  };

  // load-csv
  std::vector<std::string> csv_files;
  auto* load = app.add_subcommand(
      "load-csv", "load series from CSV files (data/hf-finetunes-2025-02-18 format); "
                  "every file is checked first: if any is malformed, nothing is stored");
  load->add_option("files", csv_files, "CSV files")->required()->check(CLI::ExistingFile);

  // list
  std::vector<std::string> filters;
  int page_size = 1000;
  auto* list = app.add_subcommand("list", "list stored series");
  list->add_option("--filter", filters, "metadata key=value (repeatable; all must match)");
  list->add_option("--page-size", page_size, "series per request")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  add_format(list);

  // get / delete
  std::string id;
  auto* get = app.add_subcommand("get", "show one series with its points");
  get->add_option("id", id, "series id")->required();
  add_format(get);
  auto* del = app.add_subcommand("delete", "delete one series");
  del->add_option("id", id, "series id")->required();

  // fitters
  auto* fitters = app.add_subcommand("fitters", "list the loaded fitter plugins");
  add_format(fitters);

  // fit
  std::string series_id, fitter;
  std::vector<std::string> options;
  auto* fit = app.add_subcommand("fit", "fit one fitter to one series");
  fit->add_option("--series", series_id, "series id")->required();
  fit->add_option("--fitter", fitter, "fitter name (see `adoptctl fitters`)")->required();
  fit->add_option("--option", options, "fitter option key=value (repeatable)");
  add_format(fit);

  // compare
  bool all = false;
  std::vector<std::string> series_ids, compare_options;
  std::string fitter_list, criterion = "aicc", group_by;
  int limit = 20;
  bool summary_only = false;
  auto* compare = app.add_subcommand(
      "compare", "compare fitters on a selection of series: which model explains adoption best");
  auto* sel_all = compare->add_flag("--all", all, "every stored series");
  auto* sel_ids = compare->add_option("--series", series_ids, "series ids");
  auto* sel_filter = compare->add_option("--filter", filters, "metadata key=value (repeatable)");
  sel_all->excludes(sel_ids)->excludes(sel_filter);
  sel_ids->excludes(sel_filter);
  compare->add_option("--fitters", fitter_list, "comma-separated fitter names (default: all)");
  compare->add_option("--option", compare_options,
                      "fitter option fitter.key=value (repeatable), e.g. citation.m=100");
  compare->add_option("--criterion", criterion, "ranking criterion")
      ->capture_default_str()->check(CLI::IsMember({"aicc", "bic"}));
  compare->add_option("--group-by", group_by, "metadata key to aggregate by, e.g. company");
  compare->add_option("--limit", limit, "series rows in the table (0 = all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  compare->add_flag("--summary-only", summary_only, "only the batch and group summaries");
  add_format(compare);

  // forecast
  int horizon = 6;
  auto* forecast = app.add_subcommand("forecast", "fit one fitter and extrapolate it");
  forecast->add_option("--series", series_id, "series id")->required();
  forecast->add_option("--fitter", fitter, "fitter name")->required();
  forecast->add_option("--horizon", horizon, "months past the last point")
      ->capture_default_str();
  forecast->add_option("--option", options, "fitter option key=value (repeatable)");
  add_format(forecast);

  CLI11_PARSE(app, argc, argv);
  const Format format = *adoption::cli::ParseFormat(format_name);

  adoption::ClientOptions client_options;
  client_options.timeout = absl::Seconds(timeout_s);
  if (!token_file.empty()) {
    absl::StatusOr<std::string> token = ReadWholeFile(token_file);
    if (!token.ok()) return Fail(token.status());
    client_options.token = std::string(absl::StripAsciiWhitespace(*token));
  }
  if (!tls_ca.empty()) {
    absl::StatusOr<std::string> pem = ReadWholeFile(tls_ca);
    if (!pem.ok()) return Fail(pem.status());
    client_options.tls_root_certs = *pem;
  }
  auto client_or = adoption::AdoptionClient::Connect(server, client_options);
  if (!client_or.ok()) return Fail(client_or.status());
  adoption::AdoptionClient& client = **client_or;
  namespace v1 = adoption::v1;

  if (*load) {
    // Parse everything before sending anything: one bad file stores nothing.
    std::vector<std::vector<v1::Series>> parsed;
    for (const auto& f : csv_files) {
      auto series = adoption::cli::ReadFinetuneCsvFile(f);
      if (!series.ok()) {
        Fail(series.status());
        std::cerr << "nothing was stored\n";
        return 1;
      }
      parsed.push_back(std::move(*series));
    }
    int created = 0, updated = 0, unchanged = 0;
    for (size_t i = 0; i < parsed.size(); ++i) {
      v1::UpsertSeriesRequest req;
      for (auto& s : parsed[i]) *req.add_series() = std::move(s);
      if (req.series_size() == 0) {
        std::cout << csv_files[i] << ": no series\n";
        continue;
      }
      auto resp = client.UpsertSeries(req);
      if (!resp.ok()) {
        Fail(resp.status());
        std::cerr << csv_files[i] << " was not stored"
                  << (i > 0 ? " (the files before it were)" : "") << "\n";
        return 1;
      }
      std::cout << csv_files[i] << ": " << req.series_size() << " series: "
                << resp->created() << " created, " << resp->updated() << " updated, "
                << resp->unchanged() << " unchanged\n";
      created += resp->created();
      updated += resp->updated();
      unchanged += resp->unchanged();
    }
    std::cout << "total: " << created + updated + unchanged << " series: " << created
              << " created, " << updated << " updated, " << unchanged << " unchanged\n";
    return 0;
  }

  if (*list) {
    auto filter = ParsePairs(filters, "--filter");
    if (!filter.ok()) return Fail(filter.status());
    std::vector<v1::Series> series;
    v1::ListSeriesResponse all_pages;
    std::string token;
    do {
      v1::ListSeriesRequest req;
      req.set_page_size(page_size);
      req.set_page_token(token);
      req.mutable_metadata_filter()->insert(filter->begin(), filter->end());
      auto resp = client.ListSeries(req);
      if (!resp.ok()) return Fail(resp.status());
      for (const auto& s : resp->series()) {
        series.push_back(s);
        *all_pages.add_series() = s;
      }
      all_pages.set_total_size(resp->total_size());
      token = resp->next_page_token();
    } while (!token.empty());
    if (format == Format::kJson) {
      std::cout << adoption::cli::ToJson(all_pages) << "\n";
    } else if (format == Format::kCsv) {
      std::cout << adoption::cli::SeriesListToCsv(series);
    } else {
      std::cout << adoption::cli::SeriesListToTable(series) << series.size() << " series\n";
    }
    return 0;
  }

  if (*get) {
    v1::GetSeriesRequest req;
    req.set_id(id);
    auto resp = client.GetSeries(req);
    if (!resp.ok()) return Fail(resp.status());
    if (format == Format::kJson) {
      std::cout << adoption::cli::ToJson(*resp) << "\n";
    } else if (format == Format::kCsv) {
      std::cout << "t,value\n";
      for (const auto& p : resp->points()) std::cout << p.t() << "," << p.value() << "\n";
    } else {
      std::cout << adoption::cli::SeriesToTable(*resp);
    }
    return 0;
  }

  if (*del) {
    v1::DeleteSeriesRequest req;
    req.set_id(id);
    auto resp = client.DeleteSeries(req);
    if (!resp.ok()) return Fail(resp.status());
    std::cout << "deleted " << id << "\n";
    return 0;
  }

  if (*fitters) {
    auto resp = client.ListFitters();
    if (!resp.ok()) return Fail(resp.status());
    std::cout << (format == Format::kJson ? adoption::cli::ToJson(*resp) + "\n"
                                          : adoption::cli::FittersToTable(*resp));
    return 0;
  }

  if (*fit) {
    auto opts = ParsePairs(options, "--option");
    if (!opts.ok()) return Fail(opts.status());
    v1::FitRequest req;
    req.set_series_id(series_id);
    req.set_fitter(fitter);
    req.mutable_options()->insert(opts->begin(), opts->end());
    auto resp = client.Fit(req);
    if (!resp.ok()) return Fail(resp.status());
    if (format == Format::kJson) {
      std::cout << adoption::cli::ToJson(*resp) << "\n";
    } else if (format == Format::kCsv) {
      std::cout << adoption::cli::FitToCsv(resp->result());
    } else {
      std::cout << adoption::cli::FitToTable(resp->result());
    }
    return 0;
  }

  if (*compare) {
    v1::CompareModelsRequest req;
    if (all) {
      req.mutable_selection()->set_all(true);
    } else if (!series_ids.empty()) {
      for (const auto& s : series_ids) req.mutable_selection()->add_ids(s);
    } else if (!filters.empty()) {
      auto filter = ParsePairs(filters, "--filter");
      if (!filter.ok()) return Fail(filter.status());
      req.mutable_selection()->mutable_metadata_filter()->insert(filter->begin(), filter->end());
    } else {
      std::cerr << "compare: choose the series with --all, --series or --filter\n";
      return 2;
    }
    if (!fitter_list.empty()) {
      for (absl::string_view f : absl::StrSplit(fitter_list, ',', absl::SkipEmpty())) {
        req.add_fitters(std::string(f));
      }
    }
    for (const auto& o : compare_options) {
      const size_t dot = o.find('.');
      const size_t eq = o.find('=');
      if (dot == std::string::npos || eq == std::string::npos || dot == 0 || eq < dot + 2) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat("--option: expected fitter.key=value, got \"", o, "\"")));
      }
      (*(*req.mutable_fitter_options())[o.substr(0, dot)].mutable_options())
          [o.substr(dot + 1, eq - dot - 1)] = o.substr(eq + 1);
    }
    req.set_criterion(criterion == "bic" ? v1::CRITERION_BIC : v1::CRITERION_AICC);
    req.set_group_by(group_by);
    req.set_summary_only(summary_only);
    auto resp = client.CompareModels(req);
    if (!resp.ok()) return Fail(resp.status());
    if (format == Format::kJson) {
      std::cout << adoption::cli::ToJson(*resp) << "\n";
    } else if (format == Format::kCsv) {
      std::cout << adoption::cli::CompareToCsv(*resp);
    } else {
      std::cout << adoption::cli::CompareToTable(*resp, limit);
    }
    return 0;
  }

  if (*forecast) {
    auto opts = ParsePairs(options, "--option");
    if (!opts.ok()) return Fail(opts.status());
    v1::ForecastRequest req;
    req.set_series_id(series_id);
    req.set_fitter(fitter);
    req.set_horizon(horizon);
    req.mutable_options()->insert(opts->begin(), opts->end());
    auto resp = client.Forecast(req);
    if (!resp.ok()) return Fail(resp.status());
    if (format == Format::kJson) {
      std::cout << adoption::cli::ToJson(*resp) << "\n";
    } else if (format == Format::kCsv) {
      std::cout << adoption::cli::ForecastToCsv(*resp);
    } else {
      std::cout << adoption::cli::ForecastToTable(*resp);
    }
    return 0;
  }
  return 2;
}
