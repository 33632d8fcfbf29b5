// "hnsw_sq8" collections through a real daemon on Fashion-MNIST: the same
// rows as an "hnsw" collection in a fraction of its memory, exact answers
// equal to the float index's, ANN answers at a recall floor with exact
// distances, deleted rows never returned, and the same after kill -9 and a
// restart. Once with the pixels as they are (8-bit values: lossless codes,
// answered from memory) and once moved off the 8-bit grid (every answer
// reranked from the floats in LMDB).
#include <zlib.h>

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

// Mean recall@10 of collection's ANN (ef 64) against its exact search over
// the atoms in `atoms`, every ANN hit's distance equal to the exact one.
double AnnRecall(Daemon& daemon, const std::string& collection,
                 const std::vector<uint64_t>& atoms) {
  double recall = 0;
  int queries = 0;
  for (size_t i = 0; i < atoms.size(); i += 211) {
    const uint64_t atom = atoms[i];
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

// The checks both cases share, on collections `floats` ("hnsw") and `codes`
// ("hnsw_sq8") holding the same rows under the same atoms.
void CheckSq8(Daemon& daemon, const std::string& floats, const std::string& codes,
              const std::vector<uint64_t>& atoms) {
  v1::Collection f, c;
  REQUIRE(daemon.client().GetCollection(floats, &f).ok());
  REQUIRE(daemon.client().GetCollection(codes, &c).ok());
  CHECK(c.spec().index().kind() == "hnsw_sq8");
  CHECK(c.vector_count() == atoms.size());
  CHECK(c.bytes_per_vector() == c.memory_bytes() / c.vector_count());
  INFO("bytes per vector: hnsw " << f.bytes_per_vector() << ", hnsw_sq8 " << c.bytes_per_vector());
  CHECK(c.bytes_per_vector() * 100 <= f.bytes_per_vector() * 40);

  for (size_t i = 0; i < atoms.size(); i += 499) {
    const v1::SearchResponse a = SearchBy(daemon, floats, atoms[i], 0, true);
    const v1::SearchResponse b = SearchBy(daemon, codes, atoms[i], 0, true);
    REQUIRE(a.results_size() == b.results_size());
    for (int r = 0; r < a.results_size(); ++r) {
      CHECK(a.results(r).atom_id() == b.results(r).atom_id());
      CHECK(a.results(r).distance() == Approx(b.results(r).distance()).epsilon(1e-5));
    }
  }
  const double before = AnnRecall(daemon, codes, atoms);
  INFO("recall@10 at ef 64 before the kill: " << before);
  CHECK(before >= 0.95);

  // A deleted row never comes back, before or after kill -9 and a restart.
  const uint64_t gone = SearchBy(daemon, codes, atoms[0], 64, false).results(0).atom_id();
  REQUIRE(daemon.client().DeleteEmbedding(codes, gone).ok());
  daemon.Kill9();
  daemon.Start();
  v1::Collection again;
  REQUIRE(daemon.client().GetCollection(codes, &again).ok());
  CHECK(again.vector_count() == atoms.size() - 1);
  CHECK(again.bytes_per_vector() * 100 <= f.bytes_per_vector() * 40);
  for (bool exact : {false, true}) {
    const v1::SearchResponse found = SearchBy(daemon, codes, atoms[0], 64, exact);
    CHECK(found.results_size() == 10);
    for (const auto& r : found.results()) CHECK(r.atom_id() != gone);
  }
  const double after = AnnRecall(daemon, codes, atoms);
  INFO("recall@10 at ef 64 after the restart: " << after);
  CHECK(after >= 0.95);
}

}  // namespace

TEST_CASE("hnsw_sq8 on 8-bit pixels: lossless codes, answers like hnsw in a fraction of the memory",
          "[search][sq8]") {
  Daemon daemon;
  if (!LoadFashion(daemon, kRows)) return;
  nlohmann::json loaded = JsonOf(Cli(
      daemon, {"--json", "load-vectors", kFashionImages, "--labels", kFashionLabels, "-c", "fm8",
               "--metric", "l2", "--index", "hnsw_sq8", "--limit", std::to_string(kRows)}));
  REQUIRE(loaded["embeddings_added"] == kRows);
  CHECK(loaded["collection"]["index"]["kind"] == "hnsw_sq8");
  std::vector<uint64_t> atoms;
  for (uint64_t a = 1; a <= kRows; ++a) atoms.push_back(a);
  CheckSq8(daemon, "fm", "fm8", atoms);
}

TEST_CASE("hnsw_sq8 on values off the 8-bit grid reranks from the floats in LMDB",
          "[search][sq8]") {
  if (!std::filesystem::exists(kFashionImages)) {
    WARN("Fashion-MNIST is not installed; skipping");
    return;
  }
  // The pixels / 255, each moved by a fixed fraction of a grid step: the
  // same images, no longer 8-bit values.
  constexpr size_t kDim = 784;
  const int n = 3000;
  std::string pixels(16 + n * kDim, '\0');
  gzFile f = gzopen(kFashionImages, "rb");
  REQUIRE(f != nullptr);
  REQUIRE(gzread(f, pixels.data(), static_cast<unsigned>(pixels.size())) ==
          static_cast<int>(pixels.size()));
  gzclose(f);
  Daemon daemon;
  std::vector<uint64_t> atoms;
  for (int start = 0; start < n; start += 500) {
    std::vector<v1::IngestAtomRequest> batch;
    std::vector<std::vector<float>> rows;
    for (int r = start; r < start + 500; ++r) {
      std::vector<float> v(kDim);
      for (size_t d = 0; d < kDim; ++d) {
        const float p = static_cast<unsigned char>(pixels[16 + r * kDim + d]);
        v[d] = (p + 0.1f * static_cast<float>((r * 31 + d) % 7)) / 255.0f;
      }
      v1::IngestAtomRequest atom;
      atom.set_content(std::string(reinterpret_cast<const char*>(v.data()), kDim * sizeof(float)));
      atom.set_modality("embedding");
      atom.set_subtype("float32");
      batch.push_back(std::move(atom));
      rows.push_back(std::move(v));
    }
    v1::IngestAtomsResponse ingested;
    REQUIRE(daemon.client().IngestAtoms(batch, &ingested).ok());
    std::vector<v1::EmbeddingInput> inputs;
    for (size_t i = 0; i < rows.size(); ++i) {
      v1::EmbeddingInput in;
      in.set_atom_id(ingested.results(static_cast<int>(i)).atom_id());
      atoms.push_back(in.atom_id());
      in.mutable_vector()->Add(rows[i].begin(), rows[i].end());
      inputs.push_back(std::move(in));
    }
    for (const char* kind : {"hnsw", "hnsw_sq8"}) {
      v1::CollectionSpec spec;
      spec.set_embedding_type(kind);
      spec.set_metric(v1::METRIC_L2);
      spec.mutable_index()->set_kind(kind);
      v1::AddEmbeddingsResponse added;
      REQUIRE(daemon.client().AddEmbeddings(kind, &spec, inputs, &added).ok());
      REQUIRE(added.embeddings_added() == inputs.size());
    }
  }
  CheckSq8(daemon, "hnsw", "hnsw_sq8", atoms);
}

}  // namespace hartonomous::testing
