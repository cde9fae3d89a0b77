// adoption::AdoptionClient: a C++ client of adoption.v1.AdoptionService.
//
// A thin, thread-safe wrapper over the generated stub: one method per RPC,
// each returning absl::StatusOr<Response> whose error carries the gRPC
// status code and message unchanged (INVALID_ARGUMENT messages name the
// offending field). Every call gets the default deadline from
// ClientOptions unless told otherwise.
//
//   auto client = adoption::AdoptionClient::Connect("127.0.0.1:50051", {});
//   adoption::v1::CompareModelsRequest req;
//   req.mutable_selection()->set_all(true);
//   absl::StatusOr<adoption::v1::CompareModelsResponse> report =
//       (*client)->CompareModels(req);
#ifndef ADOPTION_CLIENTS_CPP_CLIENT_H_
#define ADOPTION_CLIENTS_CPP_CLIENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adoption/v1/adoption.grpc.pb.h"

namespace adoption {

struct ClientOptions {
  // Deadline of each call. Default 10 minutes: a full-corpus comparison
  // with cross-validation takes seconds, never minutes.
  absl::Duration timeout = absl::Minutes(10);
  // Bearer token sent as "authorization: Bearer <token>"; empty for none.
  std::string token;
  // PEM root certificates; when set the channel uses TLS, otherwise it is
  // plaintext (fine on loopback).
  std::string tls_root_certs;
  // Largest response accepted, bytes. Default 512 MiB: a full-corpus
  // CompareModels report is several MiB.
  int max_receive_message_bytes = 512 * 1024 * 1024;
};

class AdoptionClient {
 public:
  // Creates the channel (connection happens lazily, on the first call).
  // INVALID_ARGUMENT if the address is empty.
  static absl::StatusOr<std::unique_ptr<AdoptionClient>> Connect(
      const std::string& address, const ClientOptions& options);

  AdoptionClient(const AdoptionClient&) = delete;
  AdoptionClient& operator=(const AdoptionClient&) = delete;

  absl::StatusOr<v1::UpsertSeriesResponse> UpsertSeries(
      const v1::UpsertSeriesRequest& request);
  absl::StatusOr<v1::Series> GetSeries(const v1::GetSeriesRequest& request);
  absl::StatusOr<v1::ListSeriesResponse> ListSeries(
      const v1::ListSeriesRequest& request);
  absl::StatusOr<v1::DeleteSeriesResponse> DeleteSeries(
      const v1::DeleteSeriesRequest& request);
  absl::StatusOr<v1::ListFittersResponse> ListFitters(
      const v1::ListFittersRequest& request = {});
  absl::StatusOr<v1::FitResponse> Fit(const v1::FitRequest& request);
  absl::StatusOr<v1::CompareModelsResponse> CompareModels(
      const v1::CompareModelsRequest& request);
  absl::StatusOr<v1::ForecastResponse> Forecast(
      const v1::ForecastRequest& request);

  // The underlying stub, for calls that need their own ClientContext.
  v1::AdoptionService::Stub* stub() { return stub_.get(); }

 private:
  AdoptionClient(std::unique_ptr<v1::AdoptionService::Stub> stub,
                 ClientOptions options);
  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request);

  std::unique_ptr<v1::AdoptionService::Stub> stub_;
  ClientOptions options_;
};

}  // namespace adoption

#endif  // ADOPTION_CLIENTS_CPP_CLIENT_H_
