#include "engine/service/token_auth.h"

#include <google/protobuf/descriptor.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "adoption/v1/adoption.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace adoption {
namespace {

// Services every caller may use without the token.
constexpr absl::string_view kOpenPrefixes[] = {"/grpc.health.v1.Health/",
                                               "/grpc.reflection.v1alpha.ServerReflection/"};

absl::string_view View(const grpc::string_ref& s) { return {s.data(), s.size()}; }

// The AdoptionService method a :path names, or "" for anything else (the
// path is the caller's text: only known names reach logs and metrics).
std::string KnownMethod(absl::string_view path) {
  const std::string prefix = absl::StrCat("/", v1::AdoptionService::service_full_name(), "/");
  if (!absl::ConsumePrefix(&path, prefix)) return "";
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::AdoptionService::service_full_name());
  if (service == nullptr || service->FindMethodByName(std::string(path)) == nullptr) return "";
  return std::string(path);
}

}  // namespace

bool ConstantTimeEquals(const char* presented, size_t presented_size, const std::string& expected) {
  unsigned char diff = presented_size == expected.size() ? 0 : 1;
  for (size_t i = 0; i < presented_size; ++i) {
    diff |= static_cast<unsigned char>(presented[i] ^ expected[i % expected.size()]);
  }
  return diff == 0;
}

BearerTokenAuth::BearerTokenAuth(std::string token, Metrics* metrics)
    : expected_(absl::StrCat("Bearer ", token)), metrics_(metrics) {}

grpc::Status BearerTokenAuth::Process(const InputMetadata& auth_metadata, grpc::AuthContext*,
                                      OutputMetadata*, OutputMetadata*) {
  absl::string_view path;
  const grpc::string_ref* authorization = nullptr;
  for (const auto& [key, value] : auth_metadata) {
    const absl::string_view k = View(key);
    if (k == ":path" && path.empty()) path = View(value);
    if (k == "authorization" && authorization == nullptr) authorization = &value;
  }
  for (absl::string_view open : kOpenPrefixes) {
    if (absl::StartsWith(path, open)) return grpc::Status::OK;
  }
  const char* refusal = nullptr;
  if (authorization == nullptr) {
    refusal = "missing credentials: send metadata \"authorization: Bearer <token>\"";
  } else if (!ConstantTimeEquals(authorization->data(), authorization->size(), expected_)) {
    refusal = "invalid bearer token";
  } else {
    return grpc::Status::OK;
  }
  const std::string method = KnownMethod(path);
  if (metrics_ != nullptr && !method.empty()) metrics_->RecordRpc(method, "UNAUTHENTICATED", 0);
  spdlog::warn("event=rpc method={} code={} latency_ms=0.00 stage=auth message=\"{}\"",
               method.empty() ? "unknown" : method,
               static_cast<int>(grpc::StatusCode::UNAUTHENTICATED), refusal);
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, refusal);
}

}  // namespace adoption
