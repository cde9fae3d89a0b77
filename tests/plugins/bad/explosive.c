/* A fitter that fits (constant at the last value) but extrapolates to 1e30:
 * the host must refuse to serve its forecasts and leave it out of
 * combinations. */
#include <string.h>
#include "adoption/fitter_abi.h"

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  (void)o;
  (void)no;
  (void)b;
  if (s->n == 0) {
    r->status = ADOPTION_FIT_NOT_FITTED;
    return;
  }
  const double last = s->value[s->n - 1];
  double sse = 0;
  for (size_t i = 0; i < s->n; ++i) sse += (s->value[i] - last) * (s->value[i] - last);
  r->status = ADOPTION_FIT_CONVERGED;
  strcpy(r->loss_name, ADOPTION_LOSS_SSE_CUMULATIVE);
  r->loss = sse;
  r->n = (uint32_t)s->n;
  r->k = 1;
  r->params[0] = last;
}
static int Predict(const double* p, size_t np, const adoption_option_v1* o, size_t no,
                   const adoption_series_v1* h, const double* t, size_t n, double* out, char* e,
                   size_t el) {
  (void)np;
  (void)o;
  (void)no;
  (void)e;
  (void)el;
  const double t_last = h->n ? h->t[h->n - 1] : 0;
  for (size_t i = 0; i < n; ++i) out[i] = t[i] > t_last ? 1e30 : p[0];
  return 0;
}
static const adoption_param_spec_v1 kParams[] = {{"level", "constant level"}};
static const adoption_fitter_descriptor_v1 kTable = {sizeof(adoption_fitter_descriptor_v1),
                                                     ADOPTION_FITTER_ABI_MAJOR,
                                                     ADOPTION_FITTER_ABI_MINOR,
                                                     "explosive",
                                                     "0.0.1",
                                                     "fits a constant, extrapolates to 1e30",
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
