/* A fitter that never converges on its own: it works until the host's
 * should_stop() says stop (deadline or cancellation), then reports
 * CANCELLED. The host must cut it off by the request's deadline. */
#include <string.h>
#include <time.h>
#include "adoption/fitter_abi.h"

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  (void)s;
  (void)o;
  (void)no;
  struct timespec pause = {0, 1000000}; /* 1 ms per "iteration" */
  for (;;) {
    if (b->should_stop && b->should_stop(b->context)) {
      r->status = ADOPTION_FIT_CANCELLED;
      strcpy(r->message, "stopped by the host");
      return;
    }
    nanosleep(&pause, 0);
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
  for (size_t i = 0; i < n; ++i) out[i] = 0;
  return 0;
}
static const adoption_param_spec_v1 kParams[] = {{"a", "nothing"}};
static const adoption_fitter_descriptor_v1 kTable = {sizeof(adoption_fitter_descriptor_v1),
                                                     ADOPTION_FITTER_ABI_MAJOR,
                                                     ADOPTION_FITTER_ABI_MINOR,
                                                     "slow",
                                                     "0.0.1",
                                                     "never converges; honours should_stop",
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
