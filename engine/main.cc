// adoptiond: the adoption-engine gRPC server.
//
//   adoptiond --listen 127.0.0.1:50051 --db adoption.db --plugins DIR
//
// Owns the series store (SQLite by default), loads fitter plugins from a
// directory, and serves adoption.v1.AdoptionService plus grpc.health.v1 and
// server reflection. SIGTERM/SIGINT shut it down gracefully (Shutdown()
// below): health turns NOT_SERVING, new calls are refused with UNAVAILABLE,
// calls in flight get --shutdown-grace to finish (then their fits are
// cancelled), and the store is closed.
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/forecast/intervals.h"
#include "engine/isolation/host_pool.h"
#include "engine/planner/planner.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/service/adoption_service.h"
#include "engine/service/log_text.h"
#include "engine/service/metrics.h"
#include "engine/service/serving_health.h"
#include "engine/service/token_auth.h"
#include "engine/store/open_store.h"
#include "httplib.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace {

// The plugin directory when --plugins is not given: next to the binary in a
// build tree (build/engine/adoptiond -> build/plugins) or an install tree
// (bin/adoptiond -> lib/adoption/plugins).
std::string DefaultPluginDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "plugins";
  for (const auto& candidate : {exe.parent_path().parent_path() / "plugins",
                                exe.parent_path().parent_path() / "lib" / "adoption" / "plugins"}) {
    if (std::filesystem::is_directory(candidate, ec)) return candidate.string();
  }
  return "plugins";
}

// Blocks SIGTERM/SIGINT in every thread and waits for one on a dedicated
// thread, so shutdown runs in ordinary code, not in a signal handler.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

constexpr char kServiceName[] = "adoption.v1.AdoptionService";

// Why a listening socket cannot be bound to `address` ("host:port",
// "[v6]:port"), found by binding one as gRPC and the metrics listener do
// (SO_REUSEADDR, no SO_REUSEPORT), e.g. "Address already in use"; "" when
// it binds (the failure was elsewhere). Called only after a bind failed.
std::string BindFailure(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "no :port in the address";
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::StrCat("cannot resolve \"", host, "\": ", gai_strerror(rc));
  }
  std::string failure;
  for (addrinfo* a = found; a != nullptr && failure.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) failure = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return failure;
}

// How long calls cut off at the end of the drain window get to notice and
// answer; a fit that ignores should_stop longer than this does not hold the
// process: it exits (status 1) without waiting for it.
constexpr absl::Duration kCancelWindow = absl::Seconds(5);

// The graceful shutdown, in ordinary code on the signal thread:
//   1. health NOT_SERVING ("" and the service), the gate refuses new calls
//      (UNAVAILABLE) while the listener stays up so probes can see it;
//   2. calls in flight get until the drain deadline (--shutdown-grace) to
//      finish;
//   3. past it, the planner cancels their fits (they answer UNAVAILABLE),
//      with kCancelWindow to do so;
//   4. gRPC's own shutdown, with a short window to deliver the last
//      responses (idle connections are then closed, they do not hold it).
// A second SIGTERM or SIGINT at any point of it exits at once with status
// 128 + signal (the waiter thread in main()).
void Shutdown(grpc::Server* server, adoption::ServingHealth* health, adoption::RequestGate* gate,
              adoption::Planner* planner, absl::Duration grace) {
  const absl::Time drain_deadline = absl::Now() + grace;
  health->StartDrain();
  gate->StartDrain();
  spdlog::info("event=draining in_flight={} grace_s={:.3g} health=NOT_SERVING", gate->in_flight(),
               absl::ToDoubleSeconds(grace));
  if (!gate->WaitIdle(drain_deadline)) {
    spdlog::warn("event=drain_expired in_flight={} grace_s={:.3g} action=cancel_fits",
                 gate->in_flight(), absl::ToDoubleSeconds(grace));
    planner->CancelAll();
    if (!gate->WaitIdle(absl::Now() + kCancelWindow)) {
      spdlog::critical(
          "event=shutdown_stuck in_flight={} note=\"a fit ignores should_stop; "
          "exiting without it (every acknowledged write is already durable)\"",
          gate->in_flight());
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }
  }
  spdlog::info("event=drained");
  const absl::Duration flush =
      std::clamp(drain_deadline - absl::Now(), absl::Milliseconds(500), absl::Seconds(2));
  server->Shutdown(absl::ToChronoTime(absl::Now() + flush));
  server->GetHealthCheckService()->Shutdown();
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t shutdown_signals = BlockShutdownSignals();

  CLI::App app{"adoptiond: adoption-engine gRPC server (adoption.v1.AdoptionService)"};
  std::string listen = "127.0.0.1:50051";
  std::string db = "adoption.db";
  std::string plugin_dir;
  std::string ready_file;
  int max_message_mb = 64;
  int max_concurrent_fits = 0;
  unsigned max_iterations = 0;
  int request_timeout_s = 600;
  double shutdown_grace_s = 10;
  double fit_timeout_s = 0;
  adoption::ServiceOptions service_options;
  std::string log_level = "info";
  std::string tls_cert, tls_key, token_file, metrics_listen;
  std::string plugin_isolation = "none";
  std::string fitter_host;
  std::string corpus_band;
  app.add_option("--listen", listen,
                 "address:port to serve on; port 0 picks a free port. Loopback "
                 "by default: bind other addresses only on purpose. A port another "
                 "process serves is refused (no SO_REUSEPORT)")
      ->capture_default_str();
  app.add_option(
         "--db", db,
         absl::StrCat("where the series live: ", absl::StrJoin(adoption::StoreUsage(), "; ")))
      ->capture_default_str();
  app.add_option("--plugins", plugin_dir,
                 "directory of fitter plugins (*.so); default: next to the binary");
  app.add_option("--plugin-isolation", plugin_isolation,
                 "none: plugins run in this process (fastest; a plugin that crashes takes "
                 "the server down). process: every plugin call runs in a helper process "
                 "(adoption-fitter-host), so a crash or a hang costs one fit")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "process"}));
  app.add_option("--fitter-host", fitter_host,
                 "the adoption-fitter-host executable for --plugin-isolation=process; "
                 "default: beside this binary");
  app.add_option("--ready-file", ready_file,
                 "once serving, write the bound address (host:port) to this file, and "
                 "the metrics address on a second line when enabled");
  app.add_option("--max-message-mb", max_message_mb, "largest request or response message, MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 2047));
  app.add_option("--max-series-per-request", service_options.max_series_per_request,
                 "series per UpsertSeries request")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-points-per-series", service_options.series_limits.max_points,
                 "points per series")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--max-concurrent-fits", max_concurrent_fits,
                 "fits running at once over all requests; 0 = one per core")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_option("--max-iterations", max_iterations,
                 "optimiser iteration cap per start; 0 = each fitter's default")
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout_s,
                 "server-side cap on any request, seconds (client deadlines can shorten it)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--max-concurrent-requests", service_options.max_concurrent_requests,
                 "AdoptionService calls running at once (every method; health and "
                 "reflection excluded); more are refused at once with RESOURCE_EXHAUSTED")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--shutdown-grace", shutdown_grace_s,
                 "seconds calls in flight get to finish after SIGTERM/SIGINT; then their "
                 "fits are cancelled and they answer UNAVAILABLE")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--fit-timeout", fit_timeout_s,
                 "deadline of each fit from its start, seconds, within the request's; "
                 "0 = the request's deadline only")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  auto* cert_opt = app.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve TLS")
                       ->check(CLI::ExistingFile);
  auto* key_opt = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")
                      ->check(CLI::ExistingFile);
  cert_opt->needs(key_opt);
  key_opt->needs(cert_opt);
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port for Prometheus metrics over HTTP (GET /metrics); port 0 "
                 "picks a free one; off by default. No token is asked, even with "
                 "--token-file: metrics hold counts, method and fitter names, never series "
                 "data; keep them on loopback or a monitoring network");
  app.add_option("--token-file", token_file,
                 "file holding the bearer token every call must present "
                 "(authorization: Bearer <token>); health checks, reflection and "
                 "--metrics-listen stay open. Checked before a call's body is read on TLS "
                 "and loopback listeners")
      ->check(CLI::ExistingFile);
  app.add_option("--corpus-band", corpus_band,
                 "the corpus band of forecast intervals from this table (bench/corpus_band.py "
                 "--format table: the same rules on other data or dates) instead of the one "
                 "built in, derived from the bundled data")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr, one structured line per event; stdout stays clean.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("adoptiond"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  if (plugin_dir.empty()) plugin_dir = DefaultPluginDir();
  auto read_file = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  if (!token_file.empty()) {
    std::string token = read_file(token_file);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    if (token.empty() || token.find_first_of(" \t\r\n") != std::string::npos) {
      spdlog::critical("event=bad_token_file path={} reason=\"must hold one token, no spaces\"",
                       token_file);
      return 1;
    }
    service_options.bearer_token = token;
  }
  const bool loopback = listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 ||
                        listen.rfind("[::1]:", 0) == 0;
  if (!loopback && tls_cert.empty()) {
    spdlog::warn(
        "event=insecure_listen address={} note=\"not loopback and no TLS: traffic "
        "(and any bearer token) is readable on the network\"",
        listen);
  }
  service_options.max_request_time = absl::Seconds(request_timeout_s);
  if (!corpus_band.empty()) {
    absl::StatusOr<std::string> band = adoption::LoadCorpusBand(corpus_band);
    if (!band.ok()) {
      spdlog::critical("event=bad_corpus_band error=\"{}\"",
                       adoption::LogText(band.status().ToString(), 8192));
      return 1;
    }
    spdlog::info("event=corpus_band path={} table=\"{}\"", adoption::LogText(corpus_band, 1024),
                 *band);
  }

  const absl::Time open_start = absl::Now();
  absl::StatusOr<adoption::OpenedStore> opened = adoption::OpenStore(db);
  if (!opened.ok()) {
    spdlog::critical("event=store_open_failed db={} error=\"{}\"", db,
                     adoption::LogText(opened.status().ToString(), 8192));
    return 1;
  }
  std::unique_ptr<adoption::SeriesStore> store = std::move(opened->store);
  if (opened->durable) {
    // open_ms includes the start-up check of the whole file.
    spdlog::info("event=store kind={} path={} open_ms={:.1f}", opened->kind, opened->location,
                 absl::ToDoubleMilliseconds(absl::Now() - open_start));
  } else {
    spdlog::warn("event=store kind={} note=\"not durable: data is lost at exit\"", opened->kind);
  }

  // Before the registry: fitter hosts report their faults to it.
  adoption::Metrics metrics;
  // Declared before the planner and the service, so destroyed after them:
  // with isolation, destroying it kills and reaps the fitter hosts.
  adoption::FitterRegistry registry;
  absl::Status plugins_loaded;
  if (plugin_isolation == "process") {
    adoption::isolation::IsolationOptions iso;
    iso.host_path = fitter_host.empty() ? adoption::isolation::DefaultHostPath() : fitter_host;
    if (access(iso.host_path.c_str(), X_OK) != 0) {
      spdlog::critical(
          "event=fitter_host_missing path={} note=\"--plugin-isolation=process "
          "needs adoption-fitter-host (see --fitter-host)\"",
          iso.host_path);
      return 1;
    }
    iso.on_fault = [&metrics](const std::string& fitter, const char* kind) {
      metrics.RecordHostFault(fitter, kind);
    };
    spdlog::info("event=plugin_isolation mode=process host={}", iso.host_path);
    plugins_loaded = adoption::isolation::LoadDirectoryIsolated(&registry, plugin_dir, iso);
  } else {
    plugins_loaded = registry.LoadDirectory(plugin_dir);
  }
  if (!plugins_loaded.ok()) {
    spdlog::error("event=plugins_unavailable dir={} error=\"{}\"", plugin_dir,
                  plugins_loaded.ToString());
  }
  spdlog::info("event=plugins dir={} loaded={} rejected={} isolation={}", plugin_dir,
               registry.fitters().size(), registry.rejected().size(), plugin_isolation);

  // Health from here on follows the store's condition (a damaged record
  // found by a read, a full disk): its listener is set before any call.
  adoption::ServingHealth health(
      store.get(), kServiceName,
      registry.fitters().empty() ? absl::StrCat("no fitter plugin loaded from ", plugin_dir) : "");

  adoption::PlannerOptions po;
  po.max_concurrency = max_concurrent_fits;
  po.max_iterations = max_iterations;
  po.max_fit_time = absl::Seconds(fit_timeout_s);
  po.on_run = [&metrics](const std::vector<adoption::FitRun>& runs) {
    metrics.RecordFitRuns(runs);
  };
  adoption::Planner planner(po);
  adoption::AdoptionServiceImpl service(store.get(), &registry, &planner, service_options,
                                        &metrics);

  // Prometheus text over plain HTTP, on its own (loopback by default) port.
  httplib::Server metrics_http;
  std::thread metrics_thread;
  std::string metrics_bound;
  if (!metrics_listen.empty()) {
    const size_t colon = metrics_listen.rfind(':');
    const std::string host = metrics_listen.substr(0, colon);
    const int want = colon == std::string::npos ? 0 : std::atoi(metrics_listen.c_str() + colon + 1);
    metrics_http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
      absl::StatusOr<int64_t> count = store->Count();
      adoption::Metrics::Gauges g;
      g.store_series = count.ok() ? *count : -1;
      g.plugins_loaded = static_cast<int>(registry.fitters().size());
      g.plugins_rejected = static_cast<int>(registry.rejected().size());
      g.in_flight = service.gate().in_flight();
      g.max_in_flight = service.gate().max_in_flight();
      g.draining = service.gate().draining();
      g.store_condition = adoption::StoreConditionName(health.store_condition());
      res.set_content(metrics.Render(g), "text/plain; version=0.0.4");
    });
    // cpp-httplib sets SO_REUSEPORT by default, which lets a second process
    // bind the same port and take half the scrapes: SO_REUSEADDR only.
    metrics_http.set_socket_options([](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    const int got = want == 0 ? metrics_http.bind_to_any_port(host)
                              : (metrics_http.bind_to_port(host, want) ? want : -1);
    if (got <= 0) {
      spdlog::critical("event=metrics_listen_failed address={} reason=\"{}\"", metrics_listen,
                       BindFailure(metrics_listen));
      return 1;
    }
    metrics_bound = absl::StrCat(host, ":", got);
    metrics_thread = std::thread([&] { metrics_http.listen_after_bind(); });
    spdlog::info("event=metrics address={} path=/metrics", metrics_bound);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({read_file(tls_key), read_file(tls_cert)});
    credentials = grpc::SslServerCredentials(ssl);
  }
  if (!service_options.bearer_token.empty()) {
    // The token is checked when a call's headers arrive, before its body is
    // read (engine/service/token_auth.h), where gRPC allows it: on TLS, or
    // on a loopback listener served through local credentials (plaintext
    // HTTP/2 like the insecure ones, loopback peers only).
    if (tls_cert.empty() && loopback) {
      credentials = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
    }
    if (!tls_cert.empty() || loopback) {
      credentials->SetAuthMetadataProcessor(
          std::make_shared<adoption::BearerTokenAuth>(service_options.bearer_token, &metrics));
    } else {
      spdlog::warn(
          "event=token_checked_late address={} note=\"plaintext on a non-loopback address: "
          "gRPC cannot check the token before reading a call's body, so calls without it "
          "cost up to --max-message-mb each before they are refused; serve TLS\"",
          listen);
    }
  }
  builder.AddListeningPort(listen, credentials, &port);
  // gRPC sets SO_REUSEPORT on its listeners by default: a second adoptiond
  // on the same port (another --db!) would start and the kernel would split
  // new connections between the two. Off, that second server fails to bind.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(max_message_mb * 1024 * 1024);
  builder.SetMaxSendMessageSize(max_message_mb * 1024 * 1024);
  // Compressed requests are refused (UNIMPLEMENTED "Compression algorithm
  // 'gzip' is disabled") when their headers arrive: gRPC 1.51 inflates a
  // whole message before it compares the result with the size limit (only
  // the compressed size is checked first), so 0.5 MB of gzip could make it
  // allocate 500 MB. No client of ours compresses.
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
  // Backstop behind the gate: gRPC's sync server takes a thread per call in
  // progress; past this many it answers RESOURCE_EXHAUSTED itself ("Server
  // Threadpool Exhausted") instead of making more. The room above the gate's
  // limit is for the threads that only refuse calls (a flood of thousands of
  // calls at once gets some of its refusals from here).
  grpc::ResourceQuota quota("adoptiond");
  quota.SetMaxThreads(2 * service_options.max_concurrent_requests + 64);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    const std::string why = BindFailure(listen);
    spdlog::critical("event=listen_failed address={} reason=\"{}\"", listen,
                     why.empty() ? "gRPC could not listen there (see its error above)"
                                 : absl::StrCat(why, why == std::strerror(EADDRINUSE)
                                                         ? ": another process serves this port"
                                                         : ""));
    if (metrics_thread.joinable()) {
      metrics_http.stop();
      metrics_thread.join();
    }
    return 1;
  }
  // Health (engine/service/serving_health.h): "" says the process serves
  // (the store opened and passed its check, or it would have exited) until
  // the store finds damage; the service is SERVING with at least one fitter
  // loaded and a store whose last write found space. Both turn NOT_SERVING
  // when the shutdown starts.
  health.Attach(server->GetHealthCheckService());
  if (registry.fitters().empty()) {
    spdlog::warn(
        "event=health service={} status=NOT_SERVING reason=\"no fitter plugin "
        "loaded from {} ({} rejected): Fit, CompareModels and Forecast cannot "
        "work\"",
        kServiceName, plugin_dir, registry.rejected().size());
  }
  const std::string bound = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  spdlog::info(
      "event=serving address={} fitters={} max_concurrent_fits={} "
      "max_concurrent_requests={} shutdown_grace_s={:.3g} tls={} auth={}",
      bound, registry.fitters().size(), planner.max_concurrency(), service.gate().max_in_flight(),
      shutdown_grace_s, tls_cert.empty() ? "off" : "on",
      service_options.bearer_token.empty() ? "off" : "bearer");
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << bound << "\n";
      if (!metrics_bound.empty()) out << metrics_bound << "\n";
    }
    std::rename(tmp.c_str(), ready_file.c_str());  // appears complete
  }

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&shutdown_signals, &sig);
    spdlog::info("event=shutdown signal={}", sig);
    // A second SIGTERM or SIGINT during the drain: the operator wants the
    // process gone now. Nothing acknowledged is lost (every acknowledged
    // write is committed before its answer); calls in flight get nothing.
    std::thread([signals = shutdown_signals] {
      int again = 0;
      sigwait(&signals, &again);
      spdlog::critical(
          "event=shutdown_forced signal={} note=\"second signal during the "
          "drain: exiting now, calls in flight are dropped (every acknowledged "
          "write is already durable)\"",
          again);
      spdlog::default_logger()->flush();
      std::_Exit(128 + again);
    }).detach();
    Shutdown(server.get(), &health, &service.gate(), &planner, absl::Seconds(shutdown_grace_s));
  });
  server->Wait();
  waiter.join();
  if (metrics_thread.joinable()) {
    metrics_http.stop();
    metrics_thread.join();
  }
  health.Stop();
  store.reset();
  spdlog::info("event=stopped");
  return 0;
}
