#include "collector/http.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "httplib.h"

namespace adoption::hub {
namespace {

class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void SleepFor(absl::Duration d) override { absl::SleepFor(d); }
};

bool Unreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

std::string Encode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

bool Retryable(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

// The official client's back-off when the server gives no hint.
absl::Duration Backoff(int attempt) {
  static constexpr int kSeconds[] = {1, 2, 4, 8, 8};
  return absl::Seconds(kSeconds[std::min(attempt, 4)]);
}

// "host:port" from a proxy variable ("http://host:port", "host:port").
bool ParseProxy(absl::string_view value, std::string* host, int* port) {
  absl::ConsumePrefix(&value, "http://");
  absl::ConsumePrefix(&value, "https://");
  value = value.substr(0, value.find('/'));
  if (const size_t at = value.rfind('@'); at != absl::string_view::npos) {
    value.remove_prefix(at + 1);  // credentials are not supported
  }
  const size_t colon = value.rfind(':');
  if (colon == absl::string_view::npos) return false;
  *host = std::string(value.substr(0, colon));
  return absl::SimpleAtoi(value.substr(colon + 1), port) && !host->empty();
}

}  // namespace

Clock* RealClock() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

std::string PercentEncode(absl::string_view text) { return Encode(text, false); }
std::string PercentEncodePath(absl::string_view text) { return Encode(text, true); }

std::optional<std::string> NextLink(absl::string_view link_header) {
  // link = "<" URI ">" *( ";" param ); links separated by ",". URLs are in
  // angle brackets, so a comma inside one does not split it.
  size_t pos = 0;
  while (pos < link_header.size()) {
    const size_t open = link_header.find('<', pos);
    if (open == absl::string_view::npos) break;
    const size_t close = link_header.find('>', open);
    if (close == absl::string_view::npos) break;
    const absl::string_view url = link_header.substr(open + 1, close - open - 1);
    size_t end = link_header.find('<', close);
    if (end == absl::string_view::npos) end = link_header.size();
    const absl::string_view params = link_header.substr(close + 1, end - close - 1);
    for (absl::string_view param : absl::StrSplit(params, absl::ByAnyChar(";,"))) {
      param = absl::StripAsciiWhitespace(param);
      if (!absl::ConsumePrefix(&param, "rel") && !absl::ConsumePrefix(&param, "REL") &&
          !absl::ConsumePrefix(&param, "Rel")) {
        continue;
      }
      param = absl::StripLeadingAsciiWhitespace(param);
      if (!absl::ConsumePrefix(&param, "=")) continue;
      param = absl::StripAsciiWhitespace(param);
      absl::ConsumePrefix(&param, "\"");
      absl::ConsumeSuffix(&param, "\"");
      for (absl::string_view rel : absl::StrSplit(param, ' ', absl::SkipEmpty())) {
        if (absl::EqualsIgnoreCase(rel, "next")) return std::string(url);
      }
    }
    pos = end;
  }
  return std::nullopt;
}

RateLimit ParseRateLimit(absl::string_view header) {
  RateLimit limit;
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    int64_t value;
    if (absl::ConsumePrefix(&part, "r=") && absl::SimpleAtoi(part, &value)) {
      limit.remaining = value;
    } else if (absl::ConsumePrefix(&part, "t=") && absl::SimpleAtoi(part, &value)) {
      limit.reset_seconds = value;
    }
  }
  return limit;
}

std::string HttpResponse::Header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? "" : it->second;
}

std::vector<std::string> HttpResponse::Headers(absl::string_view name) const {
  std::vector<std::string> values;
  auto range = headers.equal_range(absl::AsciiStrToLower(name));
  for (auto it = range.first; it != range.second; ++it) {
    values.push_back(it->second);
  }
  return values;
}

struct HubHttp::Connection {
  explicit Connection(const std::string& origin) : client(origin) {}
  httplib::Client client;
};

HubHttp::HubHttp(HttpOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : RealClock()) {}

HubHttp::~HubHttp() = default;

absl::StatusOr<HubHttp::Connection*> HubHttp::ConnectionFor(const std::string& url,
                                                            std::string* path) {
  absl::string_view rest = url;
  std::string scheme;
  if (absl::ConsumePrefix(&rest, "https://")) {
    scheme = "https://";
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    scheme = "http://";
  } else {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" is not http:// or https://"));
  }
  const size_t slash = rest.find('/');
  const std::string host(rest.substr(0, slash));
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has no host"));
  }
  *path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  const std::string origin = scheme + host;
  auto& slot = connections_[origin];
  if (slot == nullptr) {
    slot = std::make_unique<Connection>(origin);
    httplib::Client& c = slot->client;
    c.set_follow_location(false);
    c.set_keep_alive(true);
    c.set_connection_timeout(absl::ToChronoSeconds(options_.connect_timeout));
    c.set_read_timeout(absl::ToChronoSeconds(options_.read_timeout));
    const char* proxy = std::getenv(scheme == "https://" ? "HTTPS_PROXY" : "HTTP_PROXY");
    if (proxy == nullptr) {
      proxy = std::getenv(scheme == "https://" ? "https_proxy" : "http_proxy");
    }
    std::string proxy_host;
    int proxy_port = 0;
    if (proxy != nullptr && ParseProxy(proxy, &proxy_host, &proxy_port)) {
      c.set_proxy(proxy_host, proxy_port);
    }
  }
  return slot.get();
}

void HubHttp::Wait(absl::Duration d, const std::string& reason, bool rate_limit) {
  if (d <= absl::ZeroDuration()) return;
  if (options_.on_wait) options_.on_wait(d, reason);
  if (rate_limit) ++stats_.rate_limit_waits;
  stats_.waited += d;
  clock_->SleepFor(d);
}

absl::StatusOr<HttpResponse> HubHttp::Get(const std::string& url) {
  std::string path;
  absl::StatusOr<Connection*> conn = ConnectionFor(url, &path);
  if (!conn.ok()) return conn.status();
  httplib::Headers headers = {{"Accept", "application/json"},
                              {"User-Agent", "adoption-engine-collector/1"}};
  // The token goes in a header only; it is never part of a URL or a message.
  if (!options_.token.empty()) {
    headers.emplace("Authorization", "Bearer " + options_.token);
  }
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    // Slow down as the window's quota runs out, rather than hit a 429.
    const RateLimit& rl = stats_.last_rate_limit;
    if (rl.remaining >= 0 && rl.remaining <= options_.slow_down_below && rl.reset_seconds > 0) {
      const absl::Duration pause = rl.remaining == 0
                                       ? absl::Seconds(rl.reset_seconds + 1)
                                       : absl::Seconds(rl.reset_seconds) / (rl.remaining + 1);
      Wait(pause,
           absl::StrCat("rate limit: ", rl.remaining, " requests left, window resets in ",
                        rl.reset_seconds, " s"),
           /*rate_limit=*/true);
      stats_.last_rate_limit = RateLimit{};  // one pause per reading
    }
    ++stats_.requests;
    if (attempt > 0) ++stats_.retries;
    httplib::Result result = (*conn)->client.Get(path, headers);
    const bool last = attempt >= options_.max_retries;
    if (!result) {
      last_error = httplib::to_string(result.error());
      if (last) {
        return absl::UnavailableError(absl::StrCat("GET ", url, ": network error (", last_error,
                                                   ") after ", attempt + 1, " attempts"));
      }
      Wait(Backoff(attempt), "network error: " + last_error, false);
      continue;
    }
    HttpResponse response;
    response.status = result->status;
    response.body = std::move(result->body);
    response.url = url;
    for (const auto& [name, value] : result->headers) {
      response.headers.emplace(absl::AsciiStrToLower(name), value);
    }
    const RateLimit limit = ParseRateLimit(response.Header("RateLimit"));
    stats_.last_rate_limit = limit;
    if (!Retryable(response.status) || last) return response;
    absl::Duration pause = Backoff(attempt);
    int64_t retry_after = 0;
    bool rate_limited = response.status == 429;
    if (response.status == 429 && limit.remaining == 0 && limit.reset_seconds >= 0) {
      pause = absl::Seconds(limit.reset_seconds + 1);
    } else if (absl::SimpleAtoi(response.Header("Retry-After"), &retry_after) && retry_after >= 0) {
      pause = absl::Seconds(retry_after + 1);
    }
    stats_.last_rate_limit = RateLimit{};  // the pause below covers it
    Wait(pause, absl::StrCat("HTTP ", response.status, " from ", path.substr(0, path.find('?'))),
         rate_limited);
  }
}

}  // namespace adoption::hub
