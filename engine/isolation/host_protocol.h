// The wire protocol between adoptiond and adoption-fitter-host.
//
// One stream socket (socketpair) per host process, one request at a time:
// the server writes a request frame, the host answers with one reply frame.
// A frame is a 4-byte little-endian payload length, then the payload; the
// payload's first byte is its MessageType. Fields are fixed-width
// little-endian integers, IEEE doubles as their 8 bytes (so numbers cross
// bit-exact), and strings / arrays as a 4-byte count then their elements.
//
//   host -> server, once, right after start:  kHello (descriptor or refusal)
//   server -> host:  kFit       -> kFitReply       (Fitter::RunInProcess)
//                    kPredict   -> kPredictReply   (the plugin's predict)
//                    kValidate  -> kValidateReply  (the plugin's validate_options)
//
// Decoding is bounds-checked: a truncated or garbled payload is an error,
// never a crash or an unbounded allocation. The host is the same build as
// the server (it is found next to adoptiond), so there is no version
// negotiation beyond kProtocolVersion in the hello.
#ifndef ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_
#define ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/plugins/fitter_registry.h"
#include "engine/store/series.h"

namespace adoption::isolation {

inline constexpr uint32_t kProtocolVersion = 2;
// Largest frame either side accepts (a request carries one series).
inline constexpr uint32_t kMaxFrameBytes = 256u << 20;

enum class MessageType : uint8_t {
  kHello = 1,
  kFit = 2,
  kFitReply = 3,
  kPredict = 4,
  kPredictReply = 5,
  kValidate = 6,
  kValidateReply = 7,
};

// What the server needs of a plugin's descriptor (the host loaded it).
struct DescriptorInfo {
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string name, version, description;
  uint32_t flags = 0;
  std::vector<std::pair<std::string, std::string>> params;  // name, description
  struct Option {
    std::string name, default_value, description;
  };
  std::vector<Option> options;
  bool has_validate_options = false;
  std::vector<PooledGrid> pooled;  // ABI 1.1 pooled options, as checked by the host
};

struct Hello {
  uint32_t protocol_version = kProtocolVersion;
  bool loaded = false;
  std::string refusal;  // why the plugin was refused, when !loaded
  DescriptorInfo descriptor;
};

struct FitRequest {
  std::vector<SeriesPoint> history;
  FitterOptions options;
  uint32_t max_iterations = 0;
  // Time left until the fit's deadline, nanoseconds; -1 = none.
  int64_t deadline_in_ns = -1;
  std::vector<double> predict_at;
  bool status_only = false;
};

struct PredictRequest {
  std::vector<double> params;
  FitterOptions options;
  std::vector<SeriesPoint> history;
  std::vector<double> t;
};

struct ValidateRequest {
  FitterOptions options;
};

// The type byte of a payload; error if empty or unknown.
absl::StatusOr<MessageType> TypeOf(std::string_view payload);

std::string Encode(const Hello& m);
std::string Encode(const FitRequest& m);
std::string EncodeFitReply(const FitRun& m);
std::string Encode(const PredictRequest& m);
// A status (code and message) or the values.
std::string EncodePredictReply(const absl::StatusOr<std::vector<double>>& m);
std::string Encode(const ValidateRequest& m);
std::string EncodeValidateReply(const absl::Status& m);

// Each fails (INVALID_ARGUMENT saying what) on a payload of another type,
// truncated, with trailing bytes or with out-of-range values.
absl::Status Decode(std::string_view payload, Hello* m);
absl::Status Decode(std::string_view payload, FitRequest* m);
absl::Status DecodeFitReply(std::string_view payload, FitRun* m);
absl::Status Decode(std::string_view payload, PredictRequest* m);
absl::Status DecodePredictReply(std::string_view payload, absl::StatusOr<std::vector<double>>* m);
absl::Status Decode(std::string_view payload, ValidateRequest* m);
absl::Status DecodeValidateReply(std::string_view payload, absl::Status* m);

// Frames on a blocking fd (the host's side): the whole frame or an error.
// ReadFrame returns NOT_FOUND at a clean end of stream (no byte of a new
// frame read).
absl::Status WriteFrameBlocking(int fd, std::string_view payload);
absl::Status ReadFrameBlocking(int fd, std::string* payload);

}  // namespace adoption::isolation

#endif  // ADOPTION_ENGINE_ISOLATION_HOST_PROTOCOL_H_
