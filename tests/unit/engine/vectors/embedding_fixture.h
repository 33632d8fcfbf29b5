// Shared fixture of the EmbeddingEngine tests: a temporary data dir with the
// writer, an AtomEngine and an EmbeddingEngine that can be reopened.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "index/distance.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "tests/unit/fields.h"
#include "tests/unit/storage/temp_env.h"

namespace hartonomous::engine::testing_fixture {

namespace fs = std::filesystem;

// A query (SearchQuery or HybridSearchQuery) for the k nearest to vector in
// collection.
template <typename Query = SearchQuery>
Query NearestTo(const std::string& collection, std::vector<float> vector, size_t k) {
  Query q;
  q.collection = collection;
  q.vector = std::move(vector);
  q.k = k;
  return q;
}

// The same for the k nearest to atom_id's own vector in collection.
template <typename Query = SearchQuery>
Query NearestToAtom(const std::string& collection, uint64_t atom_id, size_t k) {
  Query q;
  q.collection = collection;
  q.atom_id = atom_id;
  q.k = k;
  return q;
}

inline std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Ingests n atoms; atom i has modality m{i%3}, subtype s{i%2} and
// metadata {"color": "c{i%5}", "n": i}.
inline std::vector<uint64_t> MakeAtoms(AtomEngine& engine, size_t n, const std::string& tag = "") {
  std::vector<AtomInput> inputs;
  for (size_t i = 0; i < n; ++i) {
    AtomInput in;
    in.content = tag + "atom " + std::to_string(i);
    in.modality = "m" + std::to_string(i % 3);
    in.subtype = "s" + std::to_string(i % 2);
    in.source_type = "test";
    in.canonical_text = in.content;
    in.metadata = "{\"color\":\"c" + std::to_string(i % 5) + "\",\"n\":" + std::to_string(i) + "}";
    inputs.push_back(in);
  }
  auto r = engine.Ingest(inputs);
  REQUIRE(r.ok());
  return testing::FieldOf(r->atoms, &IngestedAtom::atom_id);
}

// A data dir with atoms, the writer and both engines; Reopen() drops the
// embedding engine (optionally without its shutdown snapshot, as a crash
// would) and opens it again on the same LMDB.
struct Fixture {
  explicit Fixture(bool snapshots = true) {
    if (snapshots) options.snapshot_dir = t.dir() + "/vector_indexes";
    options.background = false;  // tests call RunMaintenance themselves
    Open();
  }
  void Open() {
    auto e = EmbeddingEngine::Open(t.env(), t.tables(), writer, options);
    REQUIRE(e.ok());
    embeddings = std::move(e).value();
    atoms.AddDependentRemover([this](storage::WriteTxn& txn, uint64_t atom_id) {
      return embeddings->RemoveAtomEmbeddings(txn, atom_id);
    });
  }
  // clean = false: the snapshots on disk stay as they were before the
  // shutdown snapshot, as after kill -9.
  void Reopen(bool clean) {
    const std::string saved = t.dir() + "/saved_snapshots";
    const bool had_snapshots = fs::exists(options.snapshot_dir);
    if (!clean && had_snapshots) fs::copy(options.snapshot_dir, saved, fs::copy_options::recursive);
    embeddings.reset();
    if (!clean) {
      fs::remove_all(options.snapshot_dir);
      if (had_snapshots) fs::rename(saved, options.snapshot_dir);
    }
    // The atom engine's remover reaches the new engine through `embeddings`.
    auto e = EmbeddingEngine::Open(t.env(), t.tables(), writer, options);
    REQUIRE(e.ok());
    embeddings = std::move(e).value();
  }
  AtomEngine& atom_engine() { return atoms; }

  // See testing_fixture::MakeAtoms.
  std::vector<uint64_t> MakeAtoms(size_t n, const std::string& tag = "") {
    return testing_fixture::MakeAtoms(atoms, n, tag);
  }

  testing::TempEnv t{size_t{256} << 20};
  storage::WriteBatcher writer{t.env()};
  AtomEngine atoms{t.env(), t.tables(), writer, std::string(32, 'k')};
  EmbeddingEngineOptions options;
  std::unique_ptr<EmbeddingEngine> embeddings;
};

inline CollectionSpec Spec(uint32_t dim, const std::string& kind,
                           index::Metric metric = index::Metric::kCosine,
                           const std::string& type = "text") {
  CollectionSpec s;
  s.embedding_type = type;
  s.model_id = 1;
  s.dimension = dim;
  s.metric = metric;
  s.index_kind = kind;
  return s;
}

// Brute force over the rows the test itself wrote: (atom id, vector).
inline std::vector<std::pair<uint64_t, float>> BruteForce(
    index::Metric metric, const std::map<uint64_t, std::vector<float>>& rows, std::vector<float> q,
    size_t k, const std::function<bool(uint64_t)>& keep) {
  if (metric == index::Metric::kCosine) index::Normalize(q.data(), q.size());
  std::vector<std::pair<float, uint64_t>> all;
  for (const auto& [atom, v] : rows) {
    if (!keep(atom)) continue;
    std::vector<float> x = v;
    if (metric == index::Metric::kCosine) index::Normalize(x.data(), x.size());
    all.emplace_back(index::Distance(metric, q.data(), x.data(), q.size()), atom);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::pair<uint64_t, float>> out;
  for (size_t i = 0; i < std::min(k, all.size()); ++i)
    out.emplace_back(all[i].second, all[i].first);
  return out;
}

inline std::map<uint64_t, std::vector<float>> AddRandom(Fixture& f, const std::string& collection,
                                                        const std::vector<uint64_t>& atom_ids,
                                                        size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::map<uint64_t, std::vector<float>> rows;
  std::vector<EmbeddingInput> inputs;
  for (uint64_t id : atom_ids) {
    EmbeddingInput in;
    in.atom_id = id;
    in.vector = RandomVector(rng, dim);
    rows[id] = in.vector;
    inputs.push_back(in);
  }
  auto r = f.embeddings->AddEmbeddings(collection, std::nullopt, inputs);
  REQUIRE(r.ok());
  REQUIRE(r->embedding_ids.size() == atom_ids.size());
  return rows;
}

}  // namespace hartonomous::engine::testing_fixture
