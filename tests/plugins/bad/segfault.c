/* A fitter that dereferences NULL on every fit (predict is fine): in-process
 * it takes the server down, so it is only ever loaded by servers started
 * with --plugin-isolation=process, where the fit fails with "plugin crashed:
 * SIGSEGV" and the server keeps serving. */
#include <stdint.h>
#include "adoption/fitter_abi.h"

/* volatile: the compiler may not drop or move the faulting store. */
static int* volatile kNowhere = 0;

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  (void)s;
  (void)o;
  (void)no;
  (void)b;
  *kNowhere = 42;
  r->status = ADOPTION_FIT_FAILED;
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
                                                     "segfault",
                                                     "0.0.1",
                                                     "dereferences NULL in fit",
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
