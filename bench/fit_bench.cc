// fit_bench: per-fit speed of the real fitter plugins on the bundled corpus,
// and the per-series SSE of the citation fitter's default fit, for the
// side-by-side comparison with the paper's scipy method (bench/run).
//
//   fit_bench --plugins BUILD/plugins --sse-out sse.csv --json out.json CSV...
//
// What it does, single-threaded, in this process:
//   - reads the CSVs with the project's reader (clients/cli/finetune_csv.h)
//     and keeps the non-zero series (at least one point, some value > 0:
//     the 929 the reference script fits);
//   - loads every plugin .so of --plugins through the host's FitterRegistry
//     (the same checks and wrapping adoptiond applies to every fit);
//   - citation fits per second: passes over all non-zero series with the
//     default options (the paper's convention: m = 1, t in years) until at
//     least --min-seconds of wall time, three repetitions, median reported;
//     wall and thread CPU time are both kept (the machine may be shared);
//   - microseconds per fit for every loaded fitter, the same way with
//     --fitter-min-seconds per repetition;
//   - the citation fit's SSE per series (sum over all points of
//     (y - c(t))^2, evaluated by the host through the plugin's predict, as
//     the reference computes it), written to --sse-out.
// Timing covers Fitter::Fit only (the plugin call plus the host's checks),
// not reading, converting or writing.
//
// --fitter-host PATH loads the plugins out of process instead, as
// adoptiond --plugin-isolation=process does (engine/isolation/): every fit
// is then a round trip to an adoption-fitter-host, and the figures give the
// cost of isolation (compare with a run without it). Thread CPU time then
// counts only this side of the round trip; read the wall figures.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "clients/cli/finetune_csv.h"
#include "engine/isolation/host_pool.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/service/series_proto.h"
#include "engine/store/series.h"

namespace {

using adoption::FitBudget;
using adoption::FitOutcome;
using adoption::Fitter;
using adoption::FitterOptions;
using adoption::FitterRegistry;
using adoption::SeriesRecord;

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ThreadCpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Rep {
  long fits = 0;
  double wall = 0;
  double cpu = 0;
};

// Passes over all series until min_seconds of wall time have gone by.
Rep TimeFits(const Fitter& fitter, const std::vector<SeriesRecord>& series, double min_seconds,
             long* usable) {
  Rep rep;
  const FitterOptions options;
  const double w0 = WallNow(), c0 = ThreadCpuNow();
  long ok = 0;
  do {
    for (const auto& s : series) {
      FitOutcome out = fitter.Fit(s, options, FitBudget{});
      if (adoption::IsUsable(out.status)) ++ok;
      ++rep.fits;
    }
  } while (WallNow() - w0 < min_seconds);
  rep.wall = WallNow() - w0;
  rep.cpu = ThreadCpuNow() - c0;
  if (usable) *usable = ok;
  return rep;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  if (n == 0) return NAN;
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", static_cast<int>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.17g", v);
}

int Usage() {
  std::cerr << "usage: fit_bench --plugins DIR [--sse-out FILE] [--json FILE]\n"
               "                 [--min-seconds S] [--fitter-min-seconds S] [--reps N]\n"
               "                 [--fitter-host PATH]\n"
               "                 CSV...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string plugins, sse_out, json_out, fitter_host;
  double min_seconds = 2.0, fitter_min_seconds = 0.5;
  int reps = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(Usage());
      }
      return argv[++i];
    };
    if (a == "--plugins")
      plugins = next();
    else if (a == "--sse-out")
      sse_out = next();
    else if (a == "--json")
      json_out = next();
    else if (a == "--min-seconds")
      min_seconds = std::atof(next().c_str());
    else if (a == "--fitter-min-seconds")
      fitter_min_seconds = std::atof(next().c_str());
    else if (a == "--reps")
      reps = std::atoi(next().c_str());
    else if (a == "--fitter-host")
      fitter_host = next();
    else if (a == "-h" || a == "--help")
      return Usage();
    else if (!a.empty() && a[0] == '-') {
      std::cerr << "unknown flag " << a << "\n";
      return Usage();
    } else {
      files.push_back(a);
    }
  }
  if (plugins.empty() || files.empty() || reps < 1) return Usage();

  // Corpus.
  std::vector<SeriesRecord> all, nonzero;
  for (const auto& f : files) {
    auto parsed = adoption::cli::ReadFinetuneCsvFile(f);
    if (!parsed.ok()) {
      std::cerr << "fit_bench: " << parsed.status() << "\n";
      return 1;
    }
    for (const auto& s : *parsed) all.push_back(adoption::FromProto(s));
  }
  for (const auto& r : all) {
    double mx = 0;
    for (const auto& p : r.points) mx = std::max(mx, p.value);
    if (!r.points.empty() && mx > 0) nonzero.push_back(r);
  }
  std::cerr << absl::StrFormat("fit_bench: %d series, %d non-zero\n", all.size(), nonzero.size());

  // Plugins.
  FitterRegistry registry;
  adoption::isolation::IsolationOptions isolation;
  isolation.host_path = fitter_host;
  if (auto st = fitter_host.empty()
                    ? registry.LoadDirectory(plugins)
                    : adoption::isolation::LoadDirectoryIsolated(&registry, plugins, isolation);
      !st.ok()) {
    std::cerr << "fit_bench: " << st << "\n";
    return 1;
  }
  for (const auto& r : registry.rejected())
    std::cerr << "fit_bench: plugin refused: " << r.path << ": " << r.reason << "\n";
  const Fitter* citation = registry.Find("citation");
  if (citation == nullptr) {
    std::cerr << "fit_bench: no citation fitter in " << plugins << "\n";
    return 1;
  }

  // Citation SSE per series (untimed), also a warm-up.
  struct SseRow {
    std::string id;
    int n;
    std::string status;
    double sse;
    double loss;
    double seconds;
  };
  std::vector<SseRow> sse_rows;
  int usable_citation = 0;
  for (const auto& s : nonzero) {
    const double t0 = WallNow();
    FitOutcome out = citation->Fit(s, {}, FitBudget{});
    const double dt = WallNow() - t0;
    double sse = NAN;
    if (adoption::IsUsable(out.status)) {
      ++usable_citation;
      std::vector<double> t;
      for (const auto& p : s.points) t.push_back(p.t);
      auto pred = citation->Predict(out, {}, s, t);
      if (pred.ok()) {
        sse = 0;
        for (size_t i = 0; i < t.size(); ++i) {
          const double r = s.points[i].value - (*pred)[i];
          sse += r * r;
        }
      } else {
        std::cerr << "fit_bench: predict " << s.id << ": " << pred.status() << "\n";
      }
    }
    sse_rows.push_back({s.id, static_cast<int>(s.points.size()),
                        adoption::FitStatusName(out.status), sse, out.loss, dt});
  }
  if (!sse_out.empty()) {
    std::ofstream f(sse_out);
    f << "series_id,n,status,sse,loss,seconds\n";
    for (const auto& r : sse_rows) {
      std::string id = r.id;
      if (id.find_first_of(",\"") != std::string::npos) {
        std::string q = "\"";
        for (char c : id) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
        id = q + "\"";
      }
      f << id << "," << r.n << "," << r.status << "," << Num(r.sse) << "," << Num(r.loss) << ","
        << absl::StrFormat("%.9f", r.seconds) << "\n";
    }
    if (!f) {
      std::cerr << "fit_bench: cannot write " << sse_out << "\n";
      return 1;
    }
  }

  // Citation throughput.
  std::vector<double> fps_wall, fps_cpu;
  long fits_per_rep = 0;
  for (int k = 0; k < reps; ++k) {
    Rep rep = TimeFits(*citation, nonzero, min_seconds, nullptr);
    fps_wall.push_back(rep.fits / rep.wall);
    fps_cpu.push_back(rep.fits / rep.cpu);
    fits_per_rep = rep.fits;
    std::cerr << absl::StrFormat(
        "fit_bench: citation rep %d: %d fits in %.3f s wall, %.3f s cpu: %.1f fits/s\n", k + 1,
        rep.fits, rep.wall, rep.cpu, rep.fits / rep.wall);
  }

  // Every fitter.
  struct FitterRow {
    std::string name;
    double us_wall, us_cpu;
  };
  std::vector<FitterRow> fitter_rows;
  for (const Fitter* f : registry.fitters()) {
    std::vector<double> us_wall, us_cpu;
    for (int k = 0; k < reps; ++k) {
      Rep rep = TimeFits(*f, nonzero, fitter_min_seconds, nullptr);
      us_wall.push_back(1e6 * rep.wall / rep.fits);
      us_cpu.push_back(1e6 * rep.cpu / rep.fits);
    }
    fitter_rows.push_back({f->name(), Median(us_wall), Median(us_cpu)});
  }

  const double cit_wall = Median(fps_wall), cit_cpu = Median(fps_cpu);
  std::cout << absl::StrFormat(
      "citation: %.1f fits/s per core (wall; %.1f by thread CPU time), median of %d "
      "reps of >= %.1f s, %d non-zero series, %d usable fits%s\n",
      cit_wall, cit_cpu, reps, min_seconds, nonzero.size(), usable_citation,
      fitter_host.empty() ? "" : " (isolated: plugins in adoption-fitter-host)");
  std::cout << absl::StrFormat("%-10s %12s %12s\n", "fitter", "us/fit", "us/fit(cpu)");
  for (const auto& r : fitter_rows)
    std::cout << absl::StrFormat("%-10s %12.1f %12.1f\n", r.name, r.us_wall, r.us_cpu);

  if (!json_out.empty()) {
    std::ofstream f(json_out);
    f << "{\n  \"series\": " << all.size() << ",\n  \"nonzero_series\": " << nonzero.size()
      << ",\n  \"isolation\": " << JsonString(fitter_host.empty() ? "none" : "process")
      << ",\n  \"reps\": " << reps << ",\n  \"min_seconds\": " << Num(min_seconds)
      << ",\n  \"citation_fits_per_rep\": " << fits_per_rep
      << ",\n  \"citation_usable\": " << usable_citation
      << ",\n  \"citation_fits_per_second_wall\": " << Num(cit_wall)
      << ",\n  \"citation_fits_per_second_cpu\": " << Num(cit_cpu)
      << ",\n  \"citation_reps_fits_per_second_wall\": [";
    for (size_t i = 0; i < fps_wall.size(); ++i) f << (i ? ", " : "") << Num(fps_wall[i]);
    f << "],\n  \"fitters\": [";
    for (size_t i = 0; i < fitter_rows.size(); ++i) {
      const auto& r = fitter_rows[i];
      f << (i ? "," : "") << "\n    {\"name\": " << JsonString(r.name)
        << ", \"us_per_fit_wall\": " << Num(r.us_wall) << ", \"us_per_fit_cpu\": " << Num(r.us_cpu)
        << "}";
    }
    f << "\n  ],\n  \"rejected_plugins\": " << registry.rejected().size() << "\n}\n";
    if (!f) {
      std::cerr << "fit_bench: cannot write " << json_out << "\n";
      return 1;
    }
  }
  return 0;
}
