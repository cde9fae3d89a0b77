// adoption::AdoptionClient: a C++ client of adoption.v1.AdoptionService.
//
// A thin wrapper over the generated stub: one method per RPC, each returning
// absl::StatusOr<Response> whose error carries the gRPC status code and
// message unchanged (gRPC and Abseil share the canonical codes, so
// INVALID_ARGUMENT stays INVALID_ARGUMENT, and its message names the
// offending field). Every call gets ClientOptions::timeout as its deadline
// unless the call's CallOptions say otherwise.
//
//   auto client = adoption::AdoptionClient::Connect("127.0.0.1:50051", {});
//   if (!client.ok()) return client.status();
//   adoption::v1::CompareModelsRequest req;
//   req.mutable_selection()->set_all(true);
//   absl::StatusOr<adoption::v1::CompareModelsResponse> report =
//       (*client)->CompareModels(req);
//
// Thread safety: every method may be called concurrently from any number of
// threads (the channel and stub are thread-safe; each call has its own
// context).
#ifndef ADOPTION_CLIENTS_CPP_CLIENT_H_
#define ADOPTION_CLIENTS_CPP_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adoption/v1/adoption.grpc.pb.h"

namespace adoption {

struct ClientOptions {
  // Deadline of each call. Default 600 s: a full-corpus CompareModels with
  // cross-validation takes seconds on the server, so 10 minutes only ends
  // calls that are truly stuck.
  absl::Duration timeout = absl::Seconds(600);
  // Bearer token, sent on every call as metadata "authorization: Bearer
  // <token>". Default empty: no authorization metadata. Printable ASCII
  // without spaces (Validate() checks).
  std::string token;
  // PEM root certificates that sign the server's certificate. Default
  // empty: a plaintext channel (fine on loopback). When set, TLS.
  std::string tls_root_certs;
  // Largest response accepted, bytes. Default 512 MiB: a full-corpus
  // CompareModels report is several MiB, far above gRPC's 4 MiB default.
  int max_receive_message_bytes = 512 * 1024 * 1024;

  // INVALID_ARGUMENT naming the field if an option is out of range.
  absl::Status Validate() const;
};

// Per-call overrides.
// The address to connect to when none is given: $ADOPTION_SERVER if set and
// not empty, else "127.0.0.1:50051" (adoptctl, the Python and the Go
// clients alike). Connect() itself takes an explicit address.
std::string DefaultServerAddress();

struct CallOptions {
  // Deadline of this call; default: ClientOptions::timeout.
  std::optional<absl::Duration> timeout;
};

class AdoptionClient {
 public:
  // Creates the channel; the connection is made lazily, on the first call,
  // so an unreachable server shows up as UNAVAILABLE from that call.
  // INVALID_ARGUMENT if the address is empty or options are invalid.
  static absl::StatusOr<std::unique_ptr<AdoptionClient>> Connect(const std::string& address,
                                                                 const ClientOptions& options);

  AdoptionClient(const AdoptionClient&) = delete;
  AdoptionClient& operator=(const AdoptionClient&) = delete;

  // See proto/adoption/v1/adoption.proto for each RPC's contract.
  absl::StatusOr<v1::UpsertSeriesResponse> UpsertSeries(const v1::UpsertSeriesRequest& request,
                                                        const CallOptions& call = {});
  absl::StatusOr<v1::Series> GetSeries(const v1::GetSeriesRequest& request,
                                       const CallOptions& call = {});
  absl::StatusOr<v1::ListSeriesResponse> ListSeries(const v1::ListSeriesRequest& request,
                                                    const CallOptions& call = {});
  absl::StatusOr<v1::DeleteSeriesResponse> DeleteSeries(const v1::DeleteSeriesRequest& request,
                                                        const CallOptions& call = {});
  absl::StatusOr<v1::ListFittersResponse> ListFitters(const v1::ListFittersRequest& request = {},
                                                      const CallOptions& call = {});
  absl::StatusOr<v1::FitResponse> Fit(const v1::FitRequest& request, const CallOptions& call = {});
  absl::StatusOr<v1::CompareModelsResponse> CompareModels(const v1::CompareModelsRequest& request,
                                                          const CallOptions& call = {});
  absl::StatusOr<v1::ForecastResponse> Forecast(const v1::ForecastRequest& request,
                                                const CallOptions& call = {});
  absl::StatusOr<v1::PredictResponse> Predict(const v1::PredictRequest& request,
                                              const CallOptions& call = {});
  absl::StatusOr<v1::AppendPointsResponse> AppendPoints(const v1::AppendPointsRequest& request,
                                                        const CallOptions& call = {});

  // CompareModelsStream: on_event sees every event in order (progress,
  // batches of series reports, and last the summary); returning false from
  // it cancels the call (the server stops the work). The status of the call:
  // OK once the summary arrived, CANCELLED when on_event stopped it.
  absl::Status CompareModelsStream(
      const v1::CompareModelsRequest& request,
      const std::function<bool(const v1::CompareModelsEvent&)>& on_event,
      const CallOptions& call = {});
  // The same stream assembled into one CompareModelsResponse (as
  // CompareModels answers it), with its progress passed to on_progress (may
  // be empty).
  absl::StatusOr<v1::CompareModelsResponse> CompareModelsWithProgress(
      const v1::CompareModelsRequest& request,
      const std::function<void(const v1::CompareProgress&)>& on_progress,
      const CallOptions& call = {});

  // The underlying stub, for calls that need their own ClientContext (e.g.
  // cancellation from another thread). Owned by this client.
  v1::AdoptionService::Stub* stub() { return stub_.get(); }

 private:
  AdoptionClient(std::unique_ptr<v1::AdoptionService::Stub> stub, ClientOptions options);
  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request, const CallOptions& call);
  // Deadline and token of one call.
  void Prepare(grpc::ClientContext* context, const CallOptions& call) const;

  std::unique_ptr<v1::AdoptionService::Stub> stub_;
  const ClientOptions options_;
};

// The absl::Status with the same code and message as a grpc::Status (the
// codes are the same canonical set, value for value).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace adoption

#endif  // ADOPTION_CLIENTS_CPP_CLIENT_H_
