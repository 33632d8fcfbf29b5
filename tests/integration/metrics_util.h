// The daemon's metrics port in tests: its address from the log, HTTP GETs
// on it, and sample values from the Prometheus text exposition.
#pragma once

#include <httplib.h>

#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {

// The HOST:PORT logged as "metrics on http://HOST:PORT/metrics" (the last
// start's). Throws when the log has none.
inline std::string MetricsAddress(const Daemon& daemon) {
  const std::string log = ReadFile(daemon.log_path());
  const std::string prefix = "metrics on http://";
  const auto at = log.rfind(prefix);
  if (at == std::string::npos) throw std::runtime_error("no metrics address in the log: " + log);
  const auto begin = at + prefix.size();
  return log.substr(begin, log.find("/metrics", begin) - begin);
}

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

inline HttpReply HttpGet(const std::string& address, const std::string& path) {
  const auto colon = address.rfind(':');
  httplib::Client client(address.substr(0, colon), std::stoi(address.substr(colon + 1)));
  client.set_read_timeout(30, 0);
  auto result = client.Get(path.c_str());
  if (!result) throw std::runtime_error("GET http://" + address + path + " failed");
  return {result->status, result->get_header_value("Content-Type"), result->body};
}

// The value of the sample whose name and labels are exactly `series` (e.g.
// `hartonomous_atoms{modality="text"}`); nullopt when absent.
inline std::optional<double> SampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace hartonomous::testing
