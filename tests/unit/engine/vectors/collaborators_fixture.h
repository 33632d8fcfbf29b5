// Fixture of the vectors collaborators' unit tests: the collaborators wired
// by hand, as EmbeddingEngine wires them, over a temporary data dir, so each
// test drives the one under test directly.
#pragma once

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "index/index_registry.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/vectors/collection_registry.h"
#include "server/engine/vectors/embedding_options.h"
#include "server/engine/vectors/embedding_writer.h"
#include "server/engine/vectors/index_maintainer.h"
#include "server/engine/vectors/spatial_search.h"
#include "server/engine/vectors/vector_search.h"
#include "storage/write_batcher.h"
#include "tests/unit/engine/vectors/embedding_fixture.h"
#include "tests/unit/storage/temp_env.h"

namespace hartonomous::engine::testing_parts {

inline EmbeddingEngineOptions QuietOptions() {
  EmbeddingEngineOptions options;
  options.background = false;  // tests call RunMaintenance themselves
  options.snapshot_on_stop = false;
  options.projection_fit_after = 0;
  return options;
}

inline CollectionSpec FlatSpec(uint32_t dim, const std::string& type = "text",
                               index::Metric metric = index::Metric::kL2) {
  CollectionSpec spec;
  spec.embedding_type = type;
  spec.model_id = 1;
  spec.dimension = dim;
  spec.metric = metric;
  spec.index_kind = "flat";
  return spec;
}

struct Parts {
  explicit Parts(EmbeddingEngineOptions o = QuietOptions()) : options(std::move(o)) {}

  // See testing_fixture::MakeAtoms.
  std::vector<uint64_t> MakeAtoms(size_t n, const std::string& tag = "") {
    return testing_fixture::MakeAtoms(atoms, n, tag);
  }

  std::shared_ptr<Collection> Create(const std::string& name, const CollectionSpec& spec) {
    REQUIRE(writer
                .Write([&](storage::WriteTxn& txn) {
                  return collections.Insert(txn, name, spec).status();
                })
                .ok());
    auto c = collections.Find(name);
    REQUIRE(c != nullptr);
    return c;
  }

  testing::TempEnv t{size_t{64} << 20};
  storage::WriteBatcher writer{t.env()};
  AtomEngine atoms{t.env(), t.tables(), writer, std::string(32, 'k')};
  EmbeddingEngineOptions options;
  CollectionRegistry collections{t.env(), t.tables(), index::IndexRegistry::Default()};
  SpatialSearch spatial{t.env(), t.tables(), writer, collections};
  IndexMaintainer maintainer{t.env(),     t.tables(), options, index::IndexRegistry::Default(),
                             collections, spatial};
  EmbeddingWriter rows{t.tables(), writer, collections, maintainer};
  VectorSearch search{t.env(), t.tables(), collections, options.max_widen_rounds};
};

using testing_fixture::NearestTo;
using testing_fixture::NearestToAtom;
using testing_fixture::RandomVector;

}  // namespace hartonomous::engine::testing_parts
