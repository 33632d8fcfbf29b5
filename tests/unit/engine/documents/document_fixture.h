// Shared by the document engine tests: the atom, document and graph engines
// over one temporary LMDB environment, and input builders.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "server/engine/atoms/atom_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "storage/write_batcher.h"
#include "tests/unit/fields.h"
#include "tests/unit/storage/temp_env.h"

namespace hartonomous::testing {

inline engine::AtomInput Atom(std::string content) {
  engine::AtomInput in;
  in.content = std::move(content);
  in.modality = "text";
  return in;
}

struct DocumentFixture {
  TempEnv env;
  storage::WriteBatcher writer{env.env()};
  engine::AtomEngine atoms{env.env(), env.tables(), writer, "k"};
  engine::DocumentEngine docs{env.env(), env.tables(), writer};
  engine::GraphEngine graph{env.env(), env.tables(), writer, "k"};

  // One text atom per content, ingested together; their ids in order.
  std::vector<uint64_t> IngestAtoms(const std::vector<std::string>& contents) {
    std::vector<engine::AtomInput> inputs;
    for (const auto& content : contents) inputs.push_back(Atom(content));
    auto ingested = atoms.Ingest(std::move(inputs));
    REQUIRE(ingested.ok());
    return FieldOf(ingested->atoms, &engine::IngestedAtom::atom_id);
  }

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

// prefix + "0", prefix + "1", ... (n of them).
inline std::vector<std::string> Numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// modality: declared, or empty to sniff.
inline engine::DocumentInput Doc(std::string content, std::string modality = "") {
  engine::DocumentInput in;
  in.content = std::move(content);
  in.modality = std::move(modality);
  return in;
}

}  // namespace hartonomous::testing
