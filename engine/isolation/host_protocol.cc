#include "engine/isolation/host_protocol.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"

namespace adoption::isolation {

using google::protobuf::io::CodedInputStream;

void ToWire(const std::vector<SeriesPoint>& points, wire::Points* out) {
  out->mutable_t()->Reserve(static_cast<int>(points.size()));
  out->mutable_value()->Reserve(static_cast<int>(points.size()));
  for (const SeriesPoint& p : points) {
    out->add_t(p.t);
    out->add_value(p.value);
  }
}

void ToWire(const FitterOptions& options, WireOptions* out) {
  out->insert(options.begin(), options.end());
}

void ToWire(const FitRun& run, wire::FitReply* out) {
  const FitOutcome& o = run.outcome;
  out->set_fitter(o.fitter);
  out->set_status(static_cast<uint32_t>(o.status));
  out->set_message(o.message);
  for (const FittedParameter& p : o.params) {
    wire::FitReply::Param* w = out->add_params();
    w->set_name(p.name);
    w->set_value(p.value);
    w->set_fixed(p.fixed);
    if (p.std_error) w->set_std_error(*p.std_error);
    w->set_at_bound(p.at_bound);
  }
  out->mutable_covariance()->Add(o.covariance.begin(), o.covariance.end());
  out->set_covariance_note(o.covariance_note);
  out->set_loss_name(o.loss_name);
  out->set_loss(o.loss);
  out->set_n(o.n);
  out->set_k(o.k);
  out->set_iterations(o.iterations);
  out->set_starts(o.starts);
  for (const auto& [name, value] : o.derived) {
    wire::FitReply::Derived* w = out->add_derived();
    w->set_name(name);
    w->set_value(value);
  }
  out->set_seconds(o.seconds);
  out->set_forecast_baseline(o.forecast_baseline);
  if (o.cumulative_sse) out->set_cumulative_sse(*o.cumulative_sse);
  out->mutable_predictions()->Add(run.predictions.begin(), run.predictions.end());
  out->set_predict_error(run.predict_error);
}

void ToWire(const absl::Status& status, wire::Status* out) {
  out->set_code(static_cast<uint32_t>(status.code()));
  out->set_message(std::string(status.message()));
}

void ToWire(const absl::StatusOr<std::vector<double>>& values, wire::PredictReply* out) {
  ToWire(values.status(), out->mutable_status());
  if (values.ok()) out->mutable_values()->Add(values->begin(), values->end());
}

absl::Status FromWire(const wire::Points& in, std::vector<SeriesPoint>* out) {
  if (in.t_size() != in.value_size()) {
    return absl::InvalidArgumentError("as many times as values expected");
  }
  out->resize(in.t_size());
  for (int i = 0; i < in.t_size(); ++i) (*out)[i] = {in.t(i), in.value(i)};
  return absl::OkStatus();
}

FitterOptions FromWire(const WireOptions& in) {
  FitterOptions out;
  for (const auto& [name, value] : in) out.emplace(name, value);
  return out;
}

absl::Status FromWire(const wire::FitReply& in, FitRun* out) {
  if (in.status() > static_cast<uint32_t>(FitStatus::kCancelled)) {
    return absl::InvalidArgumentError("fit status out of range");
  }
  FitOutcome& o = out->outcome;
  o.fitter = in.fitter();
  o.status = static_cast<FitStatus>(in.status());
  o.message = in.message();
  o.params.clear();
  for (const wire::FitReply::Param& p : in.params()) {
    o.params.push_back({p.name(), p.value(), p.fixed(),
                        p.has_std_error() ? std::optional<double>(p.std_error()) : std::nullopt,
                        p.at_bound()});
  }
  o.covariance.assign(in.covariance().begin(), in.covariance().end());
  o.covariance_note = in.covariance_note();
  o.loss_name = in.loss_name();
  o.loss = in.loss();
  o.n = in.n();
  o.k = in.k();
  o.iterations = in.iterations();
  o.starts = in.starts();
  o.derived.clear();
  for (const wire::FitReply::Derived& d : in.derived()) o.derived.emplace_back(d.name(), d.value());
  o.seconds = in.seconds();
  o.forecast_baseline = in.forecast_baseline();
  o.cumulative_sse =
      in.has_cumulative_sse() ? std::optional<double>(in.cumulative_sse()) : std::nullopt;
  out->predictions.assign(in.predictions().begin(), in.predictions().end());
  out->predict_error = in.predict_error();
  return absl::OkStatus();
}

absl::Status FromWire(const wire::Status& in, absl::Status* out) {
  if (in.code() > static_cast<uint32_t>(absl::StatusCode::kUnauthenticated)) {
    return absl::InvalidArgumentError("status code out of range");
  }
  *out = absl::Status(static_cast<absl::StatusCode>(in.code()), in.message());
  return absl::OkStatus();
}

absl::Status FromWire(const wire::PredictReply& in, absl::StatusOr<std::vector<double>>* out) {
  absl::Status status;
  if (absl::Status s = FromWire(in.status(), &status); !s.ok()) return s;
  if (status.ok()) {
    *out = std::vector<double>(in.values().begin(), in.values().end());
  } else {
    *out = status;
  }
  return absl::OkStatus();
}

absl::Status ParseFromHost(std::string_view bytes, wire::FromHost::KindCase expected,
                           wire::FromHost* m) {
  if (!m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("does not parse");
  }
  if (m->kind_case() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("message kind ", m->kind_case(), " where ", expected, " was expected"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Frame(const google::protobuf::MessageLite& m) {
  if (m.ByteSizeLong() > kMaxMessageBytes) return absl::ResourceExhaustedError("message too large");
  std::string frame;
  google::protobuf::io::StringOutputStream out(&frame);
  if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(m, &out)) {
    return absl::InternalError("cannot serialize");
  }
  return frame;
}

absl::Status ParseFramePrefix(std::string_view bytes, size_t* prefix_bytes, uint32_t* size) {
  *prefix_bytes = 0;
  const size_t n = std::min(bytes.size(), kMaxFramePrefixBytes);
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(n));
  if (!in.ReadVarint32(size)) {
    if (n < kMaxFramePrefixBytes) return absl::OkStatus();  // more to come
    return absl::InvalidArgumentError("length is no varint");
  }
  if (*size > kMaxMessageBytes) return absl::InvalidArgumentError(absl::StrCat("length ", *size));
  *prefix_bytes = static_cast<size_t>(in.CurrentPosition());
  return absl::OkStatus();
}

absl::Status WriteMessage(int fd, const google::protobuf::MessageLite& m) {
  if (m.ByteSizeLong() > kMaxMessageBytes) return absl::ResourceExhaustedError("message too large");
  if (!google::protobuf::util::SerializeDelimitedToFileDescriptor(m, fd)) {
    return absl::UnavailableError("write failed");
  }
  return absl::OkStatus();
}

absl::Status ReadMessage(google::protobuf::io::ZeroCopyInputStream* in,
                         google::protobuf::MessageLite* m) {
  // google::protobuf::util::ParseDelimitedFromCodedStream, with the size
  // checked before anything is read.
  CodedInputStream coded(in);
  uint32_t size = 0;
  if (!coded.ReadVarint32(&size)) {
    if (coded.CurrentPosition() == 0) return absl::NotFoundError("end of stream");
    return absl::UnavailableError("end of stream inside a frame");
  }
  if (size > kMaxMessageBytes) return absl::InvalidArgumentError("frame too large");
  const int start = coded.CurrentPosition();
  const CodedInputStream::Limit limit = coded.PushLimit(static_cast<int>(size));
  if (!m->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage() ||
      coded.CurrentPosition() - start != static_cast<int>(size)) {
    return absl::InvalidArgumentError("malformed message");
  }
  coded.PopLimit(limit);
  return absl::OkStatus();
}

}  // namespace adoption::isolation
