// adoption::hub::Collector: builds the paper's adoption series from the
// Hugging Face Hub API (collector/hub_api.md).
//
// For one base model it
//   1. resolves the id: GET /api/models/<id>?expand=createdAt, following at
//      most two 307 redirects (renamed / legacy ids) and recording the
//      canonical id; 401 (anonymous) and 404 mean "not found";
//   2. pages through the derived models: GET /api/models?filter=base_model:
//      <relation>:<id>&sort=createdAt&limit=1000&expand=createdAt (one
//      listing over filter=base_model:<id> with tags when several relations
//      are wanted), following each rel="next" Link verbatim;
//   3. counts them by whole calendar months since the base's creation up to
//      the collection instant (months.h), one cumulative series per relation.
// Every HTTP call goes through HubHttp (retries, back-off, rate limits).
// A token the Hub rejects stops the run (UNAUTHENTICATED): every further
// call would fail the same way.
#ifndef ADOPTION_COLLECTOR_COLLECTOR_H_
#define ADOPTION_COLLECTOR_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adoption/v1/adoption.pb.h"
#include "collector/http.h"

namespace adoption::hub {

// The Hub's relations between a derived model and its base.
inline constexpr const char* kRelations[] = {"finetune", "adapter", "quantized", "merge"};
// The pseudo-relation "all": every derived model once, whatever its relation.
inline constexpr char kAllRelations[] = "all";

// "finetune", "adapter", "quantized", "merge" or "all" (the four plus "all").
// INVALID_ARGUMENT naming the choices otherwise.
absl::StatusOr<std::vector<std::string>> ExpandRelation(const std::string& relation);

struct CollectorOptions {
  std::string hub_url = "https://huggingface.co";  // no trailing slash needed
  std::string token;                               // from HF_TOKEN; never logged
  // Relations to count, each a series: a subset of kRelations and "all".
  std::vector<std::string> relations = {"finetune"};
  // The collection instant; absl::InfinitePast() = the clock's now.
  absl::Time until = absl::InfinitePast();
  int page_size = 1000;  // the Hub serves at most 1000 per page
  int max_months = 0;    // > 0: cap K (the paper's table stops at 34)
  int max_redirects = 2;
  Clock* clock = nullptr;  // default RealClock()
  HttpOptions http;        // token and clock are filled from the above
};

// One collected base model.
struct BaseCollection {
  std::string requested_id;
  std::string canonical_id;  // after redirects; == requested_id when none
  absl::Time created_at;
  bool created_at_unknown = false;  // the Hub's legacy placeholder date
  std::string gated;                // "", "manual", "auto"
  absl::Time collected_at;          // the collection instant used
  int64_t derived_models = 0;       // distinct derived models listed
  int64_t pages = 0;
  // relation -> cumulative counts by month, value_0..value_K.
  std::map<std::string, std::vector<int64_t>> cumulative;
};

// A model's counters on the Hub at one instant (adoptctl snapshot). The Hub
// keeps no history of them: a daily series starts at the first snapshot.
struct ModelStats {
  std::string requested_id;
  std::string canonical_id;  // after redirects; the listed id for an author
  absl::Time created_at;
  bool created_at_unknown = false;  // the Hub's legacy placeholder date
  int64_t downloads_30d = 0;        // `downloads`: the last 30 days
  // `downloadsAllTime`: cumulative since creation; absent when the Hub
  // leaves it out of the answer.
  std::optional<int64_t> downloads_all_time;
  int64_t likes = 0;  // current total; may fall
};

// Progress of a run, reported after every page and every wait.
struct CollectorProgress {
  std::string base_id;
  int64_t models_listed = 0;
  int64_t pages = 0;
  HttpStats http;
};

class Collector {
 public:
  explicit Collector(CollectorOptions options);

  // Collects one base model. NOT_FOUND (missing, private or gated without
  // access: the Hub does not tell them apart), UNAUTHENTICATED (the token is
  // invalid: stop the run), UNAVAILABLE (network or server errors after the
  // retries), INVALID_ARGUMENT (a bad id, or a response the collector cannot
  // read, quoting it).
  absl::StatusOr<BaseCollection> Collect(const std::string& base_id);

  // The counters of one model: GET /api/models/<id>?expand[]=downloads&
  // expand[]=downloadsAllTime&expand[]=likes&expand[]=createdAt, following
  // redirects as Collect does. Errors as Collect's, and INVALID_ARGUMENT
  // when downloads or likes is not a whole number >= 0.
  absl::StatusOr<ModelStats> Stats(const std::string& model_id);
  // The counters of every model of an author: GET /api/models?author=<a>&
  // expand[]=... (the same fields), every page. An author with no models
  // gives an empty list (the Hub does not tell a missing author apart).
  absl::StatusOr<std::vector<ModelStats>> AuthorStats(const std::string& author);

  // Called after each page of listing and before each wait.
  void set_progress(std::function<void(const CollectorProgress&)> progress) {
    progress_ = std::move(progress);
  }
  const HttpStats& http_stats() const { return http_.stats(); }
  const CollectorOptions& options() const { return options_; }

 private:
  absl::StatusOr<BaseCollection> ResolveBase(const std::string& base_id);
  // GET a model's info at `query`, following at most max_redirects 307s;
  // the 200 body, or the error for `model_id`.
  absl::StatusOr<std::string> GetModelInfo(const std::string& model_id, const std::string& query);

  CollectorOptions options_;
  Clock* clock_;
  HubHttp http_;
  std::function<void(const CollectorProgress&)> progress_;
  CollectorProgress current_;
};

// The series stored for one relation of a collection: id
// "base_model:<relation>:<canonical id>" (the Hub's own tag for that set;
// "base_model:<canonical id>" for "all"), t = month index, unit
// "derived models" (or "finetunes"), metadata author, company (= author),
// created_at, relation, source ("huggingface-hub:<hub url>"), collected_at,
// hub_id, plus requested_id when redirected, gated, created_at_unknown.
v1::Series ToSeries(const BaseCollection& collection, const std::string& relation,
                    const std::string& hub_url);

// The owner of a repo id ("meta-llama" of "meta-llama/Llama-3.1-8B"; a
// legacy one-segment id is its own owner): metadata author and company.
std::string AuthorOf(const std::string& repo_id);

// The series id ToSeries uses.
std::string SeriesIdFor(const std::string& canonical_id, const std::string& relation);

}  // namespace adoption::hub

#endif  // ADOPTION_COLLECTOR_COLLECTOR_H_
