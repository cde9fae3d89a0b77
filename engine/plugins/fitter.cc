#include "engine/plugins/fitter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

// Copies a fixed-size char array the plugin wrote, even if it forgot the
// terminating NUL.
std::string BoundedString(const char* s, size_t capacity) {
  return std::string(s, strnlen(s, capacity));
}

// should_stop callback handed to plugins; context is the FitBudget.
extern "C" int ShouldStop(void* context) {
  const auto* budget = static_cast<const FitBudget*>(context);
  if (budget->cancelled != nullptr && budget->cancelled->load(std::memory_order_relaxed)) {
    return 1;
  }
  if (absl::Now() >= budget->deadline) return 1;
  return budget->interrupted && budget->interrupted() ? 1 : 0;
}

// Keeps the C strings of an options map alive for one plugin call.
struct COptions {
  explicit COptions(const FitterOptions& options) {
    for (const auto& [k, v] : options) items.push_back({k.c_str(), v.c_str()});
  }
  const adoption_option_v1* data() const { return items.data(); }
  size_t size() const { return items.size(); }
  std::vector<adoption_option_v1> items;
};

// Splits series points into the ABI's two arrays.
struct CSeries {
  explicit CSeries(const SeriesRecord& s) {
    t.reserve(s.points.size());
    value.reserve(s.points.size());
    for (const auto& p : s.points) {
      t.push_back(p.t);
      value.push_back(p.value);
    }
    view = {t.data(), value.data(), t.size()};
  }
  std::vector<double> t, value;
  adoption_series_v1 view;
};

}  // namespace

const char* FitStatusName(FitStatus status) {
  switch (status) {
    case FitStatus::kConverged:
      return "converged";
    case FitStatus::kMaxIterations:
      return "max_iterations";
    case FitStatus::kNotFitted:
      return "not_fitted";
    case FitStatus::kFailed:
      return "failed";
    case FitStatus::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::vector<double> FitOutcome::param_values() const {
  std::vector<double> v;
  v.reserve(params.size());
  for (const auto& p : params) v.push_back(p.value);
  return v;
}

absl::StatusOr<std::vector<PooledGrid>> PooledOptionsOf(const adoption_fitter_descriptor_v1& t) {
  constexpr size_t kEnd = offsetof(adoption_fitter_descriptor_v1, pooled_options) +
                          sizeof(adoption_fitter_descriptor_v1::pooled_options);
  std::vector<PooledGrid> out;
  if (t.abi_minor < 1 || t.struct_size < kEnd || t.num_pooled_options == 0) return out;
  if (t.pooled_options == nullptr || t.num_pooled_options > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid pooled option table (", t.num_pooled_options, " entries)"));
  }
  for (size_t i = 0; i < t.num_pooled_options; ++i) {
    const adoption_pooled_option_v1& p = t.pooled_options[i];
    bool declared = false;
    for (size_t j = 0; p.option != nullptr && j < t.num_options; ++j) {
      declared = declared || std::strcmp(p.option, t.options[j].name) == 0;
    }
    if (!declared) {
      return absl::InvalidArgumentError(
          absl::StrCat("pooled option ", i, " does not name one of the fitter's options"));
    }
    if (p.candidates == nullptr || p.num_candidates == 0 || p.num_candidates > 64 ||
        p.default_index >= p.num_candidates) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pooled option \"", p.option, "\": needs 1..64 candidates and a default among them"));
    }
    PooledGrid grid;
    grid.option = p.option;
    grid.default_index = p.default_index;
    for (size_t k = 0; k < p.num_candidates; ++k) {
      if (p.candidates[k] == nullptr || *p.candidates[k] == '\0' ||
          std::strcmp(p.candidates[k], ADOPTION_POOLED_VALUE) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("pooled option \"", p.option, "\": candidate ", k, " is not a value"));
      }
      grid.candidates.push_back(p.candidates[k]);
    }
    out.push_back(std::move(grid));
  }
  return out;
}

Fitter::Fitter(const adoption_fitter_descriptor_v1* table, std::string path,
               std::shared_ptr<const FitterBackend> backend)
    : table_(table),
      path_(std::move(path)),
      name_(table->name),
      backend_(std::move(backend)),
      pooled_(PooledOptionsOf(*table).value_or(std::vector<PooledGrid>{})) {}

const PooledGrid* Fitter::pooled_option(const std::string& option) const {
  for (const PooledGrid& g : pooled_) {
    if (g.option == option) return &g;
  }
  return nullptr;
}

std::vector<std::string> Fitter::param_names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < table_->num_params; ++i) {
    names.push_back(table_->params[i].name);
  }
  return names;
}

absl::Status Fitter::ValidateOptions(const FitterOptions& options, const std::string& field) const {
  for (const auto& [key, value] : options) {
    bool known = false;
    for (size_t i = 0; i < table_->num_options; ++i) {
      if (key == table_->options[i].name) known = true;
    }
    if (!known) {
      std::vector<std::string> names;
      for (size_t i = 0; i < table_->num_options; ++i) {
        names.push_back(table_->options[i].name);
      }
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": fitter \"", name_, "\" has no option \"", key,
                       "\" (options: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
  }
  if (table_->validate_options == nullptr) return absl::OkStatus();
  absl::Status s = ValidateOptionValues(options);
  if (absl::IsInvalidArgument(s)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", s.message().empty() ? "invalid option value" : s.message()));
  }
  return s;
}

absl::Status Fitter::ValidateOptionValues(const FitterOptions& options) const {
  if (table_->validate_options == nullptr) return absl::OkStatus();
  if (backend_) return backend_->ValidateOptionValues(*this, options);
  COptions c(options);
  char error[ADOPTION_MESSAGE_LEN] = {0};
  int rc;
  try {
    rc = table_->validate_options(c.data(), c.size(), error, sizeof error);
  } catch (...) {
    return absl::InternalError(
        absl::StrCat("fitter \"", name_, "\" threw while validating options"));
  }
  if (rc != 0) return absl::InvalidArgumentError(BoundedString(error, sizeof error));
  return absl::OkStatus();
}

FitOutcome Fitter::Fit(const SeriesRecord& series, const FitterOptions& options,
                       const FitBudget& budget) const {
  if (backend_) return backend_->Run(*this, series, options, budget, {}, false).outcome;
  return FitInProcess(series, options, budget);
}

FitRun Fitter::Run(const SeriesRecord& history, const FitterOptions& options,
                   const FitBudget& budget, const std::vector<double>& predict_at,
                   bool status_only) const {
  if (backend_) {
    return backend_->Run(*this, history, options, budget, predict_at, status_only);
  }
  return RunInProcess(history, options, budget, predict_at, status_only);
}

FitRun Fitter::RunInProcess(const SeriesRecord& history, const FitterOptions& options,
                            const FitBudget& budget, const std::vector<double>& predict_at,
                            bool status_only) const {
  FitRun r;
  r.outcome = FitInProcess(history, options, budget);
  if (!status_only && IsUsable(r.outcome.status) && !r.outcome.forecast_baseline &&
      r.outcome.loss_name != ADOPTION_LOSS_SSE_CUMULATIVE) {
    std::vector<double> times;
    times.reserve(history.points.size());
    for (const auto& p : history.points) times.push_back(p.t);
    absl::StatusOr<std::vector<double>> fitted =
        PredictInProcess(r.outcome.param_values(), options, history, times);
    if (fitted.ok()) {
      double sse = 0;
      for (size_t k = 0; k < times.size(); ++k) {
        const double e = history.points[k].value - (*fitted)[k];
        sse += e * e;
      }
      r.outcome.cumulative_sse = sse;
    }
  }
  if (!predict_at.empty() && IsUsable(r.outcome.status)) {
    absl::StatusOr<std::vector<double>> p =
        PredictInProcess(r.outcome.param_values(), options, history, predict_at);
    if (p.ok()) {
      r.predictions = std::move(*p);
    } else {
      r.predict_error = std::string(p.status().message());
    }
  }
  if (status_only) {
    r.outcome.params.clear();
    r.outcome.covariance.clear();
    r.outcome.derived.clear();
  }
  return r;
}

FitOutcome Fitter::FitInProcess(const SeriesRecord& series, const FitterOptions& options,
                                const FitBudget& budget) const {
  FitOutcome out;
  out.fitter = name_;
  out.forecast_baseline = forecast_baseline();
  const absl::Time start = absl::Now();

  CSeries cs(series);
  COptions co(options);
  adoption_budget_v1 cb{budget.max_iterations, &ShouldStop, const_cast<FitBudget*>(&budget)};
  // ~2.5 KB; zero-initialised as the ABI promises.
  auto result = std::make_unique<adoption_fit_result_v1>();
  std::memset(result.get(), 0, sizeof(adoption_fit_result_v1));
  result->struct_size = sizeof(adoption_fit_result_v1);

  auto fail = [&](std::string reason) {
    out.status = FitStatus::kFailed;
    out.message = std::move(reason);
    out.params.clear();
    out.covariance.clear();
    out.derived.clear();
    out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return out;
  };

  try {
    table_->fit(&cs.view, co.data(), co.size(), &cb, result.get());
  } catch (const std::exception& e) {
    return fail(absl::StrCat("plugin threw an exception: ", e.what()));
  } catch (...) {
    return fail("plugin threw an unknown exception");
  }
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  out.message = BoundedString(result->message, sizeof result->message);
  out.covariance_note = BoundedString(result->covariance_note, sizeof result->covariance_note);
  out.loss_name = BoundedString(result->loss_name, sizeof result->loss_name);
  out.iterations = static_cast<int>(result->iterations);
  out.starts = static_cast<int>(result->starts);

  switch (result->status) {
    case ADOPTION_FIT_CONVERGED:
      out.status = FitStatus::kConverged;
      break;
    case ADOPTION_FIT_MAX_ITERATIONS:
      out.status = FitStatus::kMaxIterations;
      break;
    case ADOPTION_FIT_NOT_FITTED:
      out.status = FitStatus::kNotFitted;
      break;
    case ADOPTION_FIT_FAILED:
      out.status = FitStatus::kFailed;
      break;
    case ADOPTION_FIT_CANCELLED:
      out.status = FitStatus::kCancelled;
      break;
    case ADOPTION_FIT_INVALID_OPTIONS:
      return fail(absl::StrCat("invalid options: ", out.message));
    default:
      return fail(absl::StrCat("plugin returned unknown status ", result->status));
  }
  if (!IsUsable(out.status)) return out;

  // A usable fit must be internally consistent; anything else is garbage
  // and is reported as a failure, never served.
  const size_t np = table_->num_params;
  if (out.loss_name.empty()) return fail("plugin reported no loss name");
  if (!std::isfinite(result->loss) || result->loss < 0) {
    return fail(absl::StrCat("plugin returned an invalid loss (", result->loss, ")"));
  }
  if (result->n == 0 || result->n > series.points.size()) {
    return fail(
        absl::StrCat("plugin returned n = ", result->n, " for ", series.points.size(), " points"));
  }
  if (result->k > np) {
    return fail(absl::StrCat("plugin returned k = ", result->k, " > ", np, " parameters"));
  }
  out.n = static_cast<int>(result->n);
  out.k = static_cast<int>(result->k);
  out.loss = result->loss;
  for (size_t i = 0; i < np; ++i) {
    if (!std::isfinite(result->params[i])) {
      return fail(absl::StrCat("plugin returned non-finite parameter ", table_->params[i].name));
    }
    out.params.push_back(
        {table_->params[i].name, result->params[i], result->fixed[i] != 0, std::nullopt,
         table_->abi_minor >= 1 && (result->param_flags[i] & ADOPTION_PARAM_AT_BOUND) != 0});
  }
  if (result->has_covariance) {
    bool ok = true;
    for (size_t i = 0; i < np * np && ok; ++i) {
      ok = std::isfinite(result->covariance[i]);
    }
    for (size_t i = 0; i < np && ok; ++i) {
      ok = result->covariance[i * np + i] >= 0;
    }
    if (ok) {
      out.covariance.assign(np * np, 0.0);
      for (size_t r = 0; r < np; ++r) {
        for (size_t c = 0; c < np; ++c) {
          out.covariance[r * np + c] = result->covariance[r * np + c];
        }
        if (!out.params[r].fixed) {
          out.params[r].std_error = std::sqrt(out.covariance[r * np + r]);
        }
      }
    } else {
      out.covariance_note = "plugin returned an invalid covariance matrix";
    }
  } else if (out.covariance_note.empty()) {
    out.covariance_note = "the fitter did not report a covariance";
  }
  const uint32_t nd = std::min<uint32_t>(result->num_derived, ADOPTION_MAX_DERIVED);
  for (uint32_t i = 0; i < nd; ++i) {
    std::string dname = BoundedString(result->derived_names[i], sizeof result->derived_names[i]);
    if (!dname.empty() && std::isfinite(result->derived[i])) {
      out.derived.emplace_back(std::move(dname), result->derived[i]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<double>> Fitter::Predict(const FitOutcome& outcome,
                                                    const FitterOptions& options,
                                                    const SeriesRecord& history,
                                                    const std::vector<double>& t) const {
  if (!IsUsable(outcome.status)) {
    return absl::FailedPreconditionError(
        absl::StrCat("fitter \"", name_, "\" has no usable fit: ", outcome.message));
  }
  if (backend_) {
    absl::StatusOr<std::vector<double>> out =
        backend_->Predict(*this, outcome.param_values(), options, history, t);
    if (out.ok() && out->size() != t.size()) {
      return absl::InternalError(absl::StrCat("fitter \"", name_, "\" returned ", out->size(),
                                              " predictions for ", t.size(), " times"));
    }
    return out;
  }
  return PredictInProcess(outcome.param_values(), options, history, t);
}

absl::StatusOr<std::vector<double>> Fitter::PredictInProcess(const std::vector<double>& params,
                                                             const FitterOptions& options,
                                                             const SeriesRecord& history,
                                                             const std::vector<double>& t) const {
  CSeries cs(history);
  COptions co(options);
  std::vector<double> out(t.size(), 0.0);
  char error[ADOPTION_MESSAGE_LEN] = {0};
  int rc;
  try {
    rc = table_->predict(params.data(), params.size(), co.data(), co.size(), &cs.view, t.data(),
                         t.size(), out.data(), error, sizeof error);
  } catch (...) {
    return absl::InternalError(absl::StrCat("fitter \"", name_, "\" threw in predict"));
  }
  if (rc != 0) {
    return absl::InternalError(absl::StrCat(
        "fitter \"", name_, "\" failed to predict: ", BoundedString(error, sizeof error)));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      return absl::InternalError(
          absl::StrCat("fitter \"", name_, "\" predicted a non-finite value at t = ", t[i]));
    }
  }
  return out;
}

}  // namespace adoption
