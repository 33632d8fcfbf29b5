// DocumentSources: the identity of documents. A source (the source_uri of an
// IngestDocument request, e.g. "file:///usr/share/doc/x/copyright") holds at
// most one document at a time, and holding it is one of the root's
// references. DocumentEngine calls these steps inside its own write
// transaction, so a source changes with the document or not at all.
//
// Ingest with a source_uri:
//   1. Held(): the active document the source holds now (a row whose root
//      is missing, inactive or not a document is stale and ignored).
//   2. If it has the new document's manifest hash, the ingest is a no-op.
//   3. Otherwise the engine writes the document (one reference on its root),
//      then Bind() points the source at it and releases one reference of the
//      previously held root, exactly as DeleteDocument does.
// DeleteDocument: Resolve() names the root (removing the source's row when
// the request names a source), the engine drops one reference, then Trim()
// removes sources of that root until no more of them hold it than it has
// references (all of them when it became inactive), in key order.
//
// Invariant kept by these steps and by RemoveAll (registered as an atom
// dependent remover, so DeleteAtom and PurgeInactive run it): the sources
// holding a root never outnumber its references, and no source holds an
// inactive root. ReleaseAtom on a root (the atom API, not the document API)
// does not consult sources; a row it leaves on an inactive root is stale and
// ignored by Held().
//
// Thread-safety: immutable after construction; every method works inside the
// transaction it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/document_source_table.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::engine {

class DocumentSources {
 public:
  explicit DocumentSources(const storage::Tables& tables);

  // The active document root source_uri holds; nullopt when source_uri is
  // empty, when the source holds nothing, or when its row is stale.
  Result<std::optional<storage::AtomRecord>> Held(storage::Txn& txn, storage::AtomTable& atoms,
                                                  std::string_view source_uri) const;

  // Points source_uri at document_id (which already holds the reference
  // that stands for it). held: what Held() returned; when it is another
  // root, that root loses one reference (and its parts, transitively, when
  // it reaches zero). *replaced receives held's id, or 0. A no-op when
  // source_uri is empty.
  Status Bind(storage::WriteTxn& txn, storage::AtomTable& atoms, storage::RelationTable& relations,
              std::string_view source_uri, uint64_t document_id,
              const std::optional<storage::AtomRecord>& held, int64_t now_us,
              uint64_t* replaced) const;

  // The root a DeleteDocument names. With a source_uri, removes that
  // source's row (NotFound naming source_uri when it holds nothing;
  // InvalidArgument naming document_id when both are given and disagree).
  // *removed counts the rows removed (0 or 1).
  Result<uint64_t> Resolve(storage::WriteTxn& txn, uint64_t document_id,
                           std::string_view source_uri, uint64_t* removed) const;

  // After root lost a reference: removes its sources beyond its reference
  // count (all of them when it is inactive), in key order. Returns how many.
  Result<uint64_t> Trim(storage::WriteTxn& txn, const storage::AtomRecord& root) const;

  // Removes every source that holds atom_id (the atom is being deleted or
  // purged). Returns how many.
  Result<uint64_t> RemoveAll(storage::WriteTxn& txn, uint64_t atom_id) const;

 private:
  storage::DocumentSourceTable table_;
};

}  // namespace hartonomous::engine
