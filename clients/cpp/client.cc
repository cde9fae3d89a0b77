#include "adoption/client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"

namespace adoption {

absl::StatusOr<std::unique_ptr<AdoptionClient>> AdoptionClient::Connect(
    const std::string& address, const ClientOptions& options) {
  if (address.empty()) {
    return absl::InvalidArgumentError("server address must not be empty");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!options.tls_root_certs.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs;
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.max_receive_message_bytes);
  auto channel = grpc::CreateCustomChannel(address, creds, args);
  return std::unique_ptr<AdoptionClient>(
      new AdoptionClient(v1::AdoptionService::NewStub(channel), options));
}

AdoptionClient::AdoptionClient(std::unique_ptr<v1::AdoptionService::Stub> stub,
                               ClientOptions options)
    : stub_(std::move(stub)), options_(std::move(options)) {}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> AdoptionClient::Call(Method method,
                                              const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  if (!options_.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  Response response;
  grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return response;
}

#define ADOPTION_CLIENT_METHOD(Name, Request, Response)                       \
  absl::StatusOr<v1::Response> AdoptionClient::Name(const v1::Request& r) {   \
    return Call<v1::Request, v1::Response>(&v1::AdoptionService::Stub::Name, r); \
  }
ADOPTION_CLIENT_METHOD(UpsertSeries, UpsertSeriesRequest, UpsertSeriesResponse)
ADOPTION_CLIENT_METHOD(GetSeries, GetSeriesRequest, Series)
ADOPTION_CLIENT_METHOD(ListSeries, ListSeriesRequest, ListSeriesResponse)
ADOPTION_CLIENT_METHOD(DeleteSeries, DeleteSeriesRequest, DeleteSeriesResponse)
ADOPTION_CLIENT_METHOD(ListFitters, ListFittersRequest, ListFittersResponse)
ADOPTION_CLIENT_METHOD(Fit, FitRequest, FitResponse)
ADOPTION_CLIENT_METHOD(CompareModels, CompareModelsRequest, CompareModelsResponse)
ADOPTION_CLIENT_METHOD(Forecast, ForecastRequest, ForecastResponse)
#undef ADOPTION_CLIENT_METHOD

}  // namespace adoption
