#include "collector/collector.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "collector/months.h"
#include "nlohmann/json.hpp"

namespace adoption::hub {
namespace {

using nlohmann::json;

constexpr int64_t kMaxPages = 1'000'000;  // a loop guard, far above any model

// The body's "error" text when it is JSON {"error": "..."}, else a prefix of it.
std::string ErrorText(const HttpResponse& r) {
  std::string message = r.Header("X-Error-Message");
  if (!message.empty()) return message;
  const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return r.body.substr(0, 200);
}

// Maps an error response to the run's status. 401 with the Hub's "invalid
// credentials" message means the token is bad (stop); any other 401 or a 404
// means the repository is missing or not visible (report, go on).
absl::Status StatusOf(const HttpResponse& r, const std::string& what) {
  const std::string text = ErrorText(r);
  if (r.status == 401 && absl::StrContains(absl::AsciiStrToLower(text), "invalid credentials")) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the Hub rejected the token in HF_TOKEN (HTTP 401: ", text, "); fix or unset HF_TOKEN"));
  }
  if (r.status == 401 || r.status == 404) {
    return absl::NotFoundError(absl::StrCat(what, ": not found on the Hub (HTTP ", r.status, ": ",
                                            text, "; missing, private, or gated without access)"));
  }
  if (r.status == 408 || r.status == 429 || r.status >= 500) {
    return absl::UnavailableError(
        absl::StrCat(what, ": HTTP ", r.status, " after retries: ", text));
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": HTTP ", r.status, ": ", text));
}

absl::Status ValidateId(const std::string& id) {
  if (id.empty() || id.size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("base model id \"", id, "\" must be 1..256 bytes"));
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == '%' || c == '\x7f') {
      return absl::InvalidArgumentError(absl::StrCat(
          "base model id \"", id, "\" contains a space, control character, '?', '#' or '%'"));
    }
  }
  if (absl::StartsWith(id, "/") || absl::EndsWith(id, "/") ||
      std::count(id.begin(), id.end(), '/') > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("base model id \"", id, "\" must be \"owner/name\" (or a legacy \"name\")"));
  }
  return absl::OkStatus();
}

std::string OriginOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandRelation(const std::string& relation) {
  if (relation == kAllRelations) {
    std::vector<std::string> all(std::begin(kRelations), std::end(kRelations));
    all.push_back(kAllRelations);
    return all;
  }
  for (const char* r : kRelations) {
    if (relation == r) return std::vector<std::string>{relation};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "relation \"", relation, "\" is not one of finetune, adapter, quantized, merge, all"));
}

Collector::Collector(CollectorOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : RealClock()),
      http_([this] {
        HttpOptions http = options_.http;
        http.token = options_.token;
        http.clock = clock_;
        return http;
      }()) {
  while (absl::EndsWith(options_.hub_url, "/")) options_.hub_url.pop_back();
  if (options_.until == absl::InfinitePast()) options_.until = clock_->Now();
  options_.page_size = std::clamp(options_.page_size, 1, 1000);
}

absl::StatusOr<std::string> Collector::GetModelInfo(const std::string& model_id,
                                                    const std::string& query) {
  std::string url =
      absl::StrCat(options_.hub_url, "/api/models/", PercentEncodePath(model_id), "?", query);
  for (int hop = 0;; ++hop) {
    absl::StatusOr<HttpResponse> r = http_.Get(url);
    if (!r.ok()) return r.status();
    if (r->status == 301 || r->status == 302 || r->status == 307 || r->status == 308) {
      const std::string location = r->Header("Location");
      if (location.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(model_id, ": HTTP ", r->status, " redirect without a Location header"));
      }
      if (hop >= options_.max_redirects) {
        return absl::NotFoundError(absl::StrCat(model_id, ": redirected more than ",
                                                options_.max_redirects, " times (last to ",
                                                location, ")"));
      }
      url = absl::StartsWith(location, "/") ? OriginOf(url) + location : location;
      continue;
    }
    if (r->status != 200) return StatusOf(*r, model_id);
    return std::move(r->body);
  }
}

absl::StatusOr<BaseCollection> Collector::ResolveBase(const std::string& base_id) {
  absl::StatusOr<std::string> info = GetModelInfo(base_id, "expand=createdAt&expand=gated");
  if (!info.ok()) return info.status();
  const json body = json::parse(*info, nullptr, /*allow_exceptions=*/false);
  BaseCollection base;
  base.requested_id = base_id;
  if (!body.is_object() || !body.contains("createdAt") || !body["createdAt"].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(base_id, ": model info without a createdAt string: ", info->substr(0, 200)));
  }
  absl::StatusOr<absl::Time> created = ParseHubTime(body["createdAt"].get<std::string>());
  if (!created.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(base_id, ": ", created.status().message()));
  }
  base.created_at = *created;
  base.created_at_unknown = IsLegacyCreationTime(*created);
  base.canonical_id =
      body.contains("id") && body["id"].is_string() ? body["id"].get<std::string>() : base_id;
  if (body.contains("gated") && body["gated"].is_string()) {
    base.gated = body["gated"].get<std::string>();
  }
  return base;
}

absl::StatusOr<BaseCollection> Collector::Collect(const std::string& base_id) {
  if (absl::Status s = ValidateId(base_id); !s.ok()) return s;
  current_ = CollectorProgress{};
  current_.base_id = base_id;
  absl::StatusOr<BaseCollection> resolved = ResolveBase(base_id);
  if (!resolved.ok()) return resolved.status();
  BaseCollection base = *std::move(resolved);
  base.collected_at = options_.until;

  // One relation: the Hub filters. Several: one listing of every relation,
  // classified by the relation tags each derived model carries.
  const bool single = options_.relations.size() == 1 && options_.relations[0] != kAllRelations;
  const std::string filter =
      single ? absl::StrCat("base_model:", options_.relations[0], ":", base.canonical_id)
             : absl::StrCat("base_model:", base.canonical_id);
  std::string url = absl::StrCat(options_.hub_url, "/api/models?filter=", PercentEncode(filter),
                                 "&sort=createdAt&limit=", options_.page_size,
                                 single ? "&expand=createdAt" : "&expand=createdAt&expand=tags");
  std::map<std::string, std::vector<absl::Time>> created;  // relation -> times
  std::set<std::string> seen_models;
  std::set<std::string> seen_urls;
  while (true) {
    if (!seen_urls.insert(url).second || base.pages >= kMaxPages) {
      return absl::UnavailableError(
          absl::StrCat(base_id, ": the Hub's pagination loops (next link repeats: ", url, ")"));
    }
    absl::StatusOr<HttpResponse> r = http_.Get(url);
    if (!r.ok()) return r.status();
    if (r->status != 200) return StatusOf(*r, absl::StrCat(base_id, " (listing derived models)"));
    ++base.pages;
    const json page = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (!page.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          base_id, ": the model listing is not a JSON array: ", r->body.substr(0, 200)));
    }
    for (const json& item : page) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string() ||
          !item.contains("createdAt") || !item["createdAt"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(
            base_id, ": a listed model lacks id or createdAt: ", item.dump().substr(0, 200)));
      }
      const std::string id = item["id"].get<std::string>();
      if (!seen_models.insert(id).second) continue;  // pages overlapped
      absl::StatusOr<absl::Time> t = ParseHubTime(item["createdAt"].get<std::string>());
      if (!t.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(base_id, ": model ", id, ": ", t.status().message()));
      }
      if (single) {
        created[options_.relations[0]].push_back(*t);
        continue;
      }
      created[kAllRelations].push_back(*t);
      if (item.contains("tags") && item["tags"].is_array()) {
        for (const char* relation : kRelations) {
          const std::string tag = absl::StrCat("base_model:", relation, ":", base.canonical_id);
          for (const json& v : item["tags"]) {
            if (v.is_string() && v.get<std::string>() == tag) {
              created[relation].push_back(*t);
              break;
            }
          }
        }
      }
    }
    current_.models_listed = static_cast<int64_t>(seen_models.size());
    current_.pages = base.pages;
    current_.http = http_.stats();
    if (progress_) progress_(current_);
    std::optional<std::string> next;
    for (const std::string& link : r->Headers("Link")) {
      if ((next = NextLink(link))) break;
    }
    if (!next) break;
    url = *next;
  }
  base.derived_models = static_cast<int64_t>(seen_models.size());
  for (const std::string& relation : options_.relations) {
    base.cumulative[relation] = CumulativeByMonth(base.created_at, base.collected_at,
                                                  created[relation], options_.max_months);
  }
  return base;
}

namespace {

// The expand[] query of a snapshot (brackets percent-encoded).
constexpr char kStatsExpand[] =
    "expand%5B%5D=downloads&expand%5B%5D=downloadsAllTime&expand%5B%5D=likes&"
    "expand%5B%5D=createdAt";

// A counter of a model's JSON: a whole number >= 0. `required`: absent is
// an error; otherwise absent is nullopt.
absl::StatusOr<std::optional<int64_t>> Counter(const json& item, const char* field,
                                               const std::string& what, bool required) {
  if (!item.contains(field) || item[field].is_null()) {
    if (!required) return std::optional<int64_t>();
    return absl::InvalidArgumentError(absl::StrCat(what, ": the Hub's answer has no \"", field,
                                                   "\": ", item.dump().substr(0, 200)));
  }
  const json& v = item[field];
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": \"", field, "\" is not a whole number >= 0: ", v.dump().substr(0, 100)));
  }
  return std::optional<int64_t>(v.get<int64_t>());
}

// A model's counters from its JSON (model info or a listing item).
absl::StatusOr<ModelStats> StatsOf(const json& item, const std::string& requested_id) {
  ModelStats stats;
  stats.requested_id = requested_id;
  stats.canonical_id =
      item.contains("id") && item["id"].is_string() ? item["id"].get<std::string>() : requested_id;
  const std::string& what = stats.canonical_id;
  if (!item.contains("createdAt") || !item["createdAt"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": the Hub's answer has no createdAt string: ", item.dump().substr(0, 200)));
  }
  absl::StatusOr<absl::Time> created = ParseHubTime(item["createdAt"].get<std::string>());
  if (!created.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", created.status().message()));
  }
  stats.created_at = *created;
  stats.created_at_unknown = IsLegacyCreationTime(*created);
  absl::StatusOr<std::optional<int64_t>> downloads = Counter(item, "downloads", what, true);
  if (!downloads.ok()) return downloads.status();
  absl::StatusOr<std::optional<int64_t>> likes = Counter(item, "likes", what, true);
  if (!likes.ok()) return likes.status();
  absl::StatusOr<std::optional<int64_t>> all_time = Counter(item, "downloadsAllTime", what, false);
  if (!all_time.ok()) return all_time.status();
  stats.downloads_30d = **downloads;
  stats.likes = **likes;
  stats.downloads_all_time = *all_time;
  return stats;
}

}  // namespace

absl::StatusOr<ModelStats> Collector::Stats(const std::string& model_id) {
  if (absl::Status s = ValidateId(model_id); !s.ok()) return s;
  absl::StatusOr<std::string> info = GetModelInfo(model_id, kStatsExpand);
  if (!info.ok()) return info.status();
  const json body = json::parse(*info, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_id, ": model info is not a JSON object: ", info->substr(0, 200)));
  }
  return StatsOf(body, model_id);
}

absl::StatusOr<std::vector<ModelStats>> Collector::AuthorStats(const std::string& author) {
  if (author.empty() || author.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("author \"", author, "\" must be a user or organisation name (no '/')"));
  }
  if (absl::Status s = ValidateId(author); !s.ok()) return s;
  std::string url = absl::StrCat(options_.hub_url, "/api/models?author=", PercentEncode(author),
                                 "&", kStatsExpand, "&limit=", options_.page_size);
  std::vector<ModelStats> out;
  std::set<std::string> seen_models, seen_urls;
  int64_t pages = 0;
  while (true) {
    if (!seen_urls.insert(url).second || pages >= kMaxPages) {
      return absl::UnavailableError(
          absl::StrCat(author, ": the Hub's pagination loops (next link repeats: ", url, ")"));
    }
    absl::StatusOr<HttpResponse> r = http_.Get(url);
    if (!r.ok()) return r.status();
    if (r->status != 200)
      return StatusOf(*r, absl::StrCat(author, " (listing the author's models)"));
    ++pages;
    const json page = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (!page.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(
          author, ": the model listing is not a JSON array: ", r->body.substr(0, 200)));
    }
    for (const json& item : page) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(author, ": a listed model has no id: ", item.dump().substr(0, 200)));
      }
      const std::string id = item["id"].get<std::string>();
      if (!seen_models.insert(id).second) continue;  // pages overlapped
      absl::StatusOr<ModelStats> stats = StatsOf(item, id);
      if (!stats.ok()) return stats.status();
      out.push_back(*std::move(stats));
    }
    std::optional<std::string> next;
    for (const std::string& link : r->Headers("Link")) {
      if ((next = NextLink(link))) break;
    }
    if (!next) break;
    url = *next;
  }
  std::sort(out.begin(), out.end(), [](const ModelStats& a, const ModelStats& b) {
    return a.canonical_id < b.canonical_id;
  });
  return out;
}

std::string AuthorOf(const std::string& repo_id) {
  const size_t slash = repo_id.find('/');
  return slash == std::string::npos ? repo_id : repo_id.substr(0, slash);
}

std::string SeriesIdFor(const std::string& canonical_id, const std::string& relation) {
  return relation == kAllRelations ? absl::StrCat("base_model:", canonical_id)
                                   : absl::StrCat("base_model:", relation, ":", canonical_id);
}

v1::Series ToSeries(const BaseCollection& c, const std::string& relation,
                    const std::string& hub_url) {
  v1::Series s;
  s.set_id(SeriesIdFor(c.canonical_id, relation));
  s.set_unit(relation == "finetune" ? "finetunes" : "derived models");
  // Point k is k calendar months after creation (CumulativeByMonth): the
  // origin is the creation's UTC date.
  s.set_origin(absl::FormatTime("%Y-%m-%d", c.created_at, absl::UTCTimeZone()));
  s.set_time_unit(v1::TIME_UNIT_MONTH);
  auto& m = *s.mutable_metadata();
  const std::string author = AuthorOf(c.canonical_id);
  m["hub_id"] = c.canonical_id;
  m["author"] = author;
  m["company"] = author;
  m["created_at"] = FormatHubTime(c.created_at);
  m["relation"] = relation;
  m["source"] = absl::StrCat("huggingface-hub:", hub_url);
  m["collected_at"] = FormatHubTime(c.collected_at);
  if (c.requested_id != c.canonical_id) m["requested_id"] = c.requested_id;
  if (!c.gated.empty()) m["gated"] = c.gated;
  if (c.created_at_unknown) m["created_at_unknown"] = "true";
  auto it = c.cumulative.find(relation);
  if (it != c.cumulative.end()) {
    for (size_t k = 0; k < it->second.size(); ++k) {
      v1::Point* p = s.add_points();
      p->set_t(static_cast<double>(k));
      p->set_value(static_cast<double>(it->second[k]));
    }
  }
  return s;
}

}  // namespace adoption::hub
