// ImportStagingTable: the references model imports in progress hold.
//
//   "model_import_staging": be64(import_id) be32(batch) -> ImportStagingRecord
//
// An import stores its chunks in several write transactions (so a large
// file never needs one giant transaction or the whole file in memory); each
// batch adds one row listing the atoms it referenced (one reference each)
// and which of them it created. The import's final transaction deletes the
// rows and hands their references to the model's rows; an abandoned
// import's rows are released by the model engine, at once or, after a
// crash, at the next start.
//
// Import ids come from the "model_import_id" sequence.
//
// Errors: a row that does not parse or a key of the wrong length ->
// DataLoss naming the table and the key.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::storage {

class ImportStagingTable {
 public:
  explicit ImportStagingTable(const Tables& t) : t_(t) {}

  // A new import id (from the "model_import_id" sequence).
  Result<uint64_t> NewImportId(WriteTxn& txn) const;
  Status Put(WriteTxn& txn, uint64_t import_id, uint32_t batch,
             const ImportStagingRecord& record) const;
  // Calls visit(batch, row) for the import's rows in batch order.
  Status Scan(Txn& txn, uint64_t import_id,
              const std::function<Status(uint32_t batch, ImportStagingRecord&&)>& visit) const;
  // Deletes the import's rows; returns how many.
  Result<uint64_t> Remove(WriteTxn& txn, uint64_t import_id) const;
  // Calls visit(import_id) for each import with rows, ascending.
  Status ForEachImport(Txn& txn, const std::function<Status(uint64_t import_id)>& visit) const;

  static std::string Key(uint64_t import_id, uint32_t batch);

 private:
  Tables t_;
};

}  // namespace hartonomous::storage
