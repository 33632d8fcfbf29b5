// NamedTable<Record>: records with an id from a sequence and a unique name,
// as two tables kept in step: "<records>": be64(id) -> Record (an IdTable)
// and "<names>": name -> be64(id). Collections and deduplication policies
// are stored this way; so is every later catalog with user-chosen names.
//
// The name is a field of the record (fields.name), as is the id
// (fields.id / fields.set_id). Insert assigns the id; Update moves the name
// index when the name changed; Remove deletes both rows.
//
// Errors: a name already used -> AlreadyExists "<name_field>: a <what> named
// '<name>' already exists"; a name whose id has no record -> DataLoss
// "<names>: '<name>' has no record"; a corrupt record -> DataLoss (IdTable).
// Lookups of absent keys return nullopt: the caller names the request field.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/key_codec.h"
#include "storage/lmdb_env.h"
#include "storage/sequence.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {

template <typename Record>
struct NamedFields {
  uint64_t (Record::*id)() const;
  void (Record::*set_id)(uint64_t);
  const std::string& (Record::*name)() const;
};

struct NamedTableSpec {
  MDB_dbi records;
  const char* records_name;  // LMDB name of `records`, e.g. "collections"
  MDB_dbi names;
  const char* names_name;  // e.g. "collection_names"
  MDB_dbi sequences;
  const char* sequence;    // id sequence, e.g. "collection_id"
  const char* what;        // "collection": used in error messages
  const char* name_field;  // request field holding the name, e.g. "name"
};

template <typename Record>
class NamedTable {
 public:
  NamedTable(const NamedTableSpec& spec, NamedFields<Record> fields)
      : spec_(spec), fields_(fields), records_(spec.records, spec.records_name) {}

  const IdTable<Record>& records() const { return records_; }

  Result<std::optional<Record>> Find(Txn& txn, uint64_t id) const { return records_.Find(txn, id); }

  Result<std::optional<uint64_t>> FindId(Txn& txn, std::string_view name) const {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(spec_.names, name, &value));
    if (!found) return std::optional<uint64_t>();
    if (value.size() != sizeof(uint64_t)) {
      return Status::DataLoss(std::string(spec_.names_name) + ": entry '" + std::string(name) +
                              "' is corrupt");
    }
    return std::optional<uint64_t>(ReadBe64(value));
  }

  Result<std::optional<Record>> FindByName(Txn& txn, std::string_view name) const {
    HT_ASSIGN_OR_RETURN(std::optional<uint64_t> id, FindId(txn, name));
    if (!id) return std::optional<Record>();
    HT_ASSIGN_OR_RETURN(std::optional<Record> record, records_.Find(txn, *id));
    if (!record) {
      return Status::DataLoss(std::string(spec_.names_name) + ": '" + std::string(name) +
                              "' has no record");
    }
    return record;
  }

  // AlreadyExists (see above) when the name is used.
  Status CheckNameFree(Txn& txn, std::string_view name) const {
    HT_ASSIGN_OR_RETURN(std::optional<uint64_t> id, FindId(txn, name));
    if (!id) return Status::Ok();
    return Status::AlreadyExists(std::string(spec_.name_field) + ": a " + spec_.what + " named '" +
                                 std::string(name) + "' already exists");
  }

  // Stores a new record under a fresh id from the sequence and sets it in
  // *record. REQUIRES: (record->*name)() is not empty.
  Result<uint64_t> Insert(WriteTxn& txn, Record* record) const {
    const std::string& name = (record->*fields_.name)();
    HT_RETURN_IF_ERROR(CheckNameFree(txn, name));
    Sequence ids(txn, spec_.sequences, spec_.sequence);
    HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
    HT_RETURN_IF_ERROR(ids.Flush());
    (record->*fields_.set_id)(id);
    HT_RETURN_IF_ERROR(records_.Put(txn, id, *record));
    HT_RETURN_IF_ERROR(txn.Put(spec_.names, name, Be64Key(id)));
    return id;
  }

  // Rewrites a stored record; moves the name index when its name differs
  // from old_name (AlreadyExists when the new name is used).
  // REQUIRES: the record with this id is stored under old_name.
  Status Update(WriteTxn& txn, std::string_view old_name, const Record& record) const {
    const std::string& name = (record.*fields_.name)();
    const uint64_t id = (record.*fields_.id)();
    if (name != old_name) {
      HT_RETURN_IF_ERROR(CheckNameFree(txn, name));
      HT_RETURN_IF_ERROR(txn.Del(spec_.names, old_name).status());
      HT_RETURN_IF_ERROR(txn.Put(spec_.names, name, Be64Key(id)));
    }
    return records_.Put(txn, id, record);
  }

  // Deletes the record and its name.
  Status Remove(WriteTxn& txn, const Record& record) const {
    HT_RETURN_IF_ERROR(records_.Remove(txn, (record.*fields_.id)()).status());
    return txn.Del(spec_.names, (record.*fields_.name)()).status();
  }

 private:
  NamedTableSpec spec_;
  NamedFields<Record> fields_;
  IdTable<Record> records_;
};

}  // namespace hartonomous::storage
