// The Prometheus text exposition of counters and histograms.
#include "server/metrics/metric_families.h"

#include <catch2/catch.hpp>

#include "server/metrics/prometheus_text.h"

using namespace hartonomous::metrics;

TEST_CASE("a counter family renders one sample per label tuple") {
  CounterFamily family("x_total", "Things.", {"method", "code"});
  family.Add({"/a", "OK"});
  family.Add({"/a", "OK"});
  family.Add({"/a", "NOT_FOUND"}, 3);
  CHECK(family.Value({"/a", "OK"}) == 2);
  CHECK(family.Value({"/b", "OK"}) == 0);
  std::string out;
  family.Render(&out);
  CHECK(out ==
        "# HELP x_total Things.\n# TYPE x_total counter\n"
        "x_total{method=\"/a\",code=\"NOT_FOUND\"} 3\n"
        "x_total{method=\"/a\",code=\"OK\"} 2\n");
}

TEST_CASE("histogram buckets are cumulative and end with +Inf") {
  HistogramFamily family("h_seconds", "Latency.", {}, {0.1, 1});
  family.Observe({}, 0.05);
  family.Observe({}, 0.1);  // on a bound: in that bucket (le)
  family.Observe({}, 0.5);
  family.Observe({}, 7);
  CHECK(family.Count({}) == 4);
  std::string out;
  family.Render(&out);
  CHECK(out ==
        "# HELP h_seconds Latency.\n# TYPE h_seconds histogram\n"
        "h_seconds_bucket{le=\"0.1\"} 2\n"
        "h_seconds_bucket{le=\"1\"} 3\n"
        "h_seconds_bucket{le=\"+Inf\"} 4\n"
        "h_seconds_sum 7.65\n"
        "h_seconds_count 4\n");
}

TEST_CASE("label values and help text are escaped") {
  std::string out;
  AppendGauge(&out, "g", "Help with \\ and\nnewline.", {{{{"name", "a\"b\\c\nd"}}, 1.5}});
  CHECK(out ==
        "# HELP g Help with \\\\ and\\nnewline.\n# TYPE g gauge\n"
        "g{name=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}
