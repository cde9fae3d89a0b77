#include "engine/select/cross_validation.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace adoption {

absl::Status CvPlan::Validate(const std::string& field) const {
  std::set<int> seen;
  for (size_t i = 0; i < horizons.size(); ++i) {
    const int h = horizons[i];
    if (h < 1 || h > 60) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".horizons[", i, "]: must be 1..60 months, got ", h));
    }
    if (!seen.insert(h).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".horizons[", i, "]: horizon ", h, " listed twice"));
    }
  }
  if (horizons.size() > 12) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".horizons: at most 12 horizons"));
  }
  if (horizons.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".horizons: at least one horizon"));
  }
  if (min_train_points < 3 || min_train_points > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".min_train_points: must be 3..1000, got ", min_train_points));
  }
  if (max_origins < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".max_origins: must be >= 0, got ", max_origins));
  }
  return absl::OkStatus();
}

std::vector<CvOrigin> RollingOrigins(const SeriesRecord& s, const CvPlan& plan) {
  std::vector<CvOrigin> origins;
  const auto& p = s.points;
  for (size_t o = plan.min_train_points - 1; o + 1 < p.size(); ++o) {
    if (p[o].value <= 0) continue;  // all-zero prefix (cumulative series)
    CvOrigin origin;
    origin.prefix = o + 1;
    bool any = false;
    for (int h : plan.horizons) {
      const double t = p[o].t + h;
      origin.forecast_t.push_back(t);
      int target = -1;
      // Points are sorted by t: search forward from the origin.
      for (size_t j = o + 1; j < p.size() && p[j].t <= t + 1e-9; ++j) {
        if (std::fabs(p[j].t - t) <= 1e-9) target = static_cast<int>(j);
      }
      origin.target.push_back(target);
      any = any || target >= 0;
    }
    if (any) origins.push_back(std::move(origin));
  }
  if (plan.max_origins > 0 && origins.size() > static_cast<size_t>(plan.max_origins)) {
    origins.erase(origins.begin(), origins.end() - plan.max_origins);
  }
  return origins;
}

std::vector<HorizonError> ScoreForecasts(const SeriesRecord& s, const CvPlan& plan,
                                         const std::vector<CvOrigin>& origins,
                                         const std::vector<const std::vector<double>*>& forecasts) {
  std::vector<HorizonError> out;
  for (size_t k = 0; k < plan.horizons.size(); ++k) {
    double abs_sum = 0, naive_sum = 0, pct_sum = 0;
    int folds = 0, pct_folds = 0;
    for (size_t i = 0; i < origins.size(); ++i) {
      const int target = origins[i].target[k];
      const std::vector<double>* f = forecasts[i];
      if (target < 0 || f == nullptr || f->size() <= k) continue;
      const double y = s.points[target].value;
      const double e = std::fabs(y - (*f)[k]);
      abs_sum += e;
      naive_sum += std::fabs(y - s.points[origins[i].prefix - 1].value);
      if (y > 0) {
        pct_sum += e / y;
        ++pct_folds;
      }
      ++folds;
    }
    HorizonError h;
    h.horizon = plan.horizons[k];
    h.folds = folds;
    if (folds > 0) {
      h.mae = abs_sum / folds;
      if (pct_folds > 0) h.mape = pct_sum / pct_folds;
      if (naive_sum > 0) h.mase = abs_sum / naive_sum;
    }
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<CvFold> FoldRows(const SeriesRecord& s, const CvPlan& plan,
                             const std::vector<CvOrigin>& origins,
                             const std::vector<const std::vector<double>*>& forecasts) {
  std::vector<CvFold> rows;
  for (size_t i = 0; i < origins.size(); ++i) {
    const std::vector<double>* f = forecasts[i];
    for (size_t k = 0; k < plan.horizons.size(); ++k) {
      const int target = origins[i].target[k];
      if (target < 0 || f == nullptr || f->size() <= k) continue;
      CvFold row;
      row.origin_t = s.points[origins[i].prefix - 1].t;
      row.horizon = plan.horizons[k];
      row.t = s.points[target].t;
      row.actual = s.points[target].value;
      row.forecast = (*f)[k];
      rows.push_back(row);
    }
  }
  return rows;
}

bool CvScore(const std::vector<HorizonError>& errors, double* score) {
  double sum = 0;
  int count = 0;
  for (const auto& e : errors) {
    if (e.mase) {
      sum += *e.mase;
      ++count;
    }
  }
  if (count == 0) return false;
  *score = sum / count;
  return true;
}

}  // namespace adoption
