// ListSeries page tokens: where the next page starts, bound to the filter
// that listed the previous one.
//
// A token is opaque to clients: websafe base64 of
//   "v2:" <16 hex digits: FilterFingerprint(metadata_filter)> ":" <last id>
// Listing resumes after the last id (keyset paging, stable under writes).
// A token returned for one metadata_filter and presented with another is
// refused (INVALID_ARGUMENT on page_token) rather than silently continuing
// the other listing from a place it never reached. Tokens are not secrets
// and not signed: a forged one only starts a listing the caller could ask
// for directly.
#ifndef ADOPTION_ENGINE_SERVICE_PAGE_TOKEN_H_
#define ADOPTION_ENGINE_SERVICE_PAGE_TOKEN_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace adoption {

// The token for the page after `last_id` of the listing with this filter.
std::string EncodePageToken(const std::map<std::string, std::string>& metadata_filter,
                            const std::string& last_id);

// The last id of the previous page, or INVALID_ARGUMENT naming page_token
// when `token` was not made by EncodePageToken or was made for another
// metadata_filter (tokens of earlier servers, "after:<id>", included: the
// listing starts again without one).
absl::StatusOr<std::string> DecodePageToken(
    const std::string& token, const std::map<std::string, std::string>& metadata_filter);

// A stable 64-bit fingerprint of a filter (FNV-1a over the length-prefixed
// keys and values in key order): the same in every process and release.
uint64_t FilterFingerprint(const std::map<std::string, std::string>& metadata_filter);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_PAGE_TOKEN_H_
