#include "engine/service/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace adoption {
namespace {

constexpr char kPrefix[] = "v2:";
constexpr size_t kFingerprintDigits = 16;

void Mix(uint64_t* h, absl::string_view bytes) {
  constexpr uint64_t kPrime = 0x100000001b3;
  for (unsigned char c : bytes) {
    *h ^= c;
    *h *= kPrime;
  }
}

void MixField(uint64_t* h, const std::string& s) {
  // The length first, so that {"ab": "c"} and {"a": "bc"} differ.
  Mix(h, absl::StrCat(s.size(), ":"));
  Mix(h, s);
}

}  // namespace

uint64_t FilterFingerprint(const std::map<std::string, std::string>& metadata_filter) {
  uint64_t h = 0xcbf29ce484222325;  // FNV-1a offset basis
  for (const auto& [key, value] : metadata_filter) {
    MixField(&h, key);
    MixField(&h, value);
  }
  return h;
}

std::string EncodePageToken(const std::map<std::string, std::string>& metadata_filter,
                            const std::string& last_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      kPrefix, absl::StrFormat("%016x", FilterFingerprint(metadata_filter)), ":", last_id));
}

absl::StatusOr<std::string> DecodePageToken(
    const std::string& token, const std::map<std::string, std::string>& metadata_filter) {
  std::string raw;
  absl::string_view rest;
  uint64_t fingerprint = 0;
  bool ok = absl::WebSafeBase64Unescape(token, &raw);
  if (ok) {
    rest = raw;
    ok = absl::ConsumePrefix(&rest, kPrefix) && rest.size() > kFingerprintDigits &&
         rest[kFingerprintDigits] == ':' &&
         absl::SimpleHexAtoi(rest.substr(0, kFingerprintDigits), &fingerprint);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "page_token: not a token returned by ListSeries (or one from an older server); "
        "list again without page_token");
  }
  if (fingerprint != FilterFingerprint(metadata_filter)) {
    return absl::InvalidArgumentError(
        "page_token: returned for another metadata_filter; pass the filter of the listing it "
        "came from, or list again without page_token");
  }
  return std::string(rest.substr(kFingerprintDigits + 1));
}

}  // namespace adoption
