#include "workload_mix.h"

#include <catch2/catch.hpp>
#include <map>

#include "bench_flags.h"
#include "open_loop_schedule.h"

namespace hartonomous::bench {
namespace {

TEST_CASE("Mix gives every workload exactly its weight in each cycle, interleaved") {
  WorkloadMix mix;
  std::string error;
  REQUIRE(WorkloadMix::Parse("search=8,ingest-atoms=1,log-inference=1", &mix, &error));
  REQUIRE(mix.entries().size() == 3);
  std::map<size_t, int> counts;
  int longest_run = 0, run = 0;
  size_t last = 99;
  for (uint64_t seq = 0; seq < 1000; ++seq) {
    const size_t pick = mix.Pick(seq);
    ++counts[pick];
    run = pick == last ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
    last = pick;
  }
  REQUIRE(counts[0] == 800);
  REQUIRE(counts[1] == 100);
  REQUIRE(counts[2] == 100);
  REQUIRE(longest_run < 8);              // interleaved: never the eight searches in a row
  REQUIRE(mix.Pick(3) == mix.Pick(13));  // the same seq of a cycle, the same workload
}

TEST_CASE("Mix rejects bad weights, duplicates and empty names, naming them") {
  WorkloadMix mix;
  std::string error;
  REQUIRE_FALSE(WorkloadMix::Parse("search=0", &mix, &error));
  REQUIRE(error.find("search") != std::string::npos);
  REQUIRE_FALSE(WorkloadMix::Parse("search=x", &mix, &error));
  REQUIRE_FALSE(WorkloadMix::Parse("search=1001", &mix, &error));
  REQUIRE_FALSE(WorkloadMix::Parse("search,search", &mix, &error));
  REQUIRE(error.find("twice") != std::string::npos);
  REQUIRE_FALSE(WorkloadMix::Parse("search,,get-atom", &mix, &error));
  REQUIRE(WorkloadMix::Parse("get-atom", &mix, &error));
  REQUIRE(mix.entries()[0].weight == 1);
}

TEST_CASE("Open-loop schedule spaces intended send times by the rate") {
  const auto start = OpenLoopSchedule::Clock::now();
  OpenLoopSchedule schedule(start, 2000.0);  // every 0.5 ms
  REQUIRE(schedule.IntendedTime(0) == start);
  for (uint64_t i : {1u, 7u, 1000u, 2000000u}) {
    const double seconds = std::chrono::duration<double>(schedule.IntendedTime(i) - start).count();
    REQUIRE(seconds == Approx(static_cast<double>(i) / 2000.0).epsilon(1e-9));
  }
}

TEST_CASE("Bench flags parse values, booleans and ranges, and name the bad flag") {
  BenchFlags flags({{"concurrency", "1", "calls in flight"},
                    {"rate", "0", "calls/s"},
                    {"json", "", "print JSON", true}});
  const char* argv[] = {"bench", "search", "--concurrency", "64", "--json", "--rate=250.5"};
  std::string error;
  REQUIRE(flags.Parse(6, const_cast<char**>(argv), 2, &error));
  int64_t c = 0;
  double r = 0;
  REQUIRE(flags.Int("concurrency", 1, 1000, &c, &error));
  REQUIRE(c == 64);
  REQUIRE(flags.Double("rate", 0, 1e6, &r, &error));
  REQUIRE(r == 250.5);
  REQUIRE(flags.Bool("json"));
  REQUIRE_FALSE(flags.Int("concurrency", 1, 10, &c, &error));
  REQUIRE(error.find("--concurrency") != std::string::npos);

  BenchFlags other({{"k", "10", "results"}});
  const char* unknown[] = {"bench", "search", "--kk", "3"};
  REQUIRE_FALSE(other.Parse(4, const_cast<char**>(unknown), 2, &error));
  REQUIRE(error.find("--kk") != std::string::npos);
  const char* missing[] = {"bench", "search", "--k"};
  REQUIRE_FALSE(other.Parse(3, const_cast<char**>(missing), 2, &error));
  REQUIRE(error.find("missing value") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::bench
