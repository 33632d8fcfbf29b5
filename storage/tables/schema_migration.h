// Schema migration: brings a data dir written by an earlier layout to
// kSchemaVersion (storage/schema.h), at open, before anything else reads it.
//
// Version 2 -> 3 (version 1 dirs read as version 2: their rows differ only
// in fields that version 2 treats as absent) upgrades every atom with
// AtomTable::UpgradeFromV2, in transactions of kMigrationBatch atoms. The
// first transaction records schema_version 3 together with the meta keys
// "migration_from" (be32) and "migration_next_atom" (be64), so that an older
// binary refuses the half-migrated dir and a crash resumes where the last
// committed batch ended (each atom's upgrade is idempotent); the last one
// removes those keys. Versions 3 -> 4 (payload blocks) and 4 -> 5 (atom
// records' stored form) only rewrite the version: version 3 and 4 rows read
// unchanged. A version 1 or 2 dir goes straight to the current version by
// the per-atom pass.
//
// Thread-safety: call before the env is shared; uses write transactions.
#pragma once

#include <cstdint>
#include <functional>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::storage {

inline constexpr uint64_t kMigrationBatch = 1000;

struct MigrationProgress {
  uint32_t from = 0;
  uint64_t atoms_done = 0;   // in this run
  uint64_t next_atom = 0;    // the first atom id not upgraded yet
};

// REQUIRES: from < kSchemaVersion was reported by OpenTables for this env.
// header_size tells composites apart (AtomTable::UpgradeFromV2); progress is
// called after every committed batch.
Result<MigrationProgress> MigrateSchema(
    Env& env, const Tables& tables, uint32_t from, const AtomTable::HeaderSizeFn& header_size,
    const std::function<void(const MigrationProgress&)>& progress = {});

}  // namespace hartonomous::storage
