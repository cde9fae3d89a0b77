/* A misbehaving fitter: claims success with NaN loss for series with an even
 * number of points, throws-equivalent garbage otherwise (status out of range).
 * The host must turn both into FAILED fits and keep serving. */
#include <math.h>
#include <string.h>
#include "adoption/fitter_abi.h"

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  (void)o;
  (void)no;
  (void)b;
  if (s->n % 2 == 0) {
    r->status = ADOPTION_FIT_CONVERGED;
    strcpy(r->loss_name, ADOPTION_LOSS_SSE_CUMULATIVE);
    r->loss = NAN;
    r->n = (uint32_t)s->n;
    r->k = 1;
  } else {
    r->status = 77;
  }
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
  (void)e;
  (void)el;
  for (size_t i = 0; i < n; ++i) out[i] = INFINITY;
  return 0;
}
static const adoption_param_spec_v1 kParams[] = {{"a", "nothing"}};
static const adoption_fitter_descriptor_v1 kTable = {sizeof(adoption_fitter_descriptor_v1),
                                                     ADOPTION_FITTER_ABI_MAJOR,
                                                     ADOPTION_FITTER_ABI_MINOR,
                                                     "garbage",
                                                     "0.0.1",
                                                     "returns NaN or an unknown status",
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
