// Reading a stored series back over a real channel, for tests that check
// what adoptiond kept: the series (a failed call fails the test) and its
// points' dates, t and values as vectors for ElementsAre.
#ifndef ADOPTION_TESTS_SUPPORT_SERIES_ACCESS_H_
#define ADOPTION_TESTS_SUPPORT_SERIES_ACCESS_H_

#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "adoption/v1/adoption.grpc.pb.h"
#include "gtest/gtest.h"

namespace adoption::testing {

inline v1::Series GetStoredSeries(v1::AdoptionService::Stub& stub, const std::string& id) {
  grpc::ClientContext ctx;
  v1::GetSeriesRequest req;
  req.set_id(id);
  v1::Series s;
  grpc::Status st = stub.GetSeries(&ctx, req, &s);
  EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
  return s;
}

inline std::vector<std::string> PointDates(const v1::Series& s) {
  std::vector<std::string> out;
  for (const auto& p : s.points()) out.push_back(p.date());
  return out;
}

inline std::vector<double> PointTimes(const v1::Series& s) {
  std::vector<double> out;
  for (const auto& p : s.points()) out.push_back(p.t());
  return out;
}

inline std::vector<double> PointValues(const v1::Series& s) {
  std::vector<double> out;
  for (const auto& p : s.points()) out.push_back(p.value());
  return out;
}

}  // namespace adoption::testing

#endif  // ADOPTION_TESTS_SUPPORT_SERIES_ACCESS_H_
