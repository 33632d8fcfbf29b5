// PendingReleaseTable: atom references that a committed deletion gave up
// and that are still to be released on their atoms.
//
//   "atom_pending_releases": be64(atom_id) -> be64(references)
//
// The inference prune queues the references of its rows' texts here, in
// the transaction that deletes the rows (one small row per text and batch,
// instead of a read-modify-write of the text's atom record and
// reference-count index per batch), and releases them afterwards in
// atom-id order (ReleaseReferences). The queue is durable: a prune stopped
// by a crash leaves it, and the next prune releases it first. An atom
// counted here still holds those references until they are released.
//
// Errors: a value that is not 8 bytes -> DataLoss naming the table.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::storage {

class PendingReleaseTable {
 public:
  explicit PendingReleaseTable(const Tables& t) : dbi_(t.atom_pending_releases) {}

  // Adds references (>= 1) to atom_id's queued count.
  Status Add(WriteTxn& txn, uint64_t atom_id, uint64_t references) const;
  // Visits the queued atoms in atom-id order; visit returns false to stop.
  Status Scan(Txn& txn,
              const std::function<bool(uint64_t atom_id, uint64_t references)>& visit) const;
  // Removes atom_id's entry (absent: nothing).
  Status Remove(WriteTxn& txn, uint64_t atom_id) const;
  Result<uint64_t> Count(Txn& txn) const;

 private:
  MDB_dbi dbi_;
};

}  // namespace hartonomous::storage
