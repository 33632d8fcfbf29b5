// IdTable<Record>: a table keyed by be64(id) that holds one protobuf record
// per id (atoms, collections, deduplication policies, and the tables later
// domains add). It owns that key encoding: callers speak in ids only, and
// LMDB's key order is id order.
//
// Reads return the record as StoredRecordForm<Record> restores it (a table
// may store a shorter form, storage/tables/record_codec.h); Put stores the
// record as given, so such a table writes through its own code.
//
// Errors: Get -> NotFound "<table>: no record <id>" when absent; every read
// of a record that does not parse -> DataLoss "<table>: record <id> is
// corrupt" (storage/tables/record_codec.h).
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/key_codec.h"
#include "storage/lmdb_env.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {

template <typename Record>
class IdTable {
 public:
  // name: the table's LMDB name, used in error messages.
  IdTable(MDB_dbi dbi, const char* name) : dbi_(dbi), name_(name) {}

  MDB_dbi dbi() const { return dbi_; }
  const char* name() const { return name_; }

  static std::string Key(uint64_t id) { return Be64Key(id); }

  Result<std::optional<Record>> Find(Txn& txn, uint64_t id) const {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(dbi_, Key(id), &value));
    if (!found) return std::optional<Record>();
    HT_ASSIGN_OR_RETURN(Record record, ParseRecord<Record>(value, name_, id));
    HT_RETURN_IF_ERROR(StoredRecordForm<Record>::Restore(id, &record));
    return std::optional<Record>(std::move(record));
  }

  Result<Record> Get(Txn& txn, uint64_t id) const {
    HT_ASSIGN_OR_RETURN(std::optional<Record> record, Find(txn, id));
    if (!record) return Status::NotFound(std::string(name_) + ": no record " + std::to_string(id));
    return std::move(*record);
  }

  Result<bool> Contains(Txn& txn, uint64_t id) const {
    std::string_view value;
    return txn.Get(dbi_, Key(id), &value);
  }

  Status Put(WriteTxn& txn, uint64_t id, const Record& record) const {
    return txn.Put(dbi_, Key(id), record.SerializeAsString());
  }

  // True when the record existed.
  Result<bool> Remove(WriteTxn& txn, uint64_t id) const { return txn.Del(dbi_, Key(id)); }

  // Calls visit(id, record) for every record with an id above `after`, in id
  // order, until visit returns false.
  Status ScanAfter(Txn& txn, uint64_t after,
                   const std::function<bool(uint64_t id, Record&& record)>& visit) const {
    auto cursor = txn.OpenCursor(dbi_);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(Key(after + 1)));
    while (valid) {
      const uint64_t id = ReadBe64(cursor->key());
      HT_ASSIGN_OR_RETURN(Record record, ParseRecord<Record>(cursor->value(), name_, id));
      HT_RETURN_IF_ERROR(StoredRecordForm<Record>::Restore(id, &record));
      if (!visit(id, std::move(record))) return Status::Ok();
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    return Status::Ok();
  }

  // The highest stored id; 0 when the table is empty.
  Result<uint64_t> LastId(Txn& txn) const {
    auto cursor = txn.OpenCursor(dbi_);
    HT_ASSIGN_OR_RETURN(bool any, cursor->Last());
    return any ? ReadBe64(cursor->key()) : uint64_t{0};
  }

 private:
  MDB_dbi dbi_;
  const char* name_;
};

}  // namespace hartonomous::storage
