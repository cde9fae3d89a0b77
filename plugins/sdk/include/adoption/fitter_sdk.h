// adoption-engine fitter SDK: the C++ helper behind every bundled fitter.
//
// The plugin ABI (fitter_abi.h) is plain C. This header turns it into four
// things a fitter author writes:
//
//   1. a curve model: c(t; theta), its analytic gradient dc/dtheta, a box on the
//      internal parameters theta, and the map from theta to the parameters the
//      fitter reports (e.g. theta = log sigma, reported = sigma);
//   2. data-driven starting points;
//   3. option parsing (OptionReader) and a Config struct (or none: inherit
//      CurveFitterBase for the shared options loss and max_starts);
//   4. a Fitter class, exported with ADOPTION_EXPORT_FITTER(Fitter).
//
// Everything else (the Levenberg-Marquardt solver, multi-start, the two
// losses: least squares on the cumulative series or Poisson likelihood on the
// monthly increments, covariance by the delta method, input validation,
// NaN/inf screening and the predict() overflow guard, copying strings into
// the fixed char arrays, and catching every exception at the boundary) lives
// here, once. plugins/README.md walks through a complete example,
// plugins/examples/weibull, built out of tree against the installed SDK
// (find_package(adoption_fitter_sdk CONFIG), target adoption::fitter_sdk).
//
// WHY A SMALL LM ON EIGEN AND NOT CERES (docs/decisions.md, "Why not Ceres",
// has the measurements). Our problems are tiny: 2 to 4 parameters, 2 to 35
// points, and a general solver's cost on them is per iteration (problem
// set-up, dynamic sizes, virtual cost functions), not one-off; fitting the
// corpus with cross-validation in seconds needs an iteration that is a
// handful of fixed-size 3x3/4x4 operations. That is what LevenbergMarquardt()
// is (adoption/sdk/levenberg_marquardt.h): J'J and J'r are accumulated point
// by point into fixed-size Eigen matrices (no heap allocation in the loop),
// and the damped normal equations are solved by a fixed-size LDL'.
//
// WARNING: normal equations square the condition number of J. That is fine for
// 2-4 well-scaled parameters (use log transforms for positive, scale-like
// parameters, as the bundled fitters do); it is not a general-purpose solver.
//
// Thread safety: everything here is re-entrant; no global mutable state.
#ifndef ADOPTION_FITTER_SDK_H_
#define ADOPTION_FITTER_SDK_H_

// The SDK, one concept per header under adoption/sdk/ (each includes the
// ones it builds on):
//   strings.h              CopyString, Format, the normal CDF/PDF
//   extrapolation.h        the predict() overflow guard
//   series.h               SeriesView, SeriesFacts, CheckSeries
//   options.h              OptionReader
//   curve_options.h        loss and max_starts, shared by curve fitters
//   budget.h               the fit's should_stop and iteration cap
//   curve_model.h          parameter boxes and reported parameters
//   levenberg_marquardt.h  the solver and both losses
//   multi_start.h          starting points and multi-start
//   results.h              filling adoption_fit_result_v1
//   entry.h                Entry<Fitter> and the C ABI adapter
#include "adoption/sdk/entry.h"

#endif  // ADOPTION_FITTER_SDK_H_
