// PolicyTable: deduplication policies, "dedup_policies": be64(policy_id) ->
// PolicyRecord, unique by name through "policy_names" (a NamedTable; ids
// from the "policy_id" sequence).
//
// Thread-safety: as NamedTable.
#pragma once

#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/named_table.h"

namespace hartonomous::storage {

class PolicyTable : public NamedTable<PolicyRecord> {
 public:
  explicit PolicyTable(const Tables& t)
      : NamedTable<PolicyRecord>(
            {t.dedup_policies, "dedup_policies", t.policy_names, "policy_names", t.sequences,
             "policy_id", "policy", "policy_name"},
            {&PolicyRecord::policy_id, &PolicyRecord::set_policy_id, &PolicyRecord::policy_name}) {}
};

}  // namespace hartonomous::storage
