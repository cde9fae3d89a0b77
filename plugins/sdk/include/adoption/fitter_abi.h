/*
 * adoption-engine fitter plugin ABI, version 1.
 *
 * A fitter plugin is a shared library that exports exactly one symbol,
 *
 *     const adoption_fitter_descriptor_v1* adoption_fitter_v1(void);
 *
 * returning a pointer to a static, immutable table (the descriptor) that lives
 * as long as the library stays loaded. The host never dlclose()s a plugin.
 *
 * The ABI is plain C so that plugins built by other compilers or in other
 * languages load. Rules on both sides of the boundary:
 *   - No C++ types and no exceptions cross it. A plugin written in C++ must
 *     catch everything inside fit()/predict() and report it through the result.
 *   - The host owns every buffer. Plugins write only into the result struct and
 *     the output arrays they are given, and never keep pointers to host memory
 *     after a call returns.
 *   - fit() and predict() must be re-entrant: the host calls them concurrently
 *     from several threads, for different series, with no locking.
 *   - The host checks abi_major == ADOPTION_FITTER_ABI_MAJOR and
 *     abi_minor >= its minimum, and refuses the plugin otherwise (it keeps
 *     serving with the other plugins). Minor versions only append fields at the
 *     end of structs; struct_size lets either side see which fields exist.
 *     A host reads a field of a later minor version only when the plugin's
 *     abi_minor and struct_size both cover it, so plugins built for 1.0 load
 *     unchanged.
 *
 * History: 1.0 the first version. 1.1 appends pooled options (an option the
 * host may choose for a whole batch, adoption_pooled_option_v1), the
 * forecast-reference flag (ADOPTION_FITTER_FLAG_FORECAST_REFERENCE) and
 * per-parameter flags in the fit result (param_flags: at a bound).
 *
 * Units: times are months since the base model's creation (month index, may be
 * fractional); values are cumulative counts. A fitter that works in other
 * units (e.g. the citation model in years) converts internally.
 *
 * The host, not the plugin, computes RMSE, R^2, AICc, BIC and Akaike weights
 * from the loss, n and k the plugin reports, so every fitter is judged the
 * same way.
 */
#ifndef ADOPTION_FITTER_ABI_H_
#define ADOPTION_FITTER_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ADOPTION_FITTER_ABI_MAJOR 1
#define ADOPTION_FITTER_ABI_MINOR 1

/* Name of the one exported entry point, for dlsym(). */
#define ADOPTION_FITTER_ENTRY_V1 "adoption_fitter_v1"

/* Upper bound on parameters per model; keeps the result struct flat. */
#define ADOPTION_MAX_PARAMS 16
/* Upper bound on derived quantities (e.g. ultimate adoption, peak month). */
#define ADOPTION_MAX_DERIVED 8
#define ADOPTION_MESSAGE_LEN 256
#define ADOPTION_NAME_LEN 48

/* Loss names. Fits are ranked against each other only when they report the
 * same loss on the same target. */
#define ADOPTION_LOSS_SSE_CUMULATIVE "sse_cumulative"
/* Poisson deviance of the monthly increments (curve fitters with option
 * loss=poisson): 2 sum[d ln(d/mu) - (d - mu)], d_i = y_i - y_{i-1},
 * mu_i = c(t_i) - c(t_{i-1}), over every point: the first increment is
 * d_0 = y_0 with mean c(t_0) (it anchors the curve's level; n = points).
 * Deviance + 2k is AIC up to a constant shared by every fit of the same
 * increments. */
#define ADOPTION_LOSS_POISSON_INCREMENTS "poisson_deviance_increments"
/* One-step-ahead squared error of a forecast baseline (naive, trend). */
#define ADOPTION_LOSS_SSE_ONE_STEP "sse_one_step"

/* One series, read-only for the plugin. t is strictly increasing, values are
 * finite, non-negative and non-decreasing (the host validates this). */
typedef struct adoption_series_v1 {
  const double* t;     /* months since creation, length n */
  const double* value; /* cumulative count at t, length n */
  size_t n;
} adoption_series_v1;

/* A key/value option, e.g. {"m", "100"}. Strings are NUL-terminated UTF-8. */
typedef struct adoption_option_v1 {
  const char* key;
  const char* value;
} adoption_option_v1;

/* Limits for one fit. The plugin must poll should_stop() at least once per
 * optimiser iteration and return ADOPTION_FIT_CANCELLED promptly when it
 * returns non-zero (deadline passed or request cancelled: threads cannot be
 * killed, so this is the only way a fit is cut off; only a host that runs
 * plugins in helper processes, like adoptiond --plugin-isolation=process,
 * kills a fit that overruns its deadline, and reports it as failed). */
typedef struct adoption_budget_v1 {
  uint32_t max_iterations;           /* per start; 0 means the plugin default */
  int (*should_stop)(void* context); /* may be NULL: never stop */
  void* context;                     /* passed to should_stop */
} adoption_budget_v1;

typedef enum adoption_fit_status_v1 {
  ADOPTION_FIT_CONVERGED = 0,      /* optimiser met its tolerance */
  ADOPTION_FIT_MAX_ITERATIONS = 1, /* usable estimate, iteration cap hit */
  ADOPTION_FIT_NOT_FITTED = 2,     /* data cannot support the model (too few
                                      points, all zero...): message says why */
  ADOPTION_FIT_FAILED = 3,         /* numerical failure: message says why */
  ADOPTION_FIT_CANCELLED = 4,      /* should_stop() asked to stop */
  ADOPTION_FIT_INVALID_OPTIONS = 5 /* an option value is invalid */
} adoption_fit_status_v1;

/* Filled by the plugin. The host zero-initialises it and sets struct_size
 * before calling fit(). */
typedef struct adoption_fit_result_v1 {
  size_t struct_size;
  int32_t status;                     /* adoption_fit_status_v1 */
  char message[ADOPTION_MESSAGE_LEN]; /* reason / details, NUL-terminated */
  /* All num_params parameters, in descriptor order, in the units the
   * descriptor documents (fixed ones too, at their fixed value). */
  double params[ADOPTION_MAX_PARAMS];
  /* Non-zero for parameters held fixed (not estimated) in this fit. */
  int32_t fixed[ADOPTION_MAX_PARAMS];
  /* Covariance of the parameter estimates, row-major num_params x
   * num_params; rows and columns of fixed parameters are 0. Valid only if
   * has_covariance; otherwise covariance_note says why it is missing. */
  int32_t has_covariance;
  double covariance[ADOPTION_MAX_PARAMS * ADOPTION_MAX_PARAMS];
  char covariance_note[ADOPTION_MESSAGE_LEN];
  char loss_name[ADOPTION_NAME_LEN]; /* e.g. ADOPTION_LOSS_SSE_CUMULATIVE */
  double loss;                       /* value of that loss at the optimum */
  uint32_t n;                        /* observations the loss is over */
  uint32_t k;                        /* estimated (free) parameters */
  uint32_t iterations;               /* total over all starts */
  uint32_t starts;                   /* starting points tried */
  /* Model-specific derived quantities, e.g. {"c_inf", ...}; a few names
   * have a meaning the host reads (ADOPTION_DERIVED_* below). */
  uint32_t num_derived;
  char derived_names[ADOPTION_MAX_DERIVED][ADOPTION_NAME_LEN];
  double derived[ADOPTION_MAX_DERIVED];

  /* --- ABI 1.1: write only when struct_size covers them (a 1.0 host passes
   * a struct that ends before) --- */
  /* Per parameter, descriptor order: ADOPTION_PARAM_* flags. */
  uint32_t param_flags[ADOPTION_MAX_PARAMS];
} adoption_fit_result_v1;

/* param_flags: the estimate ended on a bound of the fitter's search box, so
 * the data do not determine it (its standard error means nothing). */
#define ADOPTION_PARAM_AT_BOUND 0x1u

/* Derived quantities with a meaning the host reads. A fitter that models a
 * second adoption wave reports its onset month (the first month with
 * second-wave adoption) and the fitted size of each wave by the series' last
 * month; when such a fit wins a series, the verdict says "second wave from
 * month k" with both sizes (engine/select/series_report.h). Names only: no
 * change to the structs. */
#define ADOPTION_DERIVED_SECOND_WAVE_MONTH "second_wave_month"
#define ADOPTION_DERIVED_FIRST_WAVE_SIZE "first_wave_size"
#define ADOPTION_DERIVED_SECOND_WAVE_SIZE "second_wave_size"

typedef struct adoption_param_spec_v1 {
  const char* name;        /* identifier, e.g. "lambda" */
  const char* description; /* meaning and unit */
} adoption_param_spec_v1;

typedef struct adoption_option_spec_v1 {
  const char* name;          /* identifier, e.g. "m" */
  const char* default_value; /* as a string */
  const char* description;
} adoption_option_spec_v1;

/* Descriptor flags. */
/* A forecast baseline (e.g. last value carried forward): its loss is an
 * honest one-step-ahead error, not a curve fit, so the host never ranks it by
 * information criteria; it competes on forecast error only. */
#define ADOPTION_FITTER_FLAG_FORECAST_BASELINE 0x1u
/* ABI 1.1. The forecast a combination falls back to when no fitter can be
 * judged on a series' own history (too short for rolling origins): e.g. the
 * last value carried forward. A host uses the first such fitter by name. */
#define ADOPTION_FITTER_FLAG_FORECAST_REFERENCE 0x2u
/* ABI 1.1. Opt-in: the host runs the fitter only when a request names it,
 * not in "every loaded fitter" (a CompareModels request without fitters, the
 * combined forecaster). For a fitter too costly to run on every series by
 * default (e.g. two_wave, which profiles an onset month). A host that does
 * not know the flag runs the fitter like any other. */
#define ADOPTION_FITTER_FLAG_OPT_IN 0x4u

/* The option value that asks the host to choose an option's value for a
 * whole batch of series (CompareModels only). */
#define ADOPTION_POOLED_VALUE "pooled"

/* ABI 1.1. An option whose value is not identifiable per series but can be
 * chosen for a whole batch: a request sets it to ADOPTION_POOLED_VALUE, and
 * the host refits the plugin on every rolling origin of every series with
 * each candidate in turn, keeping the one that forecasts best (the ties go
 * to default_index, the convention). Before that the host calls
 * validate_options() once with the option set to ADOPTION_POOLED_VALUE and
 * the request's other options: a plugin that declares pooled options must
 * accept that value there, and refuse it (with the reason) when another
 * option contradicts one value for the batch. Each candidate must be a valid
 * value of the option. */
typedef struct adoption_pooled_option_v1 {
  const char* option;            /* the name of one of the descriptor's options */
  const char* const* candidates; /* the values to try, as strings, increasing */
  size_t num_candidates;         /* 1..64 */
  size_t default_index;          /* < num_candidates */
} adoption_pooled_option_v1;

typedef struct adoption_fitter_descriptor_v1 {
  size_t struct_size;      /* sizeof(adoption_fitter_descriptor_v1) at build time */
  uint32_t abi_major;      /* ADOPTION_FITTER_ABI_MAJOR */
  uint32_t abi_minor;      /* ADOPTION_FITTER_ABI_MINOR */
  const char* name;        /* unique, [a-z0-9_]+, e.g. "citation" */
  const char* version;     /* the plugin's own version, e.g. "1.0.0" */
  const char* description; /* one line; the model's formula */
  uint32_t flags;          /* ADOPTION_FITTER_FLAG_* */
  size_t num_params;
  const adoption_param_spec_v1* params;
  size_t num_options;
  const adoption_option_spec_v1* options;

  /* Checks option values without fitting. Returns 0 when valid; otherwise
   * writes a NUL-terminated reason naming the option into error (capacity
   * error_len) and returns non-zero. Unknown keys are rejected by the host
   * before this is called. */
  int (*validate_options)(const adoption_option_v1* options, size_t num_options, char* error,
                          size_t error_len);

  /* Fits the model to one series. Never throws; every outcome is in result. */
  void (*fit)(const adoption_series_v1* series, const adoption_option_v1* options,
              size_t num_options, const adoption_budget_v1* budget, adoption_fit_result_v1* result);

  /* Evaluates the model with parameters params (num_params of them, as fit()
   * returned) at times t[0..n), writing out[0..n). history is the series the
   * parameters were fitted to (baselines need it; curve models may ignore
   * it). Returns 0 on success, non-zero with a reason in error otherwise. */
  int (*predict)(const double* params, size_t num_params, const adoption_option_v1* options,
                 size_t num_options, const adoption_series_v1* history, const double* t, size_t n,
                 double* out, char* error, size_t error_len);

  /* --- ABI 1.1: read only when abi_minor >= 1 and struct_size covers them --- */
  size_t num_pooled_options;
  const adoption_pooled_option_v1* pooled_options; /* NULL when none */
} adoption_fitter_descriptor_v1;

/* Type of the exported entry point. */
typedef const adoption_fitter_descriptor_v1* (*adoption_fitter_entry_v1)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ADOPTION_FITTER_ABI_H_ */
