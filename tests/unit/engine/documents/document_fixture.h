// Shared by the document engine tests: the atom, document and graph engines
// over one temporary LMDB environment, and input builders.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/unit/storage/temp_env.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "storage/write_batcher.h"

namespace hartonomous::testing {

struct DocumentFixture {
  TempEnv env;
  storage::WriteBatcher writer{env.env()};
  engine::AtomEngine atoms{env.env(), env.tables(), writer, "k"};
  engine::DocumentEngine docs{env.env(), env.tables(), writer};
  engine::GraphEngine graph{env.env(), env.tables(), writer, "k"};

  uint64_t Count(MDB_dbi dbi) {
    storage::ReadTxn txn(env.env());
    return *txn.Count(dbi);
  }
  std::vector<storage::Edge> Children(uint64_t id, const std::string& type = "") {
    auto page = graph.ListRelations(id, storage::Direction::kChildren, type, 1000, "");
    REQUIRE(page.ok());
    return page->edges;
  }
};

inline engine::AtomInput Atom(std::string content) {
  engine::AtomInput in;
  in.content = std::move(content);
  in.modality = "text";
  return in;
}

// modality: declared, or empty to sniff.
inline engine::DocumentInput Doc(std::string content, std::string modality = "") {
  engine::DocumentInput in;
  in.content = std::move(content);
  in.modality = std::move(modality);
  return in;
}

}  // namespace hartonomous::testing
