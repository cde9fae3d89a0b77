#include "engine/isolation/host_protocol.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace adoption::isolation {
namespace {

class Writer {
 public:
  explicit Writer(MessageType type) { U8(static_cast<uint8_t>(type)); }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    U64(bits);
  }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void F64s(const std::vector<double>& v) {
    U32(static_cast<uint32_t>(v.size()));
    for (double d : v) F64(d);
  }
  void Points(const std::vector<SeriesPoint>& v) {
    U32(static_cast<uint32_t>(v.size()));
    for (const auto& p : v) {
      F64(p.t);
      F64(p.value);
    }
  }
  void Options(const FitterOptions& o) {
    U32(static_cast<uint32_t>(o.size()));
    for (const auto& [k, v] : o) {
      Str(k);
      Str(v);
    }
  }
  void Status(const absl::Status& s) {
    U32(static_cast<uint32_t>(s.code()));
    Str(std::string(s.message()));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Bounds-checked reads; the first failure sticks and later reads return
// zero values, so decoders check ok() once at the end.
class Reader {
 public:
  Reader(std::string_view in, MessageType type) : in_(in) {
    if (in_.empty() || static_cast<uint8_t>(in_[0]) != static_cast<uint8_t>(type)) {
      Fail(absl::StrCat("expected message type ", static_cast<int>(type)));
    } else {
      pos_ = 1;
    }
  }
  uint8_t U8() {
    if (!Need(1)) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t U32() {
    if (!Need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in_[pos_++])} << (8 * i);
    return v;
  }
  uint64_t U64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_++])} << (8 * i);
    return v;
  }
  int32_t I32() { return static_cast<int32_t>(U32()); }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64() {
    const uint64_t bits = U64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  bool Bool() {
    const uint8_t b = U8();
    if (b > 1) Fail("boolean out of range");
    return b == 1;
  }
  std::string Str() {
    const uint32_t n = U32();
    if (!Need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of elements of at least min_bytes each: never more than the
  // bytes left can hold, so a garbled count cannot allocate much.
  uint32_t Count(size_t min_bytes) {
    const uint32_t n = U32();
    if (ok_ && n > (in_.size() - pos_) / min_bytes) {
      Fail("element count exceeds the message");
      return 0;
    }
    return n;
  }
  std::vector<double> F64s() {
    std::vector<double> v(Count(8));
    for (double& d : v) d = F64();
    return v;
  }
  std::vector<SeriesPoint> Points() {
    std::vector<SeriesPoint> v(Count(16));
    for (auto& p : v) {
      p.t = F64();
      p.value = F64();
    }
    return v;
  }
  FitterOptions Options() {
    FitterOptions o;
    const uint32_t n = Count(8);
    for (uint32_t i = 0; i < n && ok_; ++i) {
      std::string k = Str();
      o[k] = Str();
    }
    return o;
  }
  absl::Status Status() {
    const uint32_t code = U32();
    std::string message = Str();
    if (code > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated)) {
      Fail("status code out of range");
      return absl::InternalError("");
    }
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  void Fail(std::string why) {
    if (ok_) error_ = std::move(why);
    ok_ = false;
  }
  absl::Status Finish() {
    if (ok_ && pos_ != in_.size()) Fail("trailing bytes");
    if (ok_) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("malformed message: ", error_));
  }

 private:
  bool Need(size_t n) {
    if (!ok_) return false;
    if (in_.size() - pos_ < n) {
      Fail("truncated");
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

absl::Status Errno(const char* what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<MessageType> TypeOf(std::string_view payload) {
  if (payload.empty()) return absl::InvalidArgumentError("malformed message: empty");
  const uint8_t t = static_cast<uint8_t>(payload[0]);
  if (t < 1 || t > 7) {
    return absl::InvalidArgumentError(absl::StrCat("malformed message: unknown type ", t));
  }
  return static_cast<MessageType>(t);
}

std::string Encode(const Hello& m) {
  Writer w(MessageType::kHello);
  w.U32(m.protocol_version);
  w.Bool(m.loaded);
  w.Str(m.refusal);
  const DescriptorInfo& d = m.descriptor;
  w.U32(d.abi_major);
  w.U32(d.abi_minor);
  w.Str(d.name);
  w.Str(d.version);
  w.Str(d.description);
  w.U32(d.flags);
  w.U32(static_cast<uint32_t>(d.params.size()));
  for (const auto& [name, description] : d.params) {
    w.Str(name);
    w.Str(description);
  }
  w.U32(static_cast<uint32_t>(d.options.size()));
  for (const auto& o : d.options) {
    w.Str(o.name);
    w.Str(o.default_value);
    w.Str(o.description);
  }
  w.Bool(d.has_validate_options);
  w.U32(static_cast<uint32_t>(d.pooled.size()));
  for (const PooledGrid& g : d.pooled) {
    w.Str(g.option);
    w.U32(static_cast<uint32_t>(g.default_index));
    w.U32(static_cast<uint32_t>(g.candidates.size()));
    for (const std::string& c : g.candidates) w.Str(c);
  }
  return w.Take();
}

absl::Status Decode(std::string_view payload, Hello* m) {
  Reader r(payload, MessageType::kHello);
  m->protocol_version = r.U32();
  m->loaded = r.Bool();
  m->refusal = r.Str();
  DescriptorInfo& d = m->descriptor;
  d.abi_major = r.U32();
  d.abi_minor = r.U32();
  d.name = r.Str();
  d.version = r.Str();
  d.description = r.Str();
  d.flags = r.U32();
  d.params.resize(r.Count(8));
  for (auto& [name, description] : d.params) {
    name = r.Str();
    description = r.Str();
  }
  d.options.resize(r.Count(12));
  for (auto& o : d.options) {
    o.name = r.Str();
    o.default_value = r.Str();
    o.description = r.Str();
  }
  d.has_validate_options = r.Bool();
  d.pooled.resize(r.Count(12));
  for (PooledGrid& g : d.pooled) {
    g.option = r.Str();
    g.default_index = r.U32();
    g.candidates.resize(r.Count(4));
    for (std::string& c : g.candidates) c = r.Str();
  }
  return r.Finish();
}

std::string Encode(const FitRequest& m) {
  Writer w(MessageType::kFit);
  w.Points(m.history);
  w.Options(m.options);
  w.U32(m.max_iterations);
  w.I64(m.deadline_in_ns);
  w.F64s(m.predict_at);
  w.Bool(m.status_only);
  return w.Take();
}

absl::Status Decode(std::string_view payload, FitRequest* m) {
  Reader r(payload, MessageType::kFit);
  m->history = r.Points();
  m->options = r.Options();
  m->max_iterations = r.U32();
  m->deadline_in_ns = r.I64();
  m->predict_at = r.F64s();
  m->status_only = r.Bool();
  return r.Finish();
}

std::string EncodeFitReply(const FitRun& m) {
  Writer w(MessageType::kFitReply);
  const FitOutcome& o = m.outcome;
  w.Str(o.fitter);
  w.U32(static_cast<uint32_t>(o.status));
  w.Str(o.message);
  w.U32(static_cast<uint32_t>(o.params.size()));
  for (const auto& p : o.params) {
    w.Str(p.name);
    w.F64(p.value);
    w.Bool(p.fixed);
    w.Bool(p.std_error.has_value());
    w.F64(p.std_error.value_or(0));
  }
  w.F64s(o.covariance);
  w.Str(o.covariance_note);
  w.Str(o.loss_name);
  w.F64(o.loss);
  w.I32(o.n);
  w.I32(o.k);
  w.I32(o.iterations);
  w.I32(o.starts);
  w.U32(static_cast<uint32_t>(o.derived.size()));
  for (const auto& [name, value] : o.derived) {
    w.Str(name);
    w.F64(value);
  }
  w.F64(o.seconds);
  w.Bool(o.forecast_baseline);
  w.Bool(o.cumulative_sse.has_value());
  w.F64(o.cumulative_sse.value_or(0));
  w.F64s(m.predictions);
  w.Str(m.predict_error);
  return w.Take();
}

absl::Status DecodeFitReply(std::string_view payload, FitRun* m) {
  Reader r(payload, MessageType::kFitReply);
  FitOutcome& o = m->outcome;
  o.fitter = r.Str();
  const uint32_t status = r.U32();
  if (status > static_cast<uint32_t>(FitStatus::kCancelled)) r.Fail("fit status out of range");
  o.status = static_cast<FitStatus>(status);
  o.message = r.Str();
  o.params.resize(r.Count(22));
  for (auto& p : o.params) {
    p.name = r.Str();
    p.value = r.F64();
    p.fixed = r.Bool();
    const bool has_se = r.Bool();
    const double se = r.F64();
    if (has_se) p.std_error = se;
  }
  o.covariance = r.F64s();
  o.covariance_note = r.Str();
  o.loss_name = r.Str();
  o.loss = r.F64();
  o.n = r.I32();
  o.k = r.I32();
  o.iterations = r.I32();
  o.starts = r.I32();
  o.derived.resize(r.Count(12));
  for (auto& [name, value] : o.derived) {
    name = r.Str();
    value = r.F64();
  }
  o.seconds = r.F64();
  o.forecast_baseline = r.Bool();
  const bool has_sse = r.Bool();
  const double sse = r.F64();
  if (has_sse) o.cumulative_sse = sse;
  m->predictions = r.F64s();
  m->predict_error = r.Str();
  return r.Finish();
}

std::string Encode(const PredictRequest& m) {
  Writer w(MessageType::kPredict);
  w.F64s(m.params);
  w.Options(m.options);
  w.Points(m.history);
  w.F64s(m.t);
  return w.Take();
}

absl::Status Decode(std::string_view payload, PredictRequest* m) {
  Reader r(payload, MessageType::kPredict);
  m->params = r.F64s();
  m->options = r.Options();
  m->history = r.Points();
  m->t = r.F64s();
  return r.Finish();
}

std::string EncodePredictReply(const absl::StatusOr<std::vector<double>>& m) {
  Writer w(MessageType::kPredictReply);
  w.Status(m.status());
  w.F64s(m.ok() ? *m : std::vector<double>{});
  return w.Take();
}

absl::Status DecodePredictReply(std::string_view payload, absl::StatusOr<std::vector<double>>* m) {
  Reader r(payload, MessageType::kPredictReply);
  absl::Status s = r.Status();
  std::vector<double> values = r.F64s();
  if (absl::Status f = r.Finish(); !f.ok()) return f;
  if (s.ok()) {
    *m = std::move(values);
  } else {
    *m = s;
  }
  return absl::OkStatus();
}

std::string Encode(const ValidateRequest& m) {
  Writer w(MessageType::kValidate);
  w.Options(m.options);
  return w.Take();
}

absl::Status Decode(std::string_view payload, ValidateRequest* m) {
  Reader r(payload, MessageType::kValidate);
  m->options = r.Options();
  return r.Finish();
}

std::string EncodeValidateReply(const absl::Status& m) {
  Writer w(MessageType::kValidateReply);
  w.Status(m);
  return w.Take();
}

absl::Status DecodeValidateReply(std::string_view payload, absl::Status* m) {
  Reader r(payload, MessageType::kValidateReply);
  *m = r.Status();
  return r.Finish();
}

absl::Status WriteFrameBlocking(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) {
    return absl::ResourceExhaustedError("frame too large");
  }
  std::string frame;
  frame.reserve(4 + payload.size());
  const uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) frame.push_back(static_cast<char>(n >> (8 * i)));
  frame.append(payload.data(), payload.size());
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t w = send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    done += static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status ReadFrameBlocking(int fd, std::string* payload) {
  auto read_exact = [fd](char* buf, size_t n, bool* eof_at_start) -> absl::Status {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = read(fd, buf + done, n - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("read");
      }
      if (r == 0) {
        if (done == 0 && eof_at_start != nullptr) *eof_at_start = true;
        return absl::UnavailableError("end of stream inside a frame");
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  };
  unsigned char header[4];
  bool eof = false;
  if (absl::Status s = read_exact(reinterpret_cast<char*>(header), 4, &eof); !s.ok()) {
    return eof ? absl::NotFoundError("end of stream") : s;
  }
  const uint32_t n = uint32_t{header[0]} | uint32_t{header[1]} << 8 | uint32_t{header[2]} << 16 |
                     uint32_t{header[3]} << 24;
  if (n > kMaxFrameBytes) return absl::InvalidArgumentError("frame too large");
  payload->assign(n, '\0');
  return read_exact(payload->data(), n, nullptr);
}

}  // namespace adoption::isolation
