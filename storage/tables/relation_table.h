// RelationTable: the atom relation graph (the design document's
// AtomRelation), a many-to-many self relation of atoms with typed, ordered,
// weighted edges. The 'contains' edges of composite atoms (documents and
// paragraphs) are their child lists (AtomTable, "atom_children"): Scan and
// ContainersOf present them as edges among the rows below (weight 1, the
// list's creation time, the entry's edge metadata), and ReleaseReference
// releases them with their composite. Every other edge is stored twice, in
// the same transaction:
//   "atom_relations"          be64(source) type 0x00 be64(ordinal) be64(target) -> RelationRecord
//   "atom_relations_reverse"  be64(target) type 0x00 be64(source) be64(ordinal) -> ""
// so that children (by source) and parents (by target) are both one prefix
// scan, in (type, ordinal) and (type, source) order respectively.
//
// Reference counting (ReleaseReference below): every 'contains' edge holds
// one reference on its target, so an atom's reference count is at least the
// number of 'contains' edges into it, and it cannot be released or deleted
// out from under them.
//
// Thread-safety: stateless apart from the table handles; every method works
// inside the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::storage {

// The relation type whose edges hold a reference on their target.
inline constexpr std::string_view kContains = "contains";

struct Edge {
  uint64_t source = 0;
  uint64_t target = 0;
  std::string type;
  uint64_t ordinal = 0;
  RelationRecord record;
};

enum class Direction { kChildren, kParents };

// Who holds an atom through 'contains' edges (RelationTable::ContainersOf).
struct Containers {
  uint64_t edges = 0;             // 'contains' edges into the atom, counted up to a limit
  bool more_edges = false;        // the count stopped at its limit
  std::vector<uint64_t> parents;  // distinct sources of those edges, the first kNamed
  bool more_parents = false;      // parents left out
  std::vector<uint64_t> tops;     // containers reached by following parents up that have
                                  // no container themselves (documents), the first kNamed
  static constexpr size_t kNamed = 5;
};

class RelationTable {
 public:
  explicit RelationTable(const Tables& tables) : t_(tables) {}

  // REQUIRES: type is 1..32 characters of [a-z0-9_-] (no 0x00).
  static std::string ForwardKey(uint64_t source, std::string_view type, uint64_t ordinal,
                                uint64_t target);
  static std::string ReverseKey(uint64_t source, std::string_view type, uint64_t ordinal,
                                uint64_t target);
  // Parses a stored key back into an edge (record left empty); nullopt when
  // the key is malformed.
  static std::optional<Edge> ParseKey(Direction direction, std::string_view key);

  // Writes both directions. Returns true when the edge is new, false when it
  // existed (its record is overwritten).
  Result<bool> Put(WriteTxn& txn, const Edge& edge);
  // Removes both directions. Returns whether the edge existed.
  Result<bool> Delete(WriteTxn& txn, const Edge& edge);

  // Visits the edges of atom_id in the given direction, of one type (empty =
  // every type), in key order, starting after the key suffix `after` (empty =
  // from the first). visit returns false to stop. The suffix of each visited
  // edge is passed along (for page tokens). Parent edges carry their record.
  Status Scan(Txn& txn, Direction direction, uint64_t atom_id, std::string_view type,
              std::string_view after,
              const std::function<bool(const Edge&, std::string_view suffix)>& visit) const;

  // The 'contains' edges into atom_id, counted up to max_edges, with the
  // first few parents and the topmost containers above them (at most 1000
  // atoms are visited on the way up).
  Result<Containers> ContainersOf(Txn& txn, uint64_t atom_id, uint64_t max_edges) const;
  // The number of 'contains' edges into atom (its listed references and
  // edge rows), counted up to limit: no record read, one seek.
  Result<uint64_t> CountContainsEdges(Txn& txn, const AtomRecord& atom, uint64_t limit) const;

  // One more than the largest ordinal of source's edges of this type (0 when none).
  Result<uint64_t> NextOrdinal(Txn& txn, uint64_t source, std::string_view type) const;

  // --- edge audit (server/engine/admin/consistency_checker.h) ---
  // Visits every stored edge row of one table ("atom_relations" for
  // kChildren, "atom_relations_reverse" for kParents), in key order, the
  // record left empty. DataLoss for a malformed key.
  Status ForEachRow(Txn& txn, Direction table,
                    const std::function<Status(const Edge&)>& visit) const;
  // Whether the other table holds edge's row.
  Result<bool> HasCounterpart(Txn& txn, Direction table, const Edge& edge) const;
  // Repair: writes the reverse row of an edge whose forward row exists.
  // Returns false (nothing written) when the forward row is gone or the
  // reverse row is there.
  Result<bool> RestoreReverse(WriteTxn& txn, const Edge& edge);
  // Repair: deletes a reverse row whose forward row does not exist. Returns
  // false when the forward row exists or the reverse row is gone.
  Result<bool> DropDanglingReverse(WriteTxn& txn, const Edge& edge);

  // Removes every edge that starts or ends at atom_id, in both tables.
  // Returns how many edges were removed.
  Result<uint64_t> RemoveAllOf(WriteTxn& txn, uint64_t atom_id);

 private:
  const Tables& t_;
};

// Adds one reference to atom_id; an inactive atom becomes active with one
// reference. container != 0: the reference is held by one more entry of
// that composite's child list (AtomTable::AddListedEdge). NotFound when the
// atom does not exist.
Status AcquireReference(WriteTxn& txn, AtomTable& atoms, uint64_t atom_id, int64_t now_us,
                        AtomRecord* after = nullptr, uint64_t container = 0);

// Adds n >= 1 references to atom_id with one read-modify-write of its
// record (a text repeated n times in one write costs one update, not n).
// An inactive atom becomes active with n references. before: atom_id's
// stored record when the caller has just read it in this transaction (it
// is not read again), else nullptr. NotFound when the atom does not exist;
// InvalidArgument when n is 0. Nothing is changed on an error.
Status AcquireReferences(WriteTxn& txn, AtomTable& atoms, uint64_t atom_id, uint64_t n,
                         int64_t now_us, const AtomRecord* before = nullptr,
                         AtomRecord* after = nullptr);

// Drops one reference of atom_id (all of them when drop_all). When the count
// reaches zero the atom becomes inactive and its outgoing 'contains' edges are
// removed, each releasing one reference of its target, transitively.
// `after` receives atom_id's record after the change; *deactivated counts the
// atoms that became inactive (atom_id included).
// FailedPrecondition when atom_id is already inactive and !drop_all, and,
// naming the containing atoms and documents, when 'contains' edges still
// hold atom_id: with drop_all when there is any such edge, without it when
// every remaining reference is held by one (the release would take the count
// below the edges). Nothing is changed then.
Status ReleaseReference(WriteTxn& txn, AtomTable& atoms, RelationTable& relations, uint64_t atom_id,
                        bool drop_all, int64_t now_us, AtomRecord* after, uint64_t* deactivated);

// Drops n >= 1 references of atom_id at once, as n ReleaseReference calls
// would (without drop_all), with one read-modify-write of its record: when
// the count reaches zero the atom becomes inactive and its 'contains' edges
// are released as above. FailedPrecondition when the atom is inactive, holds
// fewer than n references, or when 'contains' edges hold more of its
// references than would remain; InvalidArgument when n is 0; NotFound when
// it does not exist. Nothing is changed on an error.
Status ReleaseReferences(WriteTxn& txn, AtomTable& atoms, RelationTable& relations,
                         uint64_t atom_id, uint64_t n, int64_t now_us, AtomRecord* after,
                         uint64_t* deactivated);

}  // namespace hartonomous::storage
