// "hnsw_sq8" collections through a real daemon on Fashion-MNIST: the same
// rows as an "hnsw" collection in a fraction of its memory, ANN answers at
// a recall floor with exact distances, exact answers equal to the float
// index's, and the same answers after kill -9 and a restart.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

constexpr int kRows = 5000;

v1::SearchResponse SearchBy(Daemon& daemon, const std::string& collection, uint64_t atom,
                            uint32_t ef, bool exact) {
  v1::SearchRequest q;
  q.set_collection(collection);
  q.set_atom_id(atom);
  q.set_limit(10);
  q.mutable_params()->set_ef(ef);
  q.mutable_params()->set_exact(exact);
  v1::SearchResponse out;
  const auto s = daemon.client().Search(q, &out);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return out;
}

// Mean recall@10 of collection's ANN (ef 64) against its exact search, and
// every ANN hit's distance equal to the exact distance of that atom.
double AnnRecall(Daemon& daemon, const std::string& collection) {
  double recall = 0;
  int queries = 0;
  for (uint64_t atom = 1; atom <= kRows; atom += 211) {
    const v1::SearchResponse ann = SearchBy(daemon, collection, atom, 64, false);
    const v1::SearchResponse exact = SearchBy(daemon, collection, atom, 0, true);
    REQUIRE(ann.results_size() == 10);
    REQUIRE(exact.results_size() == 10);
    std::map<uint64_t, float> want;
    for (const auto& r : exact.results()) want[r.atom_id()] = r.distance();
    int hit = 0;
    for (const auto& r : ann.results()) {
      CHECK(r.atom_id() != atom);
      auto it = want.find(r.atom_id());
      if (it == want.end()) continue;
      ++hit;
      CHECK(r.distance() == Approx(it->second).epsilon(1e-5));
    }
    recall += hit / 10.0;
    ++queries;
  }
  return recall / queries;
}

}  // namespace

TEST_CASE("an hnsw_sq8 collection answers like hnsw in a fraction of the memory, across kill -9",
          "[search][sq8]") {
  Daemon daemon;
  if (!LoadFashion(daemon, kRows)) return;
  nlohmann::json loaded = JsonOf(Cli(
      daemon, {"--json", "load-vectors", kFashionImages, "--labels", kFashionLabels, "-c", "fm8",
               "--metric", "l2", "--index", "hnsw_sq8", "--limit", std::to_string(kRows)}));
  REQUIRE(loaded["embeddings_added"] == kRows);
  CHECK(loaded["collection"]["index"]["kind"] == "hnsw_sq8");

  v1::Collection floats, codes;
  REQUIRE(daemon.client().GetCollection("fm", &floats).ok());
  REQUIRE(daemon.client().GetCollection("fm8", &codes).ok());
  CHECK(codes.spec().index().kind() == "hnsw_sq8");
  CHECK(codes.vector_count() == kRows);
  CHECK(codes.bytes_per_vector() == codes.memory_bytes() / kRows);
  INFO("bytes per vector: hnsw " << floats.bytes_per_vector() << ", hnsw_sq8 "
                                 << codes.bytes_per_vector());
  CHECK(codes.bytes_per_vector() * 100 <= floats.bytes_per_vector() * 40);

  // Both collections hold the same rows under the same atoms: their exact
  // answers agree, the float index's from memory, sq8's from LMDB.
  for (uint64_t atom = 1; atom <= kRows; atom += 499) {
    const v1::SearchResponse a = SearchBy(daemon, "fm", atom, 0, true);
    const v1::SearchResponse b = SearchBy(daemon, "fm8", atom, 0, true);
    REQUIRE(a.results_size() == b.results_size());
    for (int i = 0; i < a.results_size(); ++i) {
      CHECK(a.results(i).atom_id() == b.results(i).atom_id());
      CHECK(a.results(i).distance() == Approx(b.results(i).distance()).epsilon(1e-6));
    }
  }
  const double before = AnnRecall(daemon, "fm8");
  INFO("recall@10 at ef 64 before the kill: " << before);
  CHECK(before >= 0.95);

  // Rows deleted through the API never come back.
  const v1::SearchResponse first = SearchBy(daemon, "fm8", 1, 64, false);
  const uint64_t gone = first.results(0).atom_id();
  REQUIRE(daemon.client().DeleteEmbedding("fm8", gone).ok());

  daemon.Kill9();
  daemon.Start();
  v1::Collection again;
  REQUIRE(daemon.client().GetCollection("fm8", &again).ok());
  CHECK(again.vector_count() == codes.vector_count() - 1);
  CHECK(again.bytes_per_vector() * 100 <= floats.bytes_per_vector() * 40);
  for (bool exact : {false, true}) {
    const v1::SearchResponse after = SearchBy(daemon, "fm8", 1, 64, exact);
    for (const auto& r : after.results()) CHECK(r.atom_id() != gone);
  }
  const double after = AnnRecall(daemon, "fm8");
  INFO("recall@10 at ef 64 after the restart: " << after);
  CHECK(after >= 0.95);
}

}  // namespace hartonomous::testing
