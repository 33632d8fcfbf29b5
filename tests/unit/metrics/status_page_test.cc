// The status page's parts that need no daemon: the RPC rate window, the
// number formats, HTML escaping, and a page rendered from a known report.
#include "server/metrics/status_page.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "server/metrics/rpc_rates.h"
#include "server/metrics/status_report.h"

using namespace hartonomous::metrics;

namespace {

constexpr int64_t kSecond = 1'000'000;

MethodCounts Counts(uint64_t a_calls, uint64_t a_errors, uint64_t b_calls = 0) {
  MethodCounts counts;
  counts["/s/A"] = {a_calls, a_errors};
  if (b_calls > 0) counts["/s/B"] = {b_calls, 0};
  return counts;
}

}  // namespace

TEST_CASE("CountsByMethod sums codes and counts every code but OK as an error") {
  const MethodCounts counts = CountsByMethod({{{"/s/A", "OK"}, 5},
                                              {{"/s/A", "NOT_FOUND"}, 2},
                                              {{"/s/A", "INTERNAL"}, 1},
                                              {{"/s/B", "OK"}, 3}});
  REQUIRE(counts.size() == 2);
  CHECK(counts.at("/s/A") == std::pair<uint64_t, uint64_t>{8, 3});
  CHECK(counts.at("/s/B") == std::pair<uint64_t, uint64_t>{3, 0});
}

TEST_CASE("the rate window measures over the time since start, then over the window") {
  RpcRateWindow window(/*started_us=*/0, /*window_us=*/60 * kSecond);
  // Within the first window: since the start (counts were 0 then).
  RpcRates first = window.Sample(10 * kSecond, Counts(100, 10));
  CHECK(first.interval_seconds == 10);
  CHECK(first.calls_per_second == 10);
  CHECK(first.errors_per_second == 1);
  REQUIRE(first.methods.size() == 1);
  CHECK(first.methods[0].calls == 100);
  RpcRates second = window.Sample(40 * kSecond, Counts(400, 10, 60));
  CHECK(second.interval_seconds == 40);
  REQUIRE(second.methods.size() == 2);
  CHECK(second.methods[0].method == "/s/A");  // busiest first
  CHECK(second.methods[0].calls == 400);
  CHECK(second.methods[0].errors == 10);
  CHECK(second.methods[1].calls == 60);
  CHECK(second.calls_per_second == 11.5);
  // At 100 s the base is the newest sample at or before 40 s: that one.
  RpcRates third = window.Sample(100 * kSecond, Counts(1000, 10, 60));
  CHECK(third.interval_seconds == 60);
  REQUIRE(third.methods.size() == 1);  // B had no call in the interval
  CHECK(third.methods[0].calls == 600);
  CHECK(third.methods[0].errors == 0);
  CHECK(third.calls_per_second == 10);
  // Unread for a long time: the interval is longer than the window.
  RpcRates late = window.Sample(1000 * kSecond, Counts(1900, 10, 60));
  CHECK(late.interval_seconds == 900);
  CHECK(late.calls_per_second == 1);
}

TEST_CASE("samples closer than a 32nd of the window are not kept as bases") {
  RpcRateWindow window(0, 64 * kSecond);
  window.Sample(100 * kSecond, Counts(10, 0));
  window.Sample(100 * kSecond + 1, Counts(11, 0));  // 1 us later: used, not kept
  // The window's start is 100 s + 1 us: the base is the 100 s sample.
  RpcRates rates = window.Sample(164 * kSecond + 1, Counts(30, 0));
  CHECK(rates.methods.at(0).calls == 20);
}

TEST_CASE("numbers and bytes are formatted for people") {
  CHECK(GroupDigits(0) == "0");
  CHECK(GroupDigits(999) == "999");
  CHECK(GroupDigits(1000) == "1,000");
  CHECK(GroupDigits(1234567) == "1,234,567");
  CHECK(HumanBytes(0) == "0 B");
  CHECK(HumanBytes(1023) == "1023 B");
  CHECK(HumanBytes(1536) == "1.5 KiB");
  CHECK(HumanBytes(uint64_t{3} << 30) == "3.0 GiB");
  CHECK(EscapeHtml("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST_CASE("the page shows a known report with exact values and escaped names") {
  StatusReport r;
  r.version = "9.9.9";
  r.state = "degraded";
  r.state_reason = "disk full <soon>";
  r.atoms_total = {"all", 3, 7, 300, 900, 12};
  r.dedup_saved_bytes = 600;
  r.collections_loaded = true;
  r.collections.push_back({"c<1>", "hnsw", 4, "l2", 5, 1, 2048});
  r.model_count = 1;
  r.models.push_back({"m&1", "cnn", "resnet", 2, 42, 3});
  r.rpc.interval_seconds = 30;
  r.rpc.methods.push_back({"/s/A", 60, 3, 2.0, 0.1});
  const std::string page = RenderStatusPage(r);
  CHECK_THAT(page, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(page, Catch::Contains("id=\"atoms-total-logical-bytes\" data-value=\"900\">900 B<"));
  CHECK_THAT(page, Catch::Contains("id=\"atoms-dedup-saved-bytes\" data-value=\"600\""));
  CHECK_THAT(page, Catch::Contains("id=\"atoms-dedup-saved-percent\">66.7 %<"));
  CHECK_THAT(page, Catch::Contains("id=\"collection-0-vectors\" data-value=\"5\""));
  CHECK_THAT(page,
             Catch::Contains("id=\"collection-0-memory-bytes\" data-value=\"2048\">2.0 KiB<"));
  CHECK_THAT(page, Catch::Contains("<td>c&lt;1&gt;</td>"));
  CHECK_THAT(page, Catch::Contains("<td>m&amp;1</td>"));
  CHECK_THAT(page, Catch::Contains("id=\"model-0-parameters\" data-value=\"42\""));
  CHECK_THAT(page, Catch::Contains("id=\"rpc-0-calls\" data-value=\"60\""));
  CHECK_THAT(page, Catch::Contains("class=\"badge degraded\""));
  CHECK_THAT(page, Catch::Contains("disk full &lt;soon&gt;"));
  CHECK_THAT(page, !Catch::Contains("c<1>"));
  // The JSON form carries the same values.
  const auto json = nlohmann::json::parse(StatusJson(r));
  CHECK(json["atoms"]["total"]["logical_bytes"] == 900);
  CHECK(json["collections"]["list"][0]["name"] == "c<1>");
  CHECK(json["models"]["list"][0]["parameters"] == 42);
  CHECK(json["rpc"]["methods"][0]["errors"] == 3);
  CHECK(json["state"] == "degraded");
}

TEST_CASE("a page before the indexes load says so instead of listing collections") {
  StatusReport r;
  r.state = "starting";
  r.collections_loaded = false;
  CHECK_THAT(RenderStatusPage(r), Catch::Contains("The vector indexes are still loading."));
}
