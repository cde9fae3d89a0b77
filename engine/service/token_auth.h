// BearerTokenAuth: checks "authorization: Bearer <token>" in gRPC's
// security layer, before a call's request message is read.
//
// Why here and not only in the handlers (AdoptionServiceImpl::Authorize):
// gRPC's synchronous server reads and parses a call's whole request (up to
// --max-message-mb, after decompression) before it runs the handler, so a
// caller without the token could make the server hold a large body just to
// be refused. An AuthMetadataProcessor runs when the call's headers arrive:
// a refused call is cancelled then, and its body is never taken in beyond
// what HTTP/2 flow control lets the transport buffer (tens of KiB).
//
// gRPC 1.51 runs processors only on secure credentials: TLS (--tls-cert),
// or LocalServerCredentials(LOCAL_TCP), which serves plaintext HTTP/2 to
// loopback peers only (what an insecure loopback --listen serves anyway).
// InsecureServerCredentials() aborts the process if given one
// (insecure_server_credentials.cc: GPR_ASSERT(0)). So a plaintext listener on
// a non-loopback address checks the token in the handlers only; adoptiond
// warns about that configuration (it sends the token in clear, too).
//
// Health checks (grpc.health.v1) and reflection stay open, as in the
// handlers. Refusals are logged and counted like the handlers' own
// (event=rpc ... code=16; adoption_rpc_requests_total{code="UNAUTHENTICATED"}).
#ifndef ADOPTION_ENGINE_SERVICE_TOKEN_AUTH_H_
#define ADOPTION_ENGINE_SERVICE_TOKEN_AUTH_H_

#include <memory>
#include <string>

#include <grpcpp/security/auth_metadata_processor.h>

#include "engine/service/metrics.h"

namespace adoption {

class BearerTokenAuth final : public grpc::AuthMetadataProcessor {
 public:
  // token: what callers must present (non-empty). metrics may be null; not
  // owned, must outlive the server.
  BearerTokenAuth(std::string token, Metrics* metrics);

  // A string comparison: runs on gRPC's transport thread, never blocks.
  bool IsBlocking() const override { return false; }

  // OK for health and reflection, and for calls with the right token;
  // UNAUTHENTICATED otherwise (the call is then cancelled by gRPC).
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const std::string expected_;  // "Bearer <token>"
  Metrics* metrics_;
};

// True when `presented` equals `expected`, in a time that does not depend
// on where they differ (a refusal's timing does not reveal a prefix).
bool ConstantTimeEquals(const char* presented, size_t presented_size, const std::string& expected);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_TOKEN_AUTH_H_
