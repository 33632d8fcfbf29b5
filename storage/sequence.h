// Id sequences stored in the "sequences" table: ids are issued in increasing
// order, never reused, and survive restarts because they are written in the
// same transaction as the rows that use them.
//
// Thread-safety: a Sequence is used inside one write transaction at a time.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "storage/lmdb_env.h"

namespace hartonomous::storage {

class Sequence {
 public:
  // name: e.g. "atom_id". REQUIRES: txn outlives this object.
  Sequence(WriteTxn& txn, MDB_dbi sequences, std::string name)
      : txn_(txn), dbi_(sequences), name_(std::move(name)) {}

  // Next id (the first is 1). Reads the stored value on first use.
  Result<uint64_t> Next();
  // Writes the last issued id back. REQUIRES: called before the txn commits
  // when Next() was called.
  Status Flush();

 private:
  WriteTxn& txn_;
  MDB_dbi dbi_;
  std::string name_;
  bool loaded_ = false;
  bool dirty_ = false;
  uint64_t last_ = 0;
};

}  // namespace hartonomous::storage
