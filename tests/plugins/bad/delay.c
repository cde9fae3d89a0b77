/* A well-behaved but slow fitter: it takes delay_ms milliseconds (option,
 * default 1500) polling should_stop every millisecond, then converges on the
 * line through the origin, c(t) = a t (least squares). Stopped early by the
 * host (deadline, cancellation, shutdown), it reports CANCELLED. Tests use it
 * for calls that take a known time and then succeed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "adoption/fitter_abi.h"

static double DelayMs(const adoption_option_v1* o, size_t no) {
  for (size_t i = 0; i < no; ++i) {
    if (strcmp(o[i].key, "delay_ms") == 0) return strtod(o[i].value, 0);
  }
  return 1500;
}

static double NowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int Validate(const adoption_option_v1* o, size_t no, char* e, size_t el) {
  for (size_t i = 0; i < no; ++i) {
    if (strcmp(o[i].key, "delay_ms") != 0) continue;
    char* end = 0;
    double v = strtod(o[i].value, &end);
    if (end == o[i].value || *end != '\0' || !(v >= 0 && v <= 600000)) {
      strncpy(e, "delay_ms: must be a number of milliseconds in [0, 600000]", el - 1);
      return 1;
    }
  }
  return 0;
}

static void Fit(const adoption_series_v1* s, const adoption_option_v1* o, size_t no,
                const adoption_budget_v1* b, adoption_fit_result_v1* r) {
  const double end = NowMs() + DelayMs(o, no);
  struct timespec pause = {0, 1000000}; /* 1 ms per "iteration" */
  unsigned iterations = 0;
  while (NowMs() < end) {
    if (b->should_stop && b->should_stop(b->context)) {
      r->status = ADOPTION_FIT_CANCELLED;
      strcpy(r->message, "stopped by the host");
      return;
    }
    nanosleep(&pause, 0);
    ++iterations;
  }
  double tt = 0, ty = 0;
  for (size_t i = 0; i < s->n; ++i) {
    tt += s->t[i] * s->t[i];
    ty += s->t[i] * s->value[i];
  }
  const double a = tt > 0 ? ty / tt : 0;
  double sse = 0;
  for (size_t i = 0; i < s->n; ++i) {
    const double e = s->value[i] - a * s->t[i];
    sse += e * e;
  }
  r->status = ADOPTION_FIT_CONVERGED;
  strcpy(r->message, "waited, then fitted a line through the origin");
  r->params[0] = a;
  strcpy(r->loss_name, ADOPTION_LOSS_SSE_CUMULATIVE);
  r->loss = sse;
  r->n = (uint32_t)s->n;
  r->k = 1;
  r->iterations = iterations;
  r->starts = 1;
}

static int Predict(const double* p, size_t np, const adoption_option_v1* o, size_t no,
                   const adoption_series_v1* h, const double* t, size_t n, double* out, char* e,
                   size_t el) {
  (void)np;
  (void)o;
  (void)no;
  (void)h;
  (void)e;
  (void)el;
  for (size_t i = 0; i < n; ++i) out[i] = p[0] * t[i];
  return 0;
}

static const adoption_param_spec_v1 kParams[] = {{"a", "slope, count per month"}};
static const adoption_option_spec_v1 kOptions[] = {
    {"delay_ms", "1500", "milliseconds each fit takes before converging"}};
static const adoption_fitter_descriptor_v1 kTable = {
    sizeof(adoption_fitter_descriptor_v1),
    ADOPTION_FITTER_ABI_MAJOR,
    ADOPTION_FITTER_ABI_MINOR,
    "delay",
    "0.0.1",
    "c(t) = a t, after a delay of delay_ms; honours should_stop",
    0,
    1,
    kParams,
    1,
    kOptions,
    Validate,
    Fit,
    Predict};

__attribute__((visibility("default"))) const adoption_fitter_descriptor_v1* adoption_fitter_v1(
    void) {
  return &kTable;
}
