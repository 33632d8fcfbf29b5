// ApiKeyTable: API keys, "api_keys": be64(key_id) -> ApiKeyRecord, unique by
// name through "api_key_names" (a NamedTable; ids from the "api_key_id"
// sequence). A record holds the SHA-256 of the key's token, never the token.
// Revoked keys stay, with revoked_at_us set.
//
// Thread-safety: as NamedTable.
#pragma once

#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/named_table.h"

namespace hartonomous::storage {

class ApiKeyTable : public NamedTable<ApiKeyRecord> {
 public:
  explicit ApiKeyTable(const Tables& t)
      : NamedTable<ApiKeyRecord>(
            {t.api_keys, "api_keys", t.api_key_names, "api_key_names", t.sequences, "api_key_id",
             "API key", "name"},
            {&ApiKeyRecord::key_id, &ApiKeyRecord::set_key_id, &ApiKeyRecord::name}) {}
};

}  // namespace hartonomous::storage
