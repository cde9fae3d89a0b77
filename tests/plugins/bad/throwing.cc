// A C++ fitter that lets an exception escape fit() and predict(): the host
// must catch it at the boundary and report a failed fit with its message.
#include <stdexcept>

#include "adoption/fitter_abi.h"

namespace {

void Fit(const adoption_series_v1*, const adoption_option_v1*, size_t, const adoption_budget_v1*,
         adoption_fit_result_v1*) {
  throw std::runtime_error("boom in fit");
}
int Predict(const double*, size_t, const adoption_option_v1*, size_t, const adoption_series_v1*,
            const double*, size_t, double*, char*, size_t) {
  throw std::runtime_error("boom in predict");
}
const adoption_param_spec_v1 kParams[] = {{"a", "nothing"}};
const adoption_fitter_descriptor_v1 kTable = {sizeof(adoption_fitter_descriptor_v1),
                                              ADOPTION_FITTER_ABI_MAJOR,
                                              ADOPTION_FITTER_ABI_MINOR,
                                              "throwing",
                                              "0.0.1",
                                              "throws from fit and predict",
                                              0,
                                              1,
                                              kParams,
                                              0,
                                              nullptr,
                                              nullptr,
                                              Fit,
                                              Predict};

}  // namespace

extern "C" __attribute__((visibility("default"))) const adoption_fitter_descriptor_v1*
adoption_fitter_v1(void) {
  return &kTable;
}
