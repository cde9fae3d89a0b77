// adoption_load: a bounded mixed load against a running adoptiond.
//
//   adoption_load --server ADDR [--streams 8] [--seconds 10] [--mix 40,40,20[,0]]
//                 [--background-compares 0] [--token-file F] [--tls-ca F] [--verify]
//
// Each of --streams client threads loops for --seconds over a weighted mix of
// writes (UpsertSeries of a fresh 24-point series), reads (GetSeries of a
// series this thread wrote, ListSeries pages), fits (Fit with the citation
// fitter, or naive when citation is absent) and, with a fourth weight, small
// comparisons (CompareModels of one series this thread wrote: every fitter,
// default cross-validation), recording every latency. With
// --background-compares N, N more threads run large comparisons (every
// stored series, every fitter, default cross-validation, summary only) back
// to back for the whole run: the fairness scenario, where the figure is the
// small comparisons' latency while the large ones hold the fit workers. At
// the end it prints throughput and p50/p90/p99/max latency per kind, the
// error count, and with --verify re-reads every acknowledged write: the exit
// code is non-zero on any error or lost write. Loopback only by design: it
// sends traffic nowhere but --server.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "adoption/v1/adoption.grpc.pb.h"

namespace {

namespace v1 = adoption::v1;
using Clock = std::chrono::steady_clock;

enum Kind { kWrite, kRead, kFit, kCompare, kKinds };
const char* kKindName[] = {"write", "read", "fit", "compare"};

struct ThreadStats {
  std::vector<double> latency_ms[kKinds];
  int errors = 0;
  std::string first_error;
  std::vector<std::string> written;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"adoption_load: bounded mixed read/write/fit load on adoptiond"};
  std::string server = "127.0.0.1:50051", mix = "40,40,20", token_file, tls_ca;
  int streams = 8;
  double seconds = 10;
  bool verify = false;
  int background_compares = 0;
  app.add_option("--server", server, "adoptiond address")->capture_default_str();
  app.add_option("--streams", streams, "concurrent client threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--seconds", seconds, "duration")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--mix", mix, "weights of write,read,fit[,compare]")->capture_default_str();
  app.add_option("--background-compares", background_compares,
                 "threads running whole-store comparisons back to back meanwhile")
      ->capture_default_str()
      ->check(CLI::Range(0, 16));
  app.add_option("--token-file", token_file, "bearer token file");
  app.add_option("--tls-ca", tls_ca, "PEM root certificate (TLS)");
  app.add_flag("--verify", verify, "re-read every acknowledged write at the end");
  CLI11_PARSE(app, argc, argv);

  std::vector<int> weights;
  for (absl::string_view w : absl::StrSplit(mix, ',')) weights.push_back(std::stoi(std::string(w)));
  if (weights.size() == kKinds - 1) weights.push_back(0);
  if (weights.size() != kKinds) {
    std::fprintf(stderr, "--mix: expected three or four weights write,read,fit[,compare]\n");
    return 2;
  }
  const std::string token = token_file.empty() ? "" : ReadFile(token_file);
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (!tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(tls_ca);
    creds = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateChannel(server, creds);
  auto stub = v1::AdoptionService::NewStub(channel);
  auto prepare = [&](grpc::ClientContext* ctx, int deadline_s = 30) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  };

  // Which fitter to exercise.
  std::string fitter = "naive";
  {
    grpc::ClientContext ctx;
    prepare(&ctx);
    v1::ListFittersResponse resp;
    grpc::Status st = stub->ListFitters(&ctx, {}, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "error: cannot reach %s: %s\n", server.c_str(),
                   st.error_message().c_str());
      return 1;
    }
    for (const auto& f : resp.fitters()) {
      if (f.name() == "citation") fitter = "citation";
    }
  }

  const std::string run_id =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<ThreadStats> stats(streams);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads, background_threads;
  // Large comparisons, started until the end (the last one runs past it, so
  // they are in flight for the whole of the foreground's run).
  std::vector<ThreadStats> background(background_compares);
  for (int b = 0; b < background_compares; ++b) {
    background_threads.emplace_back([&, b] {
      ThreadStats& st = background[b];
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        grpc::ClientContext ctx;
        prepare(&ctx, 900);
        v1::CompareModelsRequest req;
        req.mutable_selection()->set_all(true);
        req.set_summary_only(true);
        v1::CompareModelsResponse resp;
        grpc::Status status = stub->CompareModels(&ctx, req, &resp);
        if (!status.ok()) {
          ++st.errors;
          if (st.first_error.empty())
            st.first_error = "background compare: " + status.error_message();
        }
        st.latency_ms[kCompare].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  if (background_compares > 0) {
    // Let them start before the foreground measures anything.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (int w = 0; w < streams; ++w) {
    threads.emplace_back([&, w] {
      ThreadStats& st = stats[w];
      std::mt19937 rng(w + 1);
      std::discrete_distribution<int> pick(weights.begin(), weights.end());
      auto fail = [&](const grpc::Status& s, const char* what) {
        ++st.errors;
        if (st.first_error.empty()) st.first_error = std::string(what) + ": " + s.error_message();
      };
      for (int i = 0; Clock::now() < end; ++i) {
        int kind = pick(rng);
        if (kind != kWrite && st.written.empty()) kind = kWrite;
        const auto t0 = Clock::now();
        grpc::ClientContext ctx;
        prepare(&ctx);
        if (kind == kWrite) {
          v1::UpsertSeriesRequest req;
          auto* s = req.add_series();
          s->set_id("load/" + run_id + "/" + std::to_string(w) + "/" + std::to_string(i));
          (*s->mutable_metadata())["source"] = "adoption_load";
          double v = 0;
          for (int k = 0; k < 24; ++k) {
            auto* p = s->add_points();
            p->set_t(k);
            v += (k == 0 ? 0 : 5 + (rng() % 50));
            p->set_value(v);
          }
          v1::UpsertSeriesResponse resp;
          grpc::Status status = stub->UpsertSeries(&ctx, req, &resp);
          if (status.ok())
            st.written.push_back(s->id());
          else
            fail(status, "write");
        } else if (kind == kRead) {
          grpc::Status status;
          if (i % 2 == 0) {
            v1::GetSeriesRequest req;
            req.set_id(st.written[rng() % st.written.size()]);
            v1::Series resp;
            status = stub->GetSeries(&ctx, req, &resp);
          } else {
            v1::ListSeriesRequest req;
            req.set_page_size(100);
            v1::ListSeriesResponse resp;
            status = stub->ListSeries(&ctx, req, &resp);
          }
          if (!status.ok()) fail(status, "read");
        } else if (kind == kCompare) {
          v1::CompareModelsRequest req;
          req.mutable_selection()->add_ids(st.written[rng() % st.written.size()]);
          v1::CompareModelsResponse resp;
          grpc::Status status = stub->CompareModels(&ctx, req, &resp);
          if (!status.ok()) fail(status, "compare");
        } else {
          v1::FitRequest req;
          req.set_series_id(st.written[rng() % st.written.size()]);
          req.set_fitter(fitter);
          v1::FitResponse resp;
          grpc::Status status = stub->Fit(&ctx, req, &resp);
          if (!status.ok()) fail(status, "fit");
        }
        st.latency_ms[kind].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto foreground_end = Clock::now();
  for (auto& t : background_threads) t.join();

  int errors = 0, total = 0;
  std::string first_error;
  std::vector<double> all[kKinds];
  for (auto& st : stats) {
    errors += st.errors;
    if (first_error.empty()) first_error = st.first_error;
    for (int k = 0; k < kKinds; ++k) {
      all[k].insert(all[k].end(), st.latency_ms[k].begin(), st.latency_ms[k].end());
      total += st.latency_ms[k].size();
    }
  }
  std::vector<double> large;
  for (auto& st : background) {
    errors += st.errors;
    if (first_error.empty()) first_error = st.first_error;
    large.insert(large.end(), st.latency_ms[kCompare].begin(), st.latency_ms[kCompare].end());
  }
  std::printf("adoption_load: %d streams, %.1f s, fitter %s", streams, seconds, fitter.c_str());
  if (background_compares > 0) {
    std::printf(", %d background whole-store comparisons (ended %.1f s after the foreground)",
                background_compares,
                std::chrono::duration<double>(Clock::now() - foreground_end).count());
  }
  std::printf("\n%-8s %10s %10s %9s %9s %9s %9s\n", "kind", "requests", "per_sec", "p50_ms",
              "p90_ms", "p99_ms", "max_ms");
  auto row = [&](const char* name, std::vector<double>& v) {
    const double mx = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    std::printf("%-8s %10zu %10.1f %9.2f %9.2f %9.2f %9.2f\n", name, v.size(), v.size() / seconds,
                Percentile(v, 0.5), Percentile(v, 0.9), Percentile(v, 0.99), mx);
  };
  for (int k = 0; k < kKinds; ++k) {
    if (k == kCompare && all[k].empty()) continue;
    row(kKindName[k], all[k]);
  }
  if (background_compares > 0) row("large", large);
  std::printf("total    %10d %10.1f   errors %d\n", total, total / seconds, errors);
  if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());

  int lost = 0;
  size_t acknowledged = 0;
  if (verify) {
    for (auto& st : stats) {
      for (const auto& id : st.written) {
        ++acknowledged;
        grpc::ClientContext ctx;
        prepare(&ctx);
        v1::GetSeriesRequest req;
        req.set_id(id);
        v1::Series resp;
        if (!stub->GetSeries(&ctx, req, &resp).ok() || resp.points_size() != 24) ++lost;
      }
    }
    std::printf("verify: %zu acknowledged writes, %d lost\n", acknowledged, lost);
  }
  return errors == 0 && lost == 0 ? 0 : 1;
}
