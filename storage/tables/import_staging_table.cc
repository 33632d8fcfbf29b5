#include "storage/tables/import_staging_table.h"

#include <string>
#include <utility>

#include "storage/key_codec.h"
#include "storage/sequence.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kKeyBytes = 12;  // be64 import id, be32 batch

}  // namespace

std::string ImportStagingTable::Key(uint64_t import_id, uint32_t batch) {
  std::string key = Be64Key(import_id);
  AppendBe32(&key, batch);
  return key;
}

Result<uint64_t> ImportStagingTable::NewImportId(WriteTxn& txn) const {
  Sequence ids(txn, t_.sequences, "model_import_id");
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  HT_RETURN_IF_ERROR(ids.Flush());
  return id;
}

Status ImportStagingTable::Put(WriteTxn& txn, uint64_t import_id, uint32_t batch,
                               const ImportStagingRecord& record) const {
  return txn.Put(t_.model_import_staging, Key(import_id, batch), record.SerializeAsString());
}

Status ImportStagingTable::Scan(
    Txn& txn, uint64_t import_id,
    const std::function<Status(uint32_t batch, ImportStagingRecord&&)>& visit) const {
  const std::string prefix = Be64Key(import_id);
  auto cursor = txn.OpenCursor(t_.model_import_staging);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (key.size() != kKeyBytes) {
      return Status::DataLoss("model_import_staging: a key of import " + std::to_string(import_id) +
                              " is corrupt");
    }
    const uint32_t batch = ReadBe32(key.substr(8));
    HT_ASSIGN_OR_RETURN(
        ImportStagingRecord row,
        ParseRecord<ImportStagingRecord>(cursor->value(), "model_import_staging",
                                         std::to_string(import_id) + "/" + std::to_string(batch)));
    if (row.created_size() != row.atom_ids_size()) {
      return Status::DataLoss("model_import_staging: record " + std::to_string(import_id) + "/" +
                              std::to_string(batch) + " is corrupt");
    }
    HT_RETURN_IF_ERROR(visit(batch, std::move(row)));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<uint64_t> ImportStagingTable::Remove(WriteTxn& txn, uint64_t import_id) const {
  return txn.DelPrefix(t_.model_import_staging, Be64Key(import_id));
}

Status ImportStagingTable::ForEachImport(
    Txn& txn, const std::function<Status(uint64_t import_id)>& visit) const {
  auto cursor = txn.OpenCursor(t_.model_import_staging);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.size() != kKeyBytes) {
      return Status::DataLoss("model_import_staging: a key of " + std::to_string(key.size()) +
                              " bytes is corrupt");
    }
    const uint64_t id = ReadBe64(key.substr(0, 8));
    HT_RETURN_IF_ERROR(visit(id));
    // Past the import's rows: the first key of the next id.
    if (id == UINT64_MAX) break;
    HT_ASSIGN_OR_RETURN(valid, cursor->Seek(Be64Key(id + 1)));
  }
  return Status::Ok();
}

}  // namespace hartonomous::storage
