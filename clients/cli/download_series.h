// The series adoptctl keeps of a model's downloads and likes, whether loaded
// from the paper's daily download files (load-csv --kind downloads) or
// recorded by daily snapshots of the Hub (adoptctl snapshot). Their ids
// carry a prefix, so they never collide with the fine-tune series of the
// same model (whose id is the bare repo id, or "base_model:<relation>:<id>"
// from the collector): a Hub repo id has no ':'.
//
// Every series is cumulative (the store keeps non-decreasing series), daily
// (time unit DAY) and dated from the model's creation (origin = the UTC date
// of created_at). Why these three and not the Hub's raw 30-day count:
// docs/decisions.md, "Daily download series".
#ifndef ADOPTION_CLIENTS_CLI_DOWNLOAD_SERIES_H_
#define ADOPTION_CLIENTS_CLI_DOWNLOAD_SERIES_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace adoption::cli {

struct DownloadSignal {
  const char* prefix;  // series id = prefix + model id
  const char* unit;    // Series.unit and metadata `unit`
};

// The paper's download-days: a running sum of the Hub's 30-day download
// count, once a day. The increment on a day is that day's 30-day count.
inline constexpr DownloadSignal kDownloadDays = {"download_days:", "downloads_30d_daysum"};
// The Hub's downloadsAllTime: real cumulative downloads since creation.
inline constexpr DownloadSignal kDownloadsAllTime = {"downloads_all_time:", "downloads"};
// The Hub's likes (a total that may fall; see adoptctl snapshot).
inline constexpr DownloadSignal kLikes = {"likes:", "likes"};

inline std::string SignalSeriesId(const DownloadSignal& signal, absl::string_view model) {
  return absl::StrCat(signal.prefix, model);
}
inline std::string DownloadDaysSeriesId(absl::string_view model) {
  return SignalSeriesId(kDownloadDays, model);
}

}  // namespace adoption::cli

#endif  // ADOPTION_CLIENTS_CLI_DOWNLOAD_SERIES_H_
