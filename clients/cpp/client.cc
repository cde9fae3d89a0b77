#include "adoption/client.h"

#include <cstdlib>

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace adoption {

absl::Status ClientOptions::Validate() const {
  if (timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout: must be positive, got ", absl::FormatDuration(timeout)));
  }
  if (max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_receive_message_bytes: must be positive, got ", max_receive_message_bytes));
  }
  // gRPC refuses (or aborts on) metadata values outside printable ASCII; a
  // token read from a file with a stray newline must fail here, clearly.
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(
          "token: must be printable ASCII without spaces or line breaks");
    }
  }
  return absl::OkStatus();
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string DefaultServerAddress() {
  const char* env = std::getenv("ADOPTION_SERVER");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:50051";
}

absl::StatusOr<std::unique_ptr<AdoptionClient>> AdoptionClient::Connect(
    const std::string& address, const ClientOptions& options) {
  if (address.empty()) {
    return absl::InvalidArgumentError("address: must not be empty");
  }
  if (absl::Status s = options.Validate(); !s.ok()) return s;
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
  auto channel = grpc::CreateCustomChannel(address, creds, args);
  return std::unique_ptr<AdoptionClient>(
      new AdoptionClient(v1::AdoptionService::NewStub(channel), options));
}

AdoptionClient::AdoptionClient(std::unique_ptr<v1::AdoptionService::Stub> stub,
                               ClientOptions options)
    : stub_(std::move(stub)), options_(std::move(options)) {}

void AdoptionClient::Prepare(grpc::ClientContext* context, const CallOptions& call) const {
  const absl::Duration timeout = call.timeout.value_or(options_.timeout);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> AdoptionClient::Call(Method method, const Request& request,
                                              const CallOptions& call) {
  grpc::ClientContext context;
  Prepare(&context, call);
  Response response;
  const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

#define ADOPTION_CLIENT_METHOD(Name, Request, Response)                                      \
  absl::StatusOr<v1::Response> AdoptionClient::Name(const v1::Request& request,              \
                                                    const CallOptions& call) {               \
    return Call<v1::Request, v1::Response>(&v1::AdoptionService::Stub::Name, request, call); \
  }
ADOPTION_CLIENT_METHOD(UpsertSeries, UpsertSeriesRequest, UpsertSeriesResponse)
ADOPTION_CLIENT_METHOD(GetSeries, GetSeriesRequest, Series)
ADOPTION_CLIENT_METHOD(ListSeries, ListSeriesRequest, ListSeriesResponse)
ADOPTION_CLIENT_METHOD(DeleteSeries, DeleteSeriesRequest, DeleteSeriesResponse)
ADOPTION_CLIENT_METHOD(ListFitters, ListFittersRequest, ListFittersResponse)
ADOPTION_CLIENT_METHOD(Fit, FitRequest, FitResponse)
ADOPTION_CLIENT_METHOD(CompareModels, CompareModelsRequest, CompareModelsResponse)
ADOPTION_CLIENT_METHOD(Forecast, ForecastRequest, ForecastResponse)
ADOPTION_CLIENT_METHOD(Predict, PredictRequest, PredictResponse)
ADOPTION_CLIENT_METHOD(AppendPoints, AppendPointsRequest, AppendPointsResponse)
#undef ADOPTION_CLIENT_METHOD

absl::Status AdoptionClient::CompareModelsStream(
    const v1::CompareModelsRequest& request,
    const std::function<bool(const v1::CompareModelsEvent&)>& on_event, const CallOptions& call) {
  grpc::ClientContext context;
  Prepare(&context, call);
  std::unique_ptr<grpc::ClientReader<v1::CompareModelsEvent>> reader =
      stub_->CompareModelsStream(&context, request);
  v1::CompareModelsEvent event;
  bool stopped = false;
  while (reader->Read(&event)) {
    if (!on_event(event)) {
      stopped = true;
      context.TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (stopped) return absl::CancelledError("stopped by the caller");
  return FromGrpcStatus(status);
}

absl::StatusOr<v1::CompareModelsResponse> AdoptionClient::CompareModelsWithProgress(
    const v1::CompareModelsRequest& request,
    const std::function<void(const v1::CompareProgress&)>& on_progress, const CallOptions& call) {
  v1::CompareModelsResponse response;
  std::vector<v1::SeriesReport> series;
  bool summary = false;
  absl::Status status = CompareModelsStream(
      request,
      [&](const v1::CompareModelsEvent& e) {
        switch (e.event_case()) {
          case v1::CompareModelsEvent::kProgress:
            if (on_progress) on_progress(e.progress());
            break;
          case v1::CompareModelsEvent::kSeries:
            for (const auto& r : e.series().reports()) series.push_back(r);
            break;
          case v1::CompareModelsEvent::kSummary:
            response = e.summary();
            summary = true;
            break;
          default:
            break;
        }
        return true;
      },
      call);
  if (!status.ok()) return status;
  if (!summary) return absl::InternalError("the comparison stream ended without its summary");
  response.mutable_series()->Reserve(static_cast<int>(series.size()));
  for (auto& r : series) *response.add_series() = std::move(r);
  return response;
}

}  // namespace adoption
