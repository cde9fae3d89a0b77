// Real-data regression for the citation fitter: on the bundled Hugging Face
// fine-tune series (data/hf-finetunes-2025-02-18), our default fit (m = 1,
// t in years, the paper's setup) must reach an SSE no worse than the paper's
// published parameters on >= 99% of the non-zero series.
#include <gtest/gtest.h>

#include <dirent.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "plugin_harness.h"

namespace adoption {
namespace testing {
namespace {

struct PaperRow {
  std::string model;
  std::vector<double> y;  // cumulative, months 0..n-1
  bool has_params = false;
  double lambda = 0, mu = 0, sigma = 0;
};

std::vector<std::string> SplitCsv(const std::string& line) {
  // The files have no quoted fields (HF ids and ISO dates have no commas).
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// Minimal reader: model id, 0-month..34-month, lambda_i, mu_i, sigma_i.
std::vector<PaperRow> ReadCorpus(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".csv") {
        files.push_back(dir + "/" + name);
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  std::vector<PaperRow> rows;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) continue;
    const std::vector<std::string> header = SplitCsv(line);
    auto col = [&](const std::string& name) {
      auto it = std::find(header.begin(), header.end(), name);
      return it == header.end() ? -1 : static_cast<int>(it - header.begin());
    };
    const int model = col("model"), lam = col("lambda_i"), mu = col("mu_i"), sig = col("sigma_i");
    std::vector<int> months;
    for (int k = 0; k <= 34; ++k) months.push_back(col(std::to_string(k) + "-month"));
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::vector<std::string> cells = SplitCsv(line);
      PaperRow row;
      row.model = cells.at(model);
      for (int c : months) {
        if (c < 0 || c >= static_cast<int>(cells.size()) || cells[c].empty()) break;
        row.y.push_back(std::stod(cells[c]));
      }
      if (!cells.at(lam).empty() && !cells.at(mu).empty() && !cells.at(sig).empty()) {
        row.has_params = true;
        row.lambda = std::stod(cells[lam]);
        row.mu = std::stod(cells[mu]);
        row.sigma = std::stod(cells[sig]);
      }
      rows.push_back(row);
    }
  }
  return rows;
}

// The paper's SSE from its published parameters, m = 1, t = month / 12. Both
// with an exact Phi (erfc) and with the paper's 0.5 (1 + erf(x / sqrt 2))
// (which rounds the lower tail); the bar uses the smaller, i.e. the harder.
double PaperSse(const PaperRow& row) {
  double exact = 0, numpy = 0;
  for (size_t i = 0; i < row.y.size(); ++i) {
    double c_exact = 0, c_numpy = 0;
    if (i > 0) {
      const double x = (std::log(i / 12.0) - row.mu) / row.sigma;
      c_exact = std::expm1(row.lambda * 0.5 * std::erfc(-x / std::sqrt(2.0)));
      c_numpy = std::exp(row.lambda * 0.5 * (1 + std::erf(x / std::sqrt(2.0)))) - 1;
    }
    exact += (row.y[i] - c_exact) * (row.y[i] - c_exact);
    numpy += (row.y[i] - c_numpy) * (row.y[i] - c_numpy);
  }
  if (!std::isfinite(numpy)) return exact;
  return std::min(exact, numpy);
}

TEST(CitationRealData, SseNoWorseThanPaperOn99PercentOfNonZeroSeries) {
  const adoption_fitter_descriptor_v1* fitter = LoadFitter("citation");
  ASSERT_NE(fitter, nullptr);
  const std::vector<PaperRow> rows = ReadCorpus(ADOPTION_TEST_DATA_DIR);
  ASSERT_EQ(rows.size(), 3130u) << "bundled corpus changed?";

  size_t nonzero = 0, comparable = 0, at_least_as_good = 0, usable = 0;
  size_t no_paper_fit_but_ours = 0, strictly_better = 0;
  uint64_t iterations = 0, starts = 0;
  double seconds = 0;
  std::vector<std::string> worse;
  for (const PaperRow& row : rows) {
    if (row.y.empty() || *std::max_element(row.y.begin(), row.y.end()) <= 0) continue;
    ++nonzero;
    const std::vector<double> t = Months(row.y.size());
    const auto start = std::chrono::steady_clock::now();
    auto result = RunFit(fitter, t, row.y);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    iterations += result->iterations;
    starts += result->starts;
    const bool ok =
        result->status == ADOPTION_FIT_CONVERGED || result->status == ADOPTION_FIT_MAX_ITERATIONS;
    if (ok) ++usable;
    EXPECT_TRUE(ok) << row.model << ": " << result->message;
    if (!row.has_params) {
      // The paper published no parameters for this series (empty cells).
      if (ok) ++no_paper_fit_but_ours;
      continue;
    }
    ++comparable;
    const double paper = PaperSse(row);
    if (ok && result->loss <= paper * (1 + 1e-9)) {
      ++at_least_as_good;
      if (result->loss < paper * (1 - 1e-6)) ++strictly_better;
    } else {
      char buf[512];
      std::snprintf(buf, sizeof(buf),
                    "%s n=%zu ours=%.6g paper=%.6g (lambda %.4g mu %.4g sigma %.4g)"
                    " ours(%.4g %.4g %.4g) status=%d %s",
                    row.model.c_str(), row.y.size(), result->loss, paper, row.lambda, row.mu,
                    row.sigma, result->params[0], result->params[1], result->params[2],
                    result->status, result->message);
      worse.push_back(buf);
    }
  }
  for (const auto& w : worse) std::printf("  worse: %s\n", w.c_str());
  // Series without paper parameters count as passes when we fit them.
  const double share =
      static_cast<double>(at_least_as_good + no_paper_fit_but_ours) / static_cast<double>(nonzero);
  std::printf(
      "[citation real data] non-zero series: %zu (with paper params: %zu); "
      "SSE <= paper: %zu of %zu comparable (%.2f%%; %zu strictly better); "
      "share over all non-zero: %.2f%%; usable fits: %zu\n",
      nonzero, comparable, at_least_as_good, comparable, 100.0 * at_least_as_good / comparable,
      strictly_better, 100.0 * share, usable);
  std::printf(
      "[citation real data] total fit time %.3f s single thread, %.1f us per fit, "
      "%.2f starts and %.1f iterations per fit, %.3f us per iteration (incl. starts search)\n",
      seconds, 1e6 * seconds / nonzero, static_cast<double>(starts) / nonzero,
      static_cast<double>(iterations) / nonzero, 1e6 * seconds / std::max<uint64_t>(iterations, 1));
  EXPECT_EQ(nonzero, 929u);
  EXPECT_GE(share, 0.99);
}

// Every fitter on every non-zero series: never FAILED, never a non-finite
// number in a usable result (informational counts and times are printed).
TEST(AllFittersRealData, NoFailuresAndFiniteResultsOnTheCorpus) {
  const std::vector<PaperRow> rows = ReadCorpus(ADOPTION_TEST_DATA_DIR);
  // Every fitter with its default options, then every curve with
  // loss=poisson (the count likelihood on the increments); each run's usable
  // fits must report the loss that run asked for.
  struct Run {
    const char* name;
    bool poisson;
    const char* loss;
    size_t min_points = 0;  // shorter series are NOT_FITTED by design
  };
  constexpr const char* kSse = ADOPTION_LOSS_SSE_CUMULATIVE;
  constexpr const char* kOneStep = ADOPTION_LOSS_SSE_ONE_STEP;
  constexpr const char* kPoisson = ADOPTION_LOSS_POISSON_INCREMENTS;
  const Run runs[] = {
      {"citation", false, kSse},     {"logistic", false, kSse},       {"powerlaw", false, kSse},
      {"gompertz", false, kSse},     {"bass", false, kSse},           {"naive", false, kOneStep},
      {"trend", false, kOneStep},    {"citation", true, kPoisson},    {"logistic", true, kPoisson},
      {"powerlaw", true, kPoisson},  {"gompertz", true, kPoisson},    {"bass", true, kPoisson},
      {"two_wave", false, kSse, 10}, {"two_wave", true, kPoisson, 10}};
  for (const Run& run : runs) {
    const char* name = run.name;
    const adoption_fitter_descriptor_v1* fitter = LoadFitter(name);
    ASSERT_NE(fitter, nullptr) << name;
    size_t quasi = 0;
    size_t counts[6] = {0, 0, 0, 0, 0, 0};
    double seconds = 0;
    size_t fits = 0, long_enough = 0;
    for (const PaperRow& row : rows) {
      if (row.y.empty() || *std::max_element(row.y.begin(), row.y.end()) <= 0) continue;
      if (row.y.size() >= run.min_points) ++long_enough;
      const std::vector<double> t = Months(row.y.size());
      const auto start = std::chrono::steady_clock::now();
      Options options = std::string(name) == "citation"
                            ? Options{{"time_unit", "months"}, {"m", "100"}}
                            : Options{};
      if (run.poisson) options.push_back({"loss", "poisson"});
      auto r = RunFit(fitter, t, row.y, options);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ++fits;
      ASSERT_GE(r->status, 0);
      ASSERT_LE(r->status, 5);
      ++counts[r->status];
      EXPECT_NE(r->status, ADOPTION_FIT_FAILED) << name << " " << row.model << ": " << r->message;
      if (r->status == ADOPTION_FIT_CONVERGED || r->status == ADOPTION_FIT_MAX_ITERATIONS) {
        EXPECT_TRUE(std::isfinite(r->loss)) << name << " " << row.model;
        for (size_t j = 0; j < fitter->num_params; ++j) {
          EXPECT_TRUE(std::isfinite(r->params[j])) << name << " " << row.model;
        }
        EXPECT_STREQ(r->loss_name, run.loss) << name << " " << row.model;
        if (std::string(r->covariance_note).find("quasi-Poisson") != std::string::npos) ++quasi;
      }
    }
    // The checks of usable results above ran (a run whose every fit was
    // refused would pass them vacuously).
    EXPECT_GT(counts[ADOPTION_FIT_CONVERGED] + counts[ADOPTION_FIT_MAX_ITERATIONS], long_enough / 2)
        << name << (run.poisson ? " loss=poisson" : "");
    std::printf(
        "[%s%s%s] %zu series: converged %zu, max_iterations %zu, not_fitted %zu, "
        "failed %zu; %.3f s, %.1f us per fit",
        name, std::string(name) == "citation" ? " months m=100" : "",
        run.poisson ? " loss=poisson" : "", fits, counts[0], counts[1], counts[2], counts[3],
        seconds, 1e6 * seconds / fits);
    if (run.poisson) std::printf("; quasi-Poisson (overdispersed) %zu", quasi);
    std::printf("\n");
  }
}

}  // namespace
}  // namespace testing
}  // namespace adoption
