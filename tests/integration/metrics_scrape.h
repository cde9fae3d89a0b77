// The integration tests' view of adoptiond's Prometheus endpoint
// (--metrics-listen): one scrape over real HTTP.
#ifndef ADOPTION_TESTS_INTEGRATION_METRICS_SCRAPE_H_
#define ADOPTION_TESTS_INTEGRATION_METRICS_SCRAPE_H_

#include <string>

#include "httplib.h"

namespace adoption::testing {

// GET /metrics from address ("host:port"); "" when there is no 200 answer.
inline std::string Scrape(const std::string& address) {
  httplib::Client http(address.substr(0, address.rfind(':')),
                       std::stoi(address.substr(address.rfind(':') + 1)));
  auto res = http.Get("/metrics");
  return res && res->status == 200 ? res->body : "";
}

}  // namespace adoption::testing

#endif  // ADOPTION_TESTS_INTEGRATION_METRICS_SCRAPE_H_
