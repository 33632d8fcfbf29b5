#include "server/engine/graph/graph_engine.h"

#include <deque>
#include <memory>
#include <unordered_set>

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/common/await_result.h"

namespace hartonomous::engine {

using storage::Direction;
using storage::Edge;

bool IsDocumentNode(const std::string& subtype) {
  return subtype == "document" || subtype == "paragraph";
}

GraphEngine::GraphEngine(storage::Env& env, const storage::Tables& tables,
                         storage::WriteBatcher& writer, std::string page_token_key)
    : env_(env), tables_(tables), writer_(writer), tokens_(std::move(page_token_key)) {}

Result<std::vector<AddedRelation>> GraphEngine::AddRelations(
    const std::vector<RelationInput>& inputs) {
  return AwaitResult<std::vector<AddedRelation>>(
      [&](AddRelationsDone done) { AddRelationsAsync(inputs, std::move(done)); });
}

void GraphEngine::AddRelationsAsync(std::vector<RelationInput> relations, AddRelationsDone done) {
  const int64_t now = NowMicros();
  const size_t n = relations.size();
  auto shared = std::make_shared<const std::vector<RelationInput>>(std::move(relations));
  auto write = [this, shared, now](storage::WriteTxn& txn,
                                   std::vector<AddedRelation>& out) -> Status {
    const std::vector<RelationInput>& inputs = *shared;
    storage::AtomTable atoms(tables_);
    storage::RelationTable relations(tables_);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const RelationInput& in = inputs[i];
      const std::string field = "relations[" + std::to_string(i) + "]";
      HT_ASSIGN_OR_RETURN(auto source, atoms.Get(txn, in.source_atom_id));
      if (!source) {
        return Status::NotFound(field + ".source_atom_id: atom " +
                                std::to_string(in.source_atom_id) + " does not exist");
      }
      HT_ASSIGN_OR_RETURN(auto target, atoms.Get(txn, in.target_atom_id));
      if (!target) {
        return Status::NotFound(field + ".target_atom_id: atom " +
                                std::to_string(in.target_atom_id) + " does not exist");
      }
      const bool contains = in.relation_type == storage::kContains;
      if (contains && (source->content_lists_children() || IsDocumentNode(source->subtype()))) {
        return Status::FailedPrecondition(
            field + ".source_atom_id: atom " + std::to_string(in.source_atom_id) + " is a " +
            source->subtype() +
            " of a decomposed document; its 'contains' edges are managed by "
            "IngestDocument");
      }
      if (contains && !target->is_active()) {
        return Status::FailedPrecondition(field + ".target_atom_id: atom " +
                                          std::to_string(in.target_atom_id) +
                                          " is inactive; a 'contains' edge needs a live target");
      }
      Edge edge;
      edge.source = in.source_atom_id;
      edge.target = in.target_atom_id;
      edge.type = in.relation_type;
      if (in.ordinal) {
        edge.ordinal = *in.ordinal;
      } else {
        HT_ASSIGN_OR_RETURN(edge.ordinal, relations.NextOrdinal(txn, edge.source, edge.type));
      }
      edge.record.set_weight(in.weight);
      edge.record.set_metadata(in.metadata);
      edge.record.set_created_at_us(now);
      HT_ASSIGN_OR_RETURN(bool created, relations.Put(txn, edge));
      if (created && contains) {
        HT_RETURN_IF_ERROR(storage::AcquireReference(txn, atoms, edge.target, now));
      }
      out.push_back(AddedRelation{std::move(edge), created});
    }
    return atoms.FlushCounters(txn);
  };
  WriteThen<std::vector<AddedRelation>>(writer_, std::move(write), std::move(done), n * 128, n);
}

Result<RelationPage> GraphEngine::ListRelations(uint64_t atom_id, Direction direction,
                                                const std::string& relation_type, int page_size,
                                                std::string_view page_token,
                                                ResponseBudget* budget) {
  const uint64_t fingerprint = PageTokenCodec::Fingerprint(
      {std::to_string(atom_id), direction == Direction::kChildren ? "children" : "parents",
       relation_type});
  std::string after;
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(after, tokens_.DecodeBytes(page_token, fingerprint));
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto atom, storage::AtomTable(tables_).Get(txn, atom_id));
  if (!atom)
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
  RelationPage page;
  std::string last;
  bool too_large = false;
  HT_RETURN_IF_ERROR(storage::RelationTable(tables_).Scan(
      txn, direction, atom_id, relation_type, after,
      [&](const Edge& edge, std::string_view suffix) {
        if (static_cast<int>(page.edges.size()) == page_size) {
          page.next_page_token = tokens_.EncodeBytes(last, fingerprint);
          return false;
        }
        if (budget != nullptr && !budget->TryChargeItem(ResponseBytes(edge))) {
          too_large = page.edges.empty();
          if (!too_large) page.next_page_token = tokens_.EncodeBytes(last, fingerprint);
          return false;
        }
        page.edges.push_back(edge);
        last = std::string(suffix);
        return true;
      }));
  if (too_large) {
    return budget->Exceeded("the next relation of atom " + std::to_string(atom_id) +
                            " alone is larger");
  }
  return page;
}

size_t GraphEngine::ResponseBytes(const Edge& edge) {
  // Ids, ordinal, type and the Timestamp around the record's fields.
  return edge.record.ByteSizeLong() + edge.type.size() + 64;
}

Result<Traversal> GraphEngine::Traverse(uint64_t atom_id, Direction direction,
                                        const std::vector<std::string>& types, uint32_t max_depth,
                                        uint32_t max_nodes, ResponseBudget* budget) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto atom, storage::AtomTable(tables_).Get(txn, atom_id));
  if (!atom)
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
  storage::RelationTable relations(tables_);
  Traversal result;
  std::unordered_set<uint64_t> seen{atom_id};
  std::deque<size_t> frontier{0};
  result.nodes.push_back(TraversalNode{atom_id, 0, std::nullopt});
  const std::vector<std::string> all_types{""};
  const auto& scan_types = types.empty() ? all_types : types;
  while (!frontier.empty() && !result.truncated) {
    const size_t index = frontier.front();
    frontier.pop_front();
    const uint64_t from = result.nodes[index].atom_id;
    const uint32_t depth = result.nodes[index].depth;
    if (depth >= max_depth) continue;
    for (const std::string& type : scan_types) {
      HT_RETURN_IF_ERROR(
          relations.Scan(txn, direction, from, type, "", [&](const Edge& edge, std::string_view) {
            const uint64_t next = direction == Direction::kChildren ? edge.target : edge.source;
            if (!seen.insert(next).second) return true;
            // A node: its id, depth and the edge it was reached by.
            if (result.nodes.size() >= max_nodes ||
                (budget != nullptr && !budget->TryChargeItem(ResponseBytes(edge) + 32))) {
              result.truncated = true;
              return false;
            }
            result.nodes.push_back(TraversalNode{next, depth + 1, edge});
            frontier.push_back(result.nodes.size() - 1);
            return true;
          }));
      if (result.truncated) break;
    }
  }
  return result;
}

}  // namespace hartonomous::engine
