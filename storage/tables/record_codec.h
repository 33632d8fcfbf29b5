// Record codec: the one place a stored protobuf record is parsed. A record
// that does not parse is DataLoss naming its table and key, so a damaged page
// is reported where it was found and never read as an empty record.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::storage {

// REQUIRES: Record is a protobuf message.
template <typename Record>
Result<Record> ParseRecord(std::string_view bytes, std::string_view table, std::string_view key) {
  Record record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::DataLoss(std::string(table) + ": record " + std::string(key) + " is corrupt");
  }
  return record;
}

template <typename Record>
Result<Record> ParseRecord(std::string_view bytes, std::string_view table, uint64_t id) {
  return ParseRecord<Record>(bytes, table, std::to_string(id));
}

// What an IdTable read does to a parsed record before returning it: nothing,
// unless the record's table stores a shorter form (it specializes this, as
// storage/tables/atom_record_codec.h does for the atoms).
template <typename Record>
struct StoredRecordForm {
  static Status Restore(uint64_t /*id*/, Record* /*record*/) { return Status::Ok(); }
};

}  // namespace hartonomous::storage
