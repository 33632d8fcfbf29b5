// MetaTable: the "meta" table, string key -> bytes: the schema version, the
// page-token key, the writer epoch and one-time markers such as
// "default_policies_created" (storage/schema.h lists them).
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/key_codec.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::storage {

class MetaTable {
 public:
  explicit MetaTable(const Tables& t) : dbi_(t.meta) {}

  Result<std::optional<std::string>> Find(Txn& txn, std::string_view key) const {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(dbi_, key, &value));
    if (!found) return std::optional<std::string>();
    return std::optional<std::string>(std::string(value));
  }

  Status Put(WriteTxn& txn, std::string_view key, std::string_view value) const {
    return txn.Put(dbi_, key, value);
  }

  // A timestamp in microseconds, stored as be64 (as created_at_us).
  Status PutTime(WriteTxn& txn, std::string_view key, int64_t micros) const {
    return txn.Put(dbi_, key, Be64Key(static_cast<uint64_t>(micros)));
  }

 private:
  MDB_dbi dbi_;
};

}  // namespace hartonomous::storage
