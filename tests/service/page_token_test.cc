// Page tokens: round trip, and bound to their filter.
#include "engine/service/page_token.h"

#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::StartsWith;
using Filter = std::map<std::string, std::string>;

TEST(PageTokenTest, RoundTrip) {
  const Filter meta = {{"company", "Meta"}};
  for (const std::string id : {"meta-llama/Llama-2-7b", "a:b:c", "", "日本"}) {
    absl::StatusOr<std::string> back = DecodePageToken(EncodePageToken(meta, id), meta);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, id);
  }
  absl::StatusOr<std::string> none = DecodePageToken(EncodePageToken({}, "x"), {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "x");
}

// The probe: a token from one filter continued another listing.
TEST(PageTokenTest, ATokenOfAnotherFilterIsRefused) {
  const std::string token = EncodePageToken({{"company", "Meta"}}, "meta-llama/Llama-2-7b");
  for (const Filter& other : {Filter{}, Filter{{"company", "Google"}},
                              Filter{{"company", "Meta"}, {"relation", "finetune"}}}) {
    absl::StatusOr<std::string> r = DecodePageToken(token, other);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()),
                StartsWith("page_token: returned for another metadata_filter"));
  }
}

TEST(PageTokenTest, FingerprintSeparatesKeysFromValues) {
  EXPECT_NE(FilterFingerprint({{"ab", "c"}}), FilterFingerprint({{"a", "bc"}}));
  EXPECT_NE(FilterFingerprint({}), FilterFingerprint({{"", ""}}));
  // Stable across processes and releases (tokens outlive a restart).
  EXPECT_EQ(FilterFingerprint({}), 0xcbf29ce484222325u);
}

TEST(PageTokenTest, ForeignAndOldTokensAreRefused) {
  for (const std::string token :
       {std::string("not base64!"), absl::WebSafeBase64Escape("after:meta-llama/x"),
        absl::WebSafeBase64Escape("v2:zz:x"), absl::WebSafeBase64Escape("v2:0123456789abcdef")}) {
    absl::StatusOr<std::string> r = DecodePageToken(token, {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_THAT(std::string(r.status().message()),
                StartsWith("page_token: not a token returned by ListSeries"));
  }
}

}  // namespace
}  // namespace adoption
