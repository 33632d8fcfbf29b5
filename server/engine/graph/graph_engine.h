// GraphEngine: the atom relation graph — AddRelations, ListRelations (paged
// children or parents, optionally by type) and bounded-depth traversal.
// 'contains' edges hold one reference on their target (AddRelations takes
// it; releasing the source to zero references gives it back).
//
// Inputs are assumed validated field by field (server/rpc/atom/atom_validation.h); the
// engine checks what needs the database (existence, state).
//
// Thread-safety: thread-safe. Reads use LMDB read transactions on the
// caller's thread; AddRelations is one WriteBatcher request (all or nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/engine/common/page_token.h"
#include "server/engine/common/paging.h"
#include "server/engine/common/response_budget.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/relation_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

struct RelationInput {
  uint64_t source_atom_id = 0;
  uint64_t target_atom_id = 0;
  std::string relation_type;        // [a-z0-9_-]{1,32}
  std::optional<uint64_t> ordinal;  // unset = after the source's last edge of this type
  double weight = 1.0;
  std::string metadata;  // JSON object text, or empty
};

struct AddedRelation {
  storage::Edge edge;
  bool created = false;  // false: the edge existed; its weight/metadata were replaced
};

struct RelationPage {
  std::vector<storage::Edge> edges;
  std::string next_page_token;  // empty = last page
};

struct TraversalNode {
  uint64_t atom_id = 0;
  uint32_t depth = 0;                // 0 = the start atom
  std::optional<storage::Edge> via;  // the edge it was first reached by
};

struct Traversal {
  std::vector<TraversalNode> nodes;  // breadth-first, each atom once
  bool truncated = false;            // max_nodes or the response budget was reached
};

class GraphEngine {
 public:
  GraphEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
              std::string page_token_key);
  GraphEngine(const GraphEngine&) = delete;
  GraphEngine& operator=(const GraphEngine&) = delete;

  // All edges or none. NotFound naming relations[i] when an atom does not
  // exist; FailedPrecondition for a 'contains' edge out of a decomposed
  // document node (its 'contains' edges belong to IngestDocument) or into an
  // inactive atom.
  Result<std::vector<AddedRelation>> AddRelations(const std::vector<RelationInput>& relations);
  // AddRelations without waiting for the commit: done receives its result
  // on the writer thread after the commit (short, must not block).
  using AddRelationsDone = std::function<void(Result<std::vector<AddedRelation>>)>;
  void AddRelationsAsync(std::vector<RelationInput> relations, AddRelationsDone done);

  // page_size: REQUIRES 1..kMaxPageSize (common/paging.h). With a budget the page ends early
  // (with a next_page_token) before the first edge that would not fit
  // (ResponseBytes); ResourceExhausted when the first edge alone does not.
  Result<RelationPage> ListRelations(uint64_t atom_id, storage::Direction direction,
                                     const std::string& relation_type, int page_size,
                                     std::string_view page_token, ResponseBudget* budget = nullptr);

  // Breadth-first from atom_id along edges of the given types (empty = all),
  // up to max_depth edges away and max_nodes atoms. With a budget, the
  // traversal also stops (truncated) before the first node that would not fit.
  Result<Traversal> Traverse(uint64_t atom_id, storage::Direction direction,
                             const std::vector<std::string>& relation_types, uint32_t max_depth,
                             uint32_t max_nodes, ResponseBudget* budget = nullptr);

  // An upper bound of the encoded size of the API Relation of `edge`.
  static size_t ResponseBytes(const storage::Edge& edge);

  static constexpr uint32_t kMaxDepth = 64;
  static constexpr uint32_t kMaxNodes = 100000;

 private:
  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
  PageTokenCodec tokens_;
};

// Subtypes of atoms whose 'contains' edges IngestDocument manages.
bool IsDocumentNode(const std::string& subtype);

}  // namespace hartonomous::engine
