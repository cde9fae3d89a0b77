// The protocol between adoptiond and adoption-fitter-host: the messages of
// engine/isolation/host_protocol.proto over one stream socket (socketpair)
// per host process, one request at a time (the server writes a ToHost, the
// host answers with one FromHost). Each message is framed as protobuf's
// delimited format: its size as a varint, then its bytes (what
// google::protobuf::util::SerializeDelimitedToFileDescriptor writes).
//
// Reading is bounded: a size over kMaxMessageBytes is refused before any
// allocation, a short frame is an end of stream inside it, and bytes that
// do not parse, or a reply of another kind than the request's, are errors,
// never a crash. The host is the same build as the server (it is found next
// to adoptiond), so there is no negotiation beyond kProtocolVersion in the
// hello.
#ifndef ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_
#define ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/isolation/host_protocol.pb.h"
#include "engine/plugins/fit_outcome.h"
#include "engine/store/series.h"
#include "google/protobuf/io/zero_copy_stream.h"

namespace adoption::isolation {

inline constexpr uint32_t kProtocolVersion = 3;
// Largest message either side accepts (a request carries one series).
inline constexpr uint32_t kMaxMessageBytes = 256u << 20;
// Longest size prefix (a varint of 32 bits).
inline constexpr size_t kMaxFramePrefixBytes = 5;

using WireOptions = google::protobuf::Map<std::string, std::string>;

// The engine's types on the wire. The FromWire conversions fail
// (INVALID_ARGUMENT saying what) on values a healthy peer never sends.
void ToWire(const std::vector<SeriesPoint>& points, wire::Points* out);
void ToWire(const FitterOptions& options, WireOptions* out);
void ToWire(const FitRun& run, wire::FitReply* out);
void ToWire(const absl::Status& status, wire::Status* out);
void ToWire(const absl::StatusOr<std::vector<double>>& values, wire::PredictReply* out);
absl::Status FromWire(const wire::Points& in, std::vector<SeriesPoint>* out);
FitterOptions FromWire(const WireOptions& in);
absl::Status FromWire(const wire::FitReply& in, FitRun* out);
absl::Status FromWire(const wire::Status& in, absl::Status* out);
absl::Status FromWire(const wire::PredictReply& in, absl::StatusOr<std::vector<double>>* out);

// A host's message, which must be of the expected kind (INVALID_ARGUMENT
// otherwise, or if it does not parse).
absl::Status ParseFromHost(std::string_view bytes, wire::FromHost::KindCase expected,
                           wire::FromHost* m);

// The server's side (non-blocking, engine/isolation/host_pool.cc).
// m framed; RESOURCE_EXHAUSTED over kMaxMessageBytes.
absl::StatusOr<std::string> Frame(const google::protobuf::MessageLite& m);
// The size prefix of a frame from its first bytes: *prefix_bytes is 0 while
// they do not hold it all. INVALID_ARGUMENT ("length N") for a size over
// kMaxMessageBytes or a prefix that is no varint.
absl::Status ParseFramePrefix(std::string_view bytes, size_t* prefix_bytes, uint32_t* size);

// The host's side (a blocking fd). ReadMessage returns NOT_FOUND at a clean
// end of stream (no byte of a new message read); in must be the same stream
// for every message (it reads ahead).
absl::Status WriteMessage(int fd, const google::protobuf::MessageLite& m);
absl::Status ReadMessage(google::protobuf::io::ZeroCopyInputStream* in,
                         google::protobuf::MessageLite* m);

}  // namespace adoption::isolation

#endif  // ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_
