#include "storage/tables/schema_migration.h"

#include <vector>

#include "storage/key_codec.h"

namespace hartonomous::storage {

Result<MigrationProgress> MigrateSchema(Env& env, const Tables& tables, uint32_t from,
                                        const AtomTable::HeaderSizeFn& header_size,
                                        const std::function<void(const MigrationProgress&)>& progress) {
  MigrationProgress state;
  state.from = from;
  if (from >= 3) {
    // Versions 4 and 5 add payload blocks and the atoms' stored form;
    // version 3 and 4 rows read unchanged.
    WriteTxn txn(env, nullptr);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(txn.Put(tables.meta, "schema_version", Be32Key(kSchemaVersion)));
    HT_RETURN_IF_ERROR(txn.Commit());
    return state;
  }
  {
    WriteTxn txn(env, nullptr);
    HT_RETURN_IF_ERROR(txn.status());
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool resuming, txn.Get(tables.meta, "migration_next_atom", &value));
    if (resuming) {
      if (value.size() != 8) return Status::DataLoss("meta.migration_next_atom: malformed");
      state.next_atom = ReadBe64(value);
    } else {
      HT_RETURN_IF_ERROR(txn.Put(tables.meta, "schema_version", Be32Key(kSchemaVersion)));
      HT_RETURN_IF_ERROR(txn.Put(tables.meta, "migration_from", Be32Key(from)));
      HT_RETURN_IF_ERROR(txn.Put(tables.meta, "migration_next_atom", Be64Key(0)));
    }
    HT_RETURN_IF_ERROR(txn.Commit());
  }
  while (true) {
    WriteTxn txn(env, nullptr);
    HT_RETURN_IF_ERROR(txn.status());
    std::vector<uint64_t> ids;
    {
      auto cursor = txn.OpenCursor(tables.atoms);
      HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(Be64Key(state.next_atom)));
      while (valid && ids.size() < kMigrationBatch) {
        ids.push_back(ReadBe64(cursor->key()));
        HT_ASSIGN_OR_RETURN(valid, cursor->Next());
      }
    }
    AtomTable atoms(tables);
    for (uint64_t id : ids) HT_RETURN_IF_ERROR(atoms.UpgradeFromV2(txn, id, header_size));
    HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
    if (ids.empty()) {
      HT_RETURN_IF_ERROR(txn.Del(tables.meta, "migration_next_atom").status());
      HT_RETURN_IF_ERROR(txn.Del(tables.meta, "migration_from").status());
      HT_RETURN_IF_ERROR(txn.Commit());
      return state;
    }
    state.next_atom = ids.back() + 1;
    state.atoms_done += ids.size();
    HT_RETURN_IF_ERROR(txn.Put(tables.meta, "migration_next_atom", Be64Key(state.next_atom)));
    HT_RETURN_IF_ERROR(txn.Commit());
    if (progress) progress(state);
  }
}

}  // namespace hartonomous::storage
