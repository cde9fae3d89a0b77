/* A plugin built against a future ABI major version: the host must refuse it. */
#include "adoption/fitter_abi.h"

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  (void)s;
  (void)o;
  (void)no;
  (void)b;
  (void)r;
}
static int Predict(const double* p, size_t np, const adoption_option_v1* o, size_t no,
                   const adoption_series_v1* h, const double* t, size_t n, double* out, char* e,
                   size_t el) {
  (void)p;
  (void)np;
  (void)o;
  (void)no;
  (void)h;
  (void)t;
  (void)n;
  (void)out;
  (void)e;
  (void)el;
  return 0;
}
static const adoption_param_spec_v1 kParams[] = {{"a", "nothing"}};
static const adoption_fitter_descriptor_v1 kTable = {sizeof(adoption_fitter_descriptor_v1),
                                                     99,
                                                     0,
                                                     "wrong_abi",
                                                     "0.0.1",
                                                     "refused: ABI 99",
                                                     0,
                                                     1,
                                                     kParams,
                                                     0,
                                                     0,
                                                     0,
                                                     Fit,
                                                     Predict};

__attribute__((visibility("default"))) const adoption_fitter_descriptor_v1* adoption_fitter_v1(
    void) {
  return &kTable;
}
