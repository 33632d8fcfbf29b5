#include "storage/tables/relation_table.h"

#include <algorithm>
#include <map>
#include <optional>

#include "storage/key_codec.h"

namespace hartonomous::storage {
namespace {

std::string TypePrefix(uint64_t atom_id, std::string_view type) {
  std::string key = Be64Key(atom_id);
  if (!type.empty()) {
    key.append(type);
    key.push_back('\0');
  }
  return key;
}

// first, type, NUL, a, b: the layout of both edge tables' keys.
std::string EdgeKey(uint64_t first, std::string_view type, uint64_t a, uint64_t b) {
  std::string key;
  key.reserve(25 + type.size());
  AppendBe64(&key, first);
  key.append(type);
  key.push_back('\0');
  AppendBe64(&key, a);
  AppendBe64(&key, b);
  return key;
}

}  // namespace

std::string RelationTable::ForwardKey(uint64_t source, std::string_view type, uint64_t ordinal,
                                      uint64_t target) {
  return EdgeKey(source, type, ordinal, target);
}

std::string RelationTable::ReverseKey(uint64_t source, std::string_view type, uint64_t ordinal,
                                      uint64_t target) {
  return EdgeKey(target, type, source, ordinal);
}

std::optional<Edge> RelationTable::ParseKey(Direction direction, std::string_view key) {
  if (key.size() < 8 + 1 + 16) return std::nullopt;
  const size_t nul = key.find('\0', 8);
  if (nul == std::string_view::npos || nul == 8 || key.size() != nul + 1 + 16) return std::nullopt;
  Edge edge;
  edge.type = std::string(key.substr(8, nul - 8));
  const uint64_t first = ReadBe64(key);
  const uint64_t a = ReadBe64(key.substr(nul + 1));
  const uint64_t b = ReadBe64(key.substr(nul + 9));
  if (direction == Direction::kChildren) {
    edge.source = first;
    edge.ordinal = a;
    edge.target = b;
  } else {
    edge.target = first;
    edge.source = a;
    edge.ordinal = b;
  }
  return edge;
}

Result<bool> RelationTable::Put(WriteTxn& txn, const Edge& edge) {
  const std::string forward = ForwardKey(edge.source, edge.type, edge.ordinal, edge.target);
  std::string_view existing;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_relations, forward, &existing));
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_relations, forward, edge.record.SerializeAsString()));
  if (!found) {
    HT_RETURN_IF_ERROR(txn.Put(t_.atom_relations_reverse,
                               ReverseKey(edge.source, edge.type, edge.ordinal, edge.target), ""));
  }
  return !found;
}

Status RelationTable::ForEachRow(Txn& txn, Direction table,
                                 const std::function<Status(const Edge&)>& visit) const {
  const bool forward = table == Direction::kChildren;
  auto cursor = txn.OpenCursor(forward ? t_.atom_relations : t_.atom_relations_reverse);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    auto edge = ParseKey(table, cursor->key());
    if (!edge) {
      return Status::DataLoss(std::string(forward ? "atom_relations" : "atom_relations_reverse") +
                              ": malformed key");
    }
    HT_RETURN_IF_ERROR(visit(*edge));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<bool> RelationTable::HasCounterpart(Txn& txn, Direction table, const Edge& edge) const {
  std::string_view value;
  if (table == Direction::kChildren) {
    return txn.Get(t_.atom_relations_reverse,
                   ReverseKey(edge.source, edge.type, edge.ordinal, edge.target), &value);
  }
  return txn.Get(t_.atom_relations, ForwardKey(edge.source, edge.type, edge.ordinal, edge.target),
                 &value);
}

Result<bool> RelationTable::RestoreReverse(WriteTxn& txn, const Edge& edge) {
  HT_ASSIGN_OR_RETURN(bool forward, HasCounterpart(txn, Direction::kParents, edge));
  HT_ASSIGN_OR_RETURN(bool reverse, HasCounterpart(txn, Direction::kChildren, edge));
  if (!forward || reverse) return false;
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_relations_reverse,
                             ReverseKey(edge.source, edge.type, edge.ordinal, edge.target), ""));
  return true;
}

Result<bool> RelationTable::DropDanglingReverse(WriteTxn& txn, const Edge& edge) {
  HT_ASSIGN_OR_RETURN(bool forward, HasCounterpart(txn, Direction::kParents, edge));
  if (forward) return false;
  return txn.Del(t_.atom_relations_reverse,
                 ReverseKey(edge.source, edge.type, edge.ordinal, edge.target));
}

Result<bool> RelationTable::Delete(WriteTxn& txn, const Edge& edge) {
  HT_ASSIGN_OR_RETURN(
      bool found,
      txn.Del(t_.atom_relations, ForwardKey(edge.source, edge.type, edge.ordinal, edge.target)));
  HT_RETURN_IF_ERROR(txn.Del(t_.atom_relations_reverse,
                             ReverseKey(edge.source, edge.type, edge.ordinal, edge.target))
                         .status());
  return found;
}

namespace {

constexpr std::string_view kContainsSection("contains\0", 9);

// The 'contains' edges of composite child lists ("atom_children") around
// atom_id, as Scan presents them: in key-suffix order, after `after`.
class ListedEdges {
 public:
  ListedEdges(Txn& txn, const Tables& tables, Direction direction, uint64_t atom_id,
              std::string_view after)
      : txn_(txn), atoms_(tables), direction_(direction), atom_id_(atom_id), after_(after) {}

  // Loads what the first Next needs.
  Status Start() {
    if (!after_.empty() && after_ > kContainsSection &&
        after_.substr(0, kContainsSection.size()) != kContainsSection) {
      return Status::Ok();  // past every 'contains' suffix
    }
    const bool in_section = after_.substr(0, kContainsSection.size()) == kContainsSection &&
                            after_.size() == kContainsSection.size() + 16;
    if (direction_ == Direction::kChildren) {
      HT_ASSIGN_OR_RETURN(auto listing, atoms_.Children(txn_, atom_id_));
      if (!listing) return Status::Ok();
      listing_ = std::move(*listing);
      if (in_section) next_ = ReadBe64(after_.substr(kContainsSection.size()));
      return Advance();
    }
    HT_ASSIGN_OR_RETURN(auto child, atoms_.Get(txn_, atom_id_));
    if (!child || child->listed_references() == 0) return Status::Ok();
    child_ = std::move(*child);
    if (in_section) from_ = ReadBe64(after_.substr(kContainsSection.size()));
    return Advance();
  }

  bool has_edge() const { return has_; }
  const Edge& edge() const { return edge_; }
  const std::string& suffix() const { return suffix_; }

  // Moves to the next edge (has_edge() false at the end).
  Status Advance() {
    has_ = false;
    if (direction_ == Direction::kChildren) {
      while (next_ < listing_.children.size()) {
        const uint64_t k = next_++;
        const ListedChild& child = listing_.children[k];
        SetEdge(atom_id_, child.atom_id, k, child.edge_metadata, listing_.created_at_us);
        if (suffix_ > after_) return Status::Ok();
      }
      has_ = false;
      return Status::Ok();
    }
    while (true) {
      while (pending_ < ordinals_.size()) {
        const uint64_t k = ordinals_[pending_++];
        const ListedChild& entry = parent_listing_.children[k];
        SetEdge(parent_, atom_id_, k, entry.edge_metadata, parent_listing_.created_at_us);
        if (suffix_ > after_) return Status::Ok();
      }
      has_ = false;
      if (batch_next_ == batch_.size()) {
        if (done_) return Status::Ok();
        batch_.clear();
        batch_next_ = 0;
        HT_RETURN_IF_ERROR(atoms_.ForEachContainer(txn_, child_, from_, [&](uint64_t parent) {
          batch_.push_back(parent);
          return batch_.size() < kBatch;
        }));
        if (batch_.size() < kBatch) done_ = true;
        if (batch_.empty()) return Status::Ok();
        from_ = batch_.back() + 1;
      }
      parent_ = batch_[batch_next_++];
      HT_ASSIGN_OR_RETURN(auto listing, atoms_.Children(txn_, parent_));
      if (!listing) {
        return Status::DataLoss("atom " + std::to_string(atom_id_) + " records container " +
                                std::to_string(parent_) + ", which lists no children");
      }
      parent_listing_ = std::move(*listing);
      ordinals_.clear();
      pending_ = 0;
      for (size_t k = 0; k < parent_listing_.children.size(); ++k) {
        if (parent_listing_.children[k].atom_id == atom_id_) ordinals_.push_back(k);
      }
      if (ordinals_.empty()) {
        return Status::DataLoss("atom " + std::to_string(atom_id_) + " records container " +
                                std::to_string(parent_) + ", which does not list it");
      }
    }
  }

 private:
  static constexpr size_t kBatch = 64;

  void SetEdge(uint64_t source, uint64_t target, uint64_t ordinal, const std::string& metadata,
               int64_t created_at_us) {
    edge_ = Edge{};
    edge_.source = source;
    edge_.target = target;
    edge_.type = std::string(kContains);
    edge_.ordinal = ordinal;
    edge_.record.set_weight(1.0);
    edge_.record.set_metadata(metadata);
    edge_.record.set_created_at_us(created_at_us);
    const std::string key = direction_ == Direction::kChildren
                                ? RelationTable::ForwardKey(source, kContains, ordinal, target)
                                : RelationTable::ReverseKey(source, kContains, ordinal, target);
    suffix_ = key.substr(8);
    has_ = true;
  }

  Txn& txn_;
  AtomTable atoms_;
  const Direction direction_;
  const uint64_t atom_id_;
  const std::string after_;
  bool has_ = false;
  Edge edge_;
  std::string suffix_;
  // Children.
  ChildListing listing_;
  size_t next_ = 0;
  // Parents: the child's record, containers in batches, the current
  // parent's list and the positions that hold the child.
  AtomRecord child_;
  uint64_t from_ = 0;
  std::vector<uint64_t> batch_;
  size_t batch_next_ = 0;
  bool done_ = false;
  uint64_t parent_ = 0;
  ChildListing parent_listing_;
  std::vector<uint64_t> ordinals_;
  size_t pending_ = 0;
};

}  // namespace

Status RelationTable::Scan(
    Txn& txn, Direction direction, uint64_t atom_id, std::string_view type, std::string_view after,
    const std::function<bool(const Edge&, std::string_view suffix)>& visit) const {
  const MDB_dbi dbi =
      direction == Direction::kChildren ? t_.atom_relations : t_.atom_relations_reverse;
  const std::string prefix = TypePrefix(atom_id, type);
  const std::string id_key = Be64Key(atom_id);
  std::string start = after.empty() ? prefix : id_key + std::string(after);
  auto cursor = txn.OpenCursor(dbi);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(start));
  if (valid && !after.empty() && cursor->key() == start) {
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  std::optional<ListedEdges> listed;
  if (type.empty() || type == kContains) {
    listed.emplace(txn, t_, direction, atom_id, after);
    HT_RETURN_IF_ERROR(listed->Start());
  }
  while (true) {
    const bool row = valid && cursor->key().substr(0, prefix.size()) == prefix;
    const bool list = listed && listed->has_edge();
    if (!row && !list) break;
    if (list && (!row || listed->suffix() < cursor->key().substr(8))) {
      if (!visit(listed->edge(), listed->suffix())) break;
      HT_RETURN_IF_ERROR(listed->Advance());
      continue;
    }
    auto edge = ParseKey(direction, cursor->key());
    if (!edge)
      return Status::DataLoss("atom relations of atom " + std::to_string(atom_id) +
                              ": malformed key");
    if (direction == Direction::kChildren) {
      if (!edge->record.ParseFromArray(cursor->value().data(),
                                       static_cast<int>(cursor->value().size()))) {
        return Status::DataLoss("atom_relations: corrupt record of atom " +
                                std::to_string(atom_id));
      }
    } else {
      std::string_view value;
      HT_ASSIGN_OR_RETURN(
          bool found,
          txn.Get(t_.atom_relations,
                  ForwardKey(edge->source, edge->type, edge->ordinal, edge->target), &value));
      if (!found) {
        return Status::DataLoss("atom_relations_reverse: edge " + std::to_string(edge->source) +
                                " -> " + std::to_string(edge->target) + " has no forward entry");
      }
      if (!edge->record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return Status::DataLoss("atom_relations: corrupt record of atom " +
                                std::to_string(edge->source));
      }
    }
    const std::string suffix(cursor->key().substr(8));
    if (!visit(*edge, suffix)) break;
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<Containers> RelationTable::ContainersOf(Txn& txn, uint64_t atom_id,
                                               uint64_t max_edges) const {
  constexpr size_t kMaxVisited = 1000;
  AtomTable atoms(t_);
  // The distinct sources of the 'contains' edges into `id` (listed parents
  // and edge rows), ascending; counts the edges into *edges (up to limit)
  // when it is set.
  auto parents_of = [&](uint64_t id, uint64_t limit, uint64_t* edges,
                        bool* more) -> Result<std::vector<uint64_t>> {
    std::vector<uint64_t> sources;
    uint64_t seen = 0;
    HT_ASSIGN_OR_RETURN(auto record, atoms.Get(txn, id));
    if (record && record->listed_references() > 0) {
      seen = std::min<uint64_t>(record->listed_references(), limit);
      if (record->listed_references() > limit && more != nullptr) *more = true;
      HT_RETURN_IF_ERROR(atoms.ForEachContainer(txn, *record, 0, [&](uint64_t parent) {
        sources.push_back(parent);
        return sources.size() < kMaxVisited;
      }));
    }
    const std::string prefix = TypePrefix(id, kContains);
    auto cursor = txn.OpenCursor(t_.atom_relations_reverse);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, prefix.size()) == prefix) {
      if (seen >= limit) {
        if (more != nullptr) *more = true;
        break;
      }
      auto edge = ParseKey(Direction::kParents, cursor->key());
      if (!edge)
        return Status::DataLoss("atom relations of atom " + std::to_string(id) + ": malformed key");
      ++seen;
      sources.push_back(edge->source);
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    std::sort(sources.begin(), sources.end());
    sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
    if (edges != nullptr) *edges = seen;
    return sources;
  };
  Containers out;
  HT_ASSIGN_OR_RETURN(auto parents, parents_of(atom_id, max_edges, &out.edges, &out.more_edges));
  out.more_parents = out.more_edges || parents.size() > Containers::kNamed;
  if (parents.size() > Containers::kNamed) parents.resize(Containers::kNamed);
  out.parents = parents;
  // Upwards, breadth-first, to the containers that have none.
  std::vector<uint64_t> frontier = parents;
  std::vector<uint64_t> visited = parents;
  for (size_t i = 0; i < frontier.size() && out.tops.size() < Containers::kNamed; ++i) {
    HT_ASSIGN_OR_RETURN(auto above, parents_of(frontier[i], kMaxVisited, nullptr, nullptr));
    if (above.empty()) {
      if (std::find(out.tops.begin(), out.tops.end(), frontier[i]) == out.tops.end()) {
        out.tops.push_back(frontier[i]);
      }
      continue;
    }
    for (uint64_t up : above) {
      if (visited.size() >= kMaxVisited) break;
      if (std::find(visited.begin(), visited.end(), up) != visited.end()) continue;
      visited.push_back(up);
      frontier.push_back(up);
    }
  }
  return out;
}

Result<uint64_t> RelationTable::CountContainsEdges(Txn& txn, const AtomRecord& atom,
                                                   uint64_t limit) const {
  uint64_t edges = std::min<uint64_t>(atom.listed_references(), limit);
  if (edges >= limit) return edges;
  const std::string prefix = TypePrefix(atom.atom_id(), kContains);
  auto cursor = txn.OpenCursor(t_.atom_relations_reverse);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
  while (valid && edges < limit && cursor->key().substr(0, prefix.size()) == prefix) {
    ++edges;
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return edges;
}

Result<uint64_t> RelationTable::NextOrdinal(Txn& txn, uint64_t source,
                                            std::string_view type) const {
  std::string prefix = TypePrefix(source, type);
  std::string end = prefix + std::string(17, '\xff');
  auto cursor = txn.OpenCursor(t_.atom_relations);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(end));
  if (valid) {
    HT_ASSIGN_OR_RETURN(valid, cursor->Prev());
  } else {
    HT_ASSIGN_OR_RETURN(valid, cursor->Last());
  }
  if (!valid || cursor->key().substr(0, prefix.size()) != prefix) return uint64_t{0};
  auto edge = ParseKey(Direction::kChildren, cursor->key());
  if (!edge)
    return Status::DataLoss("atom_relations: malformed key of atom " + std::to_string(source));
  return edge->ordinal + 1;
}

Result<uint64_t> RelationTable::RemoveAllOf(WriteTxn& txn, uint64_t atom_id) {
  std::vector<Edge> edges;
  for (Direction direction : {Direction::kChildren, Direction::kParents}) {
    const MDB_dbi dbi =
        direction == Direction::kChildren ? t_.atom_relations : t_.atom_relations_reverse;
    const std::string prefix = Be64Key(atom_id);
    auto cursor = txn.OpenCursor(dbi);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, 8) == prefix) {
      auto edge = ParseKey(direction, cursor->key());
      if (!edge)
        return Status::DataLoss("atom relations of atom " + std::to_string(atom_id) +
                                ": malformed key");
      edges.push_back(std::move(*edge));
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  uint64_t removed = 0;
  for (const Edge& edge : edges) {
    HT_ASSIGN_OR_RETURN(bool existed, Delete(txn, edge));
    if (existed) ++removed;
  }
  return removed;
}

Status AcquireReferences(WriteTxn& txn, AtomTable& atoms, uint64_t atom_id, uint64_t n,
                         int64_t now_us, const AtomRecord* before, AtomRecord* after_out) {
  if (n == 0) return Status::InvalidArgument("references: must be at least 1");
  std::optional<AtomRecord> read;
  if (before == nullptr) {
    HT_ASSIGN_OR_RETURN(read, atoms.Get(txn, atom_id));
    if (!read)
      return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
    before = &*read;
  }
  AtomRecord after = *before;
  const int64_t added = static_cast<int64_t>(n);
  after.set_reference_count(after.is_active() ? after.reference_count() + added : added);
  after.set_is_active(true);
  after.set_updated_at_us(now_us);
  HT_RETURN_IF_ERROR(atoms.Update(txn, *before, after));
  if (after_out != nullptr) *after_out = std::move(after);
  return Status::Ok();
}

Status AcquireReference(WriteTxn& txn, AtomTable& atoms, uint64_t atom_id, int64_t now_us,
                        AtomRecord* after_out, uint64_t container) {
  HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, atom_id));
  if (!before)
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
  AtomRecord after = *before;
  after.set_reference_count(after.is_active() ? after.reference_count() + 1 : 1);
  after.set_is_active(true);
  after.set_updated_at_us(now_us);
  if (container != 0) HT_RETURN_IF_ERROR(atoms.AddListedEdge(txn, &after, container));
  HT_RETURN_IF_ERROR(atoms.Update(txn, *before, after));
  if (after_out != nullptr) *after_out = std::move(after);
  return Status::Ok();
}

namespace {

std::string JoinIds(const std::vector<uint64_t>& ids, bool more) {
  std::string out;
  for (uint64_t id : ids) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
  }
  if (more) out += ", ...";
  return out;
}

// "2 'contains' edges from atoms 12, 40 (documents 5, 9)"
std::string DescribeContainers(const Containers& c) {
  std::string text = std::to_string(c.edges) + (c.more_edges ? " or more" : "") +
                     (c.edges == 1 && !c.more_edges ? " 'contains' edge" : " 'contains' edges") +
                     " from atoms " + JoinIds(c.parents, c.more_parents);
  if (!c.tops.empty() && c.tops != c.parents) {
    text += " (documents " + JoinIds(c.tops, c.tops.size() == Containers::kNamed) + ")";
  }
  return text;
}

// FailedPrecondition when the caller's release of n references (or, with
// all, delete) of `atom` would take its reference count below the
// 'contains' edges into it. REQUIRES: !all implies n <= the count.
Status CheckNotContained(Txn& txn, const RelationTable& relations, const AtomRecord& atom, bool all,
                         uint64_t n) {
  const uint64_t count = static_cast<uint64_t>(std::max<int64_t>(0, atom.reference_count()));
  // Deleting needs no edge at all; releasing needs at most count - n edges.
  const uint64_t limit = all ? 1000 : count - n + 1;
  // The common case, no edge past the limit, without reading the containers.
  HT_ASSIGN_OR_RETURN(const uint64_t edges, relations.CountContainsEdges(txn, atom, limit));
  if (all ? edges == 0 : edges + n <= count) return Status::Ok();
  HT_ASSIGN_OR_RETURN(Containers c,
                      relations.ContainersOf(txn, atom.atom_id(), all ? limit : count));
  const std::string id = std::to_string(atom.atom_id());
  if (all && c.edges > 0) {
    return Status::FailedPrecondition("atom_id: atom " + id + " is held by " +
                                      DescribeContainers(c) +
                                      "; delete those documents (or the containing atoms) first");
  }
  if (!all && c.edges + n > count) {
    return Status::FailedPrecondition("atom_id: atom " + id + "'s " + std::to_string(count) +
                                      (count == 1 ? " reference is" : " references are") +
                                      " held by " + DescribeContainers(c) +
                                      "; delete those documents (or the containing atoms) first");
  }
  return Status::Ok();
}

// ReleaseReference (n = 1) and ReleaseReferences (n >= 1, !drop_all).
Status Release(WriteTxn& txn, AtomTable& atoms, RelationTable& relations, uint64_t atom_id,
               bool drop_all, uint64_t n, int64_t now_us, AtomRecord* after_out,
               uint64_t* deactivated) {
  // What is still to release; an explicit stack keeps deep 'contains'
  // chains off the call stack.
  struct Pending {
    uint64_t atom_id;
    bool all;            // the caller's delete: every reference
    uint64_t container;  // != 0: `edges` entries of this composite's list held it
    uint64_t edges;      // references to drop (1 for the caller or an edge row)
  };
  std::vector<Pending> pending{{atom_id, drop_all, 0, n}};
  bool first = true;
  while (!pending.empty()) {
    const Pending item = pending.back();
    pending.pop_back();
    const uint64_t id = item.atom_id;
    HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, id));
    if (!before) {
      if (first) return Status::NotFound("atom_id: atom " + std::to_string(id) + " does not exist");
      return Status::DataLoss("a 'contains' edge points at missing atom " + std::to_string(id));
    }
    if (!before->is_active()) {
      if (first && !item.all) {
        return Status::FailedPrecondition("atom_id: atom " + std::to_string(id) +
                                          " is inactive and holds no references");
      }
      if (first && after_out != nullptr) *after_out = *before;
      first = false;
      continue;  // nothing held
    }
    // Only the caller's own reference may go: the references of 'contains'
    // edges are released by removing the edges (below, for a container).
    if (first && !item.all && static_cast<uint64_t>(before->reference_count()) < n) {
      return Status::FailedPrecondition("atom_id: atom " + std::to_string(id) + " holds " +
                                        std::to_string(before->reference_count()) +
                                        " references, fewer than the " + std::to_string(n) +
                                        " to release");
    }
    if (first) HT_RETURN_IF_ERROR(CheckNotContained(txn, relations, *before, item.all, n));
    AtomRecord after = *before;
    if (item.container != 0) {
      HT_RETURN_IF_ERROR(atoms.RemoveListedEdges(txn, &after, item.container, item.edges));
    }
    const int64_t drop = static_cast<int64_t>(item.edges);
    after.set_reference_count(item.all ? 0
                                       : std::max<int64_t>(0, before->reference_count() - drop));
    after.set_is_active(after.reference_count() > 0);
    after.set_updated_at_us(now_us);
    HT_RETURN_IF_ERROR(atoms.Update(txn, *before, after));
    if (first && after_out != nullptr) *after_out = after;
    first = false;
    if (after.is_active()) continue;
    if (deactivated != nullptr) ++*deactivated;
    if (after.content_lists_children()) {
      HT_ASSIGN_OR_RETURN(ChildListing listing, atoms.ReleaseChildren(txn, id));
      std::map<uint64_t, uint64_t> entries;  // child -> list entries holding it
      for (const ListedChild& child : listing.children) ++entries[child.atom_id];
      for (const auto& [child, held_by] : entries) pending.push_back({child, false, id, held_by});
    }
    std::vector<Edge> held;
    HT_RETURN_IF_ERROR(relations.Scan(txn, Direction::kChildren, id, kContains, "",
                                      [&](const Edge& edge, std::string_view) {
                                        held.push_back(edge);
                                        return true;
                                      }));
    for (const Edge& edge : held) {
      HT_RETURN_IF_ERROR(relations.Delete(txn, edge).status());
      pending.push_back({edge.target, false, 0, 1});
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReleaseReference(WriteTxn& txn, AtomTable& atoms, RelationTable& relations, uint64_t atom_id,
                        bool drop_all, int64_t now_us, AtomRecord* after_out,
                        uint64_t* deactivated) {
  return Release(txn, atoms, relations, atom_id, drop_all, 1, now_us, after_out, deactivated);
}

Status ReleaseReferences(WriteTxn& txn, AtomTable& atoms, RelationTable& relations,
                         uint64_t atom_id, uint64_t n, int64_t now_us, AtomRecord* after_out,
                         uint64_t* deactivated) {
  if (n == 0) return Status::InvalidArgument("references: must be at least 1");
  return Release(txn, atoms, relations, atom_id, false, n, now_us, after_out, deactivated);
}

}  // namespace hartonomous::storage
