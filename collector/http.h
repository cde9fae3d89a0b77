// The Hub's HTTP conventions, as the collector uses them: one GET with the
// official client's retry and back-off policy, rate-limit headers, Link
// pagination and percent-encoding (collector/hub_api.md).
//
// Libraries: cpp-httplib (Debian libcpp-httplib-dev, built with OpenSSL, so
// https:// works with the system's CA store) for HTTP, and nlohmann-json for
// JSON. cpp-httplib is already the project's HTTP server (metrics, test
// fixtures), is small, synchronous and easy to drive one request at a time,
// which is all a rate-limited crawler needs; libcurl would add a second HTTP
// stack for features (HTTP/2, many protocols) the collector does not use.
// Proxies: HTTPS_PROXY / HTTP_PROXY (host:port) are honoured.
//
// "Request the next link verbatim": cpp-httplib percent-decodes response
// header values and re-encodes a request's path (space, '+', ',', ';', ...)
// when it sends it, so a Link or Location URL goes back out equivalent to
// what the Hub sent for every character a base64 cursor or a repo id holds
// (the fixture's cursors are real base64 with '+', '/' and '='). A cursor
// holding a literal '&' or '%' would not survive; the Hub's do not.
#ifndef ADOPTION_COLLECTOR_HTTP_H_
#define ADOPTION_COLLECTOR_HTTP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace adoption::hub {

// Time as the collector sees it. Tests substitute a virtual clock so that
// back-off and rate-limit waits take no real time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  virtual void SleepFor(absl::Duration d) = 0;
};
// absl::Now() and absl::SleepFor(). Never null; not owned.
Clock* RealClock();

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(absl::string_view text);
// Same, keeping '/' (for "owner/name" in a path).
std::string PercentEncodePath(absl::string_view text);

// The target of the rel="next" link in a Link header value (several links
// may be comma-separated; rel may be quoted or not, and hold several
// space-separated relations). nullopt when there is none.
std::optional<std::string> NextLink(absl::string_view link_header);

// `RateLimit: "api";r=<remaining>;t=<seconds to reset>`.
struct RateLimit {
  int64_t remaining = -1;  // -1: header absent or unreadable
  int64_t reset_seconds = -1;
};
RateLimit ParseRateLimit(absl::string_view header);

struct HttpResponse {
  int status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string url;                                  // the URL that produced this response
  // The header's first value, or "" (name case-insensitive).
  std::string Header(absl::string_view name) const;
  // Every value of a header (e.g. several Link headers).
  std::vector<std::string> Headers(absl::string_view name) const;
};

// Counters of one collector run, for progress lines and tests.
struct HttpStats {
  int64_t requests = 0;  // HTTP requests sent (retries included)
  int64_t retries = 0;   // of which retries after a failure
  int64_t rate_limit_waits = 0;
  absl::Duration waited = absl::ZeroDuration();  // back-off + rate limits
  RateLimit last_rate_limit;
};

struct HttpOptions {
  std::string token;  // "" = anonymous; sent as "Authorization: Bearer"
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration read_timeout = absl::Seconds(60);
  int max_retries = 5;  // after the first attempt (the official client's 5)
  // When the rate limit's remaining count drops to this or below, requests
  // are spread over the rest of the window instead of running into a 429.
  int slow_down_below = 10;
  Clock* clock = nullptr;  // default RealClock()
  // Called before each wait with the reason ("rate limit", "HTTP 503", ...).
  std::function<void(absl::Duration, const std::string&)> on_wait;
};

// GETs absolute URLs, one at a time, with retries. Not thread-safe.
class HubHttp {
 public:
  explicit HubHttp(HttpOptions options);
  ~HubHttp();
  HubHttp(const HubHttp&) = delete;
  HubHttp& operator=(const HubHttp&) = delete;

  // GET url (absolute http:// or https://). Retries 408, 429, 500, 502, 503,
  // 504 and network errors up to max_retries times: on 429 with r=0 it
  // waits t+1 s, else Retry-After+1 s, else 1, 2, 4, 8, 8 s. Redirects are
  // not followed (the caller decides). Returns the final response, whatever
  // its status; UNAVAILABLE when the network failed on every attempt.
  absl::StatusOr<HttpResponse> Get(const std::string& url);

  const HttpStats& stats() const { return stats_; }

 private:
  struct Connection;
  absl::StatusOr<Connection*> ConnectionFor(const std::string& url, std::string* path);
  void Wait(absl::Duration d, const std::string& reason, bool rate_limit);

  HttpOptions options_;
  Clock* clock_;
  std::map<std::string, std::unique_ptr<Connection>> connections_;
  HttpStats stats_;
};

}  // namespace adoption::hub

#endif  // ADOPTION_COLLECTOR_HTTP_H_
