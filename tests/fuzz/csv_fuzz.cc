// libFuzzer target: the CSV importers (the paper's fine-tune and daily
// download layouts) must refuse or accept any bytes without crashing, and
// whatever they accept must pass the server's validation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "clients/cli/finetune_csv.h"
#include "engine/service/series_proto.h"
#include "engine/store/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string content(reinterpret_cast<const char*>(data), size);
  auto parsed = adoption::cli::ParseFinetuneCsv(content, "fuzz.csv");
  if (!parsed.ok()) return 0;
  for (const auto& s : *parsed) {
    adoption::SeriesRecord r = adoption::FromProto(s);
    // Ids and metadata may still be refused (e.g. control characters), but
    // the points the reader accepted are always valid.
    r.id = "x";
    r.metadata.clear();
    r.unit.clear();
    if (!adoption::ValidateSeries(r, adoption::SeriesLimits(), "s").ok() &&
        r.points.size() <= 10000) {
      __builtin_trap();
    }
  }
  // The daily download reader: what it accepts is storable as it is sent
  // (points by date, resolved on the series' own calendar).
  auto downloads = adoption::cli::ParseDownloadsCsv(content, "fuzz.csv");
  if (!downloads.ok()) return 0;
  for (const auto& s : *downloads) {
    adoption::SeriesRecord r = adoption::FromProto(s);
    if (!adoption::ResolveDates(s.points(), r, "points", &r.points).ok()) __builtin_trap();
    r.id = "x";
    r.metadata.clear();
    if (!adoption::ValidateSeries(r, adoption::SeriesLimits(), "s").ok() &&
        r.points.size() <= 10000) {
      __builtin_trap();
    }
  }
  return 0;
}
