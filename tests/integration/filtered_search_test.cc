// Filtered vector search through a real daemon on Fashion-MNIST: the
// planner's path by the filter's matching rows (the filtered traversal for
// many, the exact scan of them for few), only matching rows returned, and
// the answers against the exact filtered search.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli_util.h"
#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

constexpr int kRows = 10000;

v1::SearchRequest ByAtom(uint64_t atom, uint32_t ef, bool exact) {
  v1::SearchRequest q;
  q.set_collection("fm");
  q.set_atom_id(atom);
  q.set_limit(10);
  q.set_with_metadata(true);
  q.mutable_params()->set_ef(ef);
  q.mutable_params()->set_exact(exact);
  return q;
}

}  // namespace

TEST_CASE("filters matching many rows are searched by the filtered traversal, 10% exactly",
          "[search][filtered]") {
  Daemon daemon;
  if (!LoadFashion(daemon, kRows)) return;
  double recall = 0;
  int queries = 0;
  for (uint64_t atom = 1; atom <= kRows; atom += 199) {
    // Every row matches: 10,000 x 1 > 64 x ef, the traversal; the answer is
    // the unfiltered search's.
    v1::SearchRequest q = ByAtom(atom, 10, false);
    q.mutable_filter()->set_source_type("load-vectors");
    v1::SearchResponse got;
    REQUIRE(daemon.client().Search(q, &got).ok());
    CHECK(got.path() == v1::SEARCH_PATH_ANN_FILTERED_TRAVERSAL);
    REQUIRE(got.results_size() == 10);
    v1::SearchRequest e = q;
    e.mutable_params()->set_exact(true);
    v1::SearchResponse exact;
    REQUIRE(daemon.client().Search(e, &exact).ok());
    CHECK(exact.path() == v1::SEARCH_PATH_EXACT_FILTERED);
    REQUIRE(exact.results_size() == 10);
    std::set<uint64_t> want;
    for (const auto& r : exact.results()) want.insert(r.atom_id());
    int hit = 0;
    for (const auto& r : got.results()) {
      CHECK(r.atom_id() != atom);
      hit += static_cast<int>(want.count(r.atom_id()));
    }
    recall += hit / 10.0;
    ++queries;

    // label = 3, 10% of rows: 1,000 x 10% <= 64 x ef, the exact scan of
    // them, the same answer as exact: true.
    v1::SearchRequest l = ByAtom(atom, 10, false);
    (*l.mutable_filter()->mutable_metadata_equals())["label"] = "3";
    v1::SearchResponse labelled;
    REQUIRE(daemon.client().Search(l, &labelled).ok());
    CHECK(labelled.path() == v1::SEARCH_PATH_EXACT_FILTERED);
    REQUIRE(labelled.results_size() == 10);
    l.mutable_params()->set_exact(true);
    v1::SearchResponse labelled_exact;
    REQUIRE(daemon.client().Search(l, &labelled_exact).ok());
    for (int i = 0; i < 10; ++i) {
      CHECK(nlohmann::json::parse(labelled.results(i).metadata())["label"] == 3);
      CHECK(labelled.results(i).atom_id() == labelled_exact.results(i).atom_id());
      CHECK(labelled.results(i).atom_id() != atom);
    }
  }
  recall /= queries;
  INFO("recall@10 of the traversal at ef 10: " << recall);
  CHECK(recall >= 0.9);
}

TEST_CASE("a filter matching a handful of rows is scanned exactly", "[search][filtered]") {
  Daemon daemon;
  if (!LoadFashion(daemon, 2000)) return;
  v1::SearchRequest q = ByAtom(1, 64, false);
  (*q.mutable_filter()->mutable_metadata_equals())["row"] = "17";
  v1::SearchResponse got;
  REQUIRE(daemon.client().Search(q, &got).ok());
  CHECK(got.path() == v1::SEARCH_PATH_EXACT_FILTERED);
  REQUIRE(got.results_size() == 1);
  CHECK(nlohmann::json::parse(got.results(0).metadata())["row"] == 17);
  // A filter nothing matches: no result, still exact.
  (*q.mutable_filter()->mutable_metadata_equals())["row"] = "999999";
  REQUIRE(daemon.client().Search(q, &got).ok());
  CHECK(got.path() == v1::SEARCH_PATH_EXACT_FILTERED);
  CHECK(got.results_size() == 0);
}

}  // namespace hartonomous::testing
