#include "storage/tables/document_source_table.h"

#include <utility>

#include "base/sha256.h"
#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr char kSources[] = "document_sources";
constexpr char kByRoot[] = "document_sources_by_root";

std::string SourceKey(std::string_view source_uri) {
  const Sha256Digest digest = Sha256(source_uri);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string RootKey(uint64_t document_id, std::string_view source_key) {
  std::string key = Be64Key(document_id);
  key.append(source_key);
  return key;
}

// Parses the row stored under key and checks that its URI hashes to it.
Result<DocumentSourceRecord> ParseRow(std::string_view key, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (char c : key) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 15];
  }
  HT_ASSIGN_OR_RETURN(DocumentSourceRecord record,
                      ParseRecord<DocumentSourceRecord>(value, kSources, hex));
  if (SourceKey(record.source_uri()) != key) {
    return Status::DataLoss(std::string(kSources) + ": record " + hex +
                            " holds a source_uri that does not match its key");
  }
  return record;
}

}  // namespace

DocumentSourceTable::DocumentSourceTable(const Tables& t)
    : sources_(t.document_sources), by_root_(t.document_sources_by_root) {}

Result<std::optional<DocumentSourceRecord>> DocumentSourceTable::Find(
    Txn& txn, std::string_view source_uri) const {
  const std::string key = SourceKey(source_uri);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(sources_, key, &value));
  if (!found) return std::optional<DocumentSourceRecord>();
  HT_ASSIGN_OR_RETURN(DocumentSourceRecord record, ParseRow(key, value));
  return std::optional<DocumentSourceRecord>(std::move(record));
}

Status DocumentSourceTable::Put(WriteTxn& txn, const DocumentSourceRecord& record) const {
  HT_RETURN_IF_ERROR(Remove(txn, record.source_uri()).status());
  const std::string key = SourceKey(record.source_uri());
  HT_RETURN_IF_ERROR(txn.Put(sources_, key, record.SerializeAsString()));
  return txn.Put(by_root_, RootKey(record.document_id(), key), "");
}

Result<bool> DocumentSourceTable::Remove(WriteTxn& txn, std::string_view source_uri) const {
  const std::string key = SourceKey(source_uri);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(sources_, key, &value));
  if (!found) return false;
  HT_ASSIGN_OR_RETURN(DocumentSourceRecord old, ParseRow(key, value));
  HT_RETURN_IF_ERROR(txn.Del(by_root_, RootKey(old.document_id(), key)).status());
  return txn.Del(sources_, key);
}

Status DocumentSourceTable::ForEach(
    Txn& txn, const std::function<Status(const DocumentSourceRecord&)>& visit) const {
  auto cursor = txn.OpenCursor(sources_);
  HT_ASSIGN_OR_RETURN(bool on, cursor->First());
  while (on) {
    const std::string key(cursor->key());
    HT_ASSIGN_OR_RETURN(DocumentSourceRecord record, ParseRow(key, cursor->value()));
    HT_RETURN_IF_ERROR(visit(record));
    HT_ASSIGN_OR_RETURN(on, cursor->Next());
  }
  return Status::Ok();
}

Result<std::vector<DocumentSourceRecord>> DocumentSourceTable::ForDocument(
    Txn& txn, uint64_t document_id) const {
  const std::string prefix = Be64Key(document_id);
  std::vector<DocumentSourceRecord> out;
  auto cursor = txn.OpenCursor(by_root_);
  HT_ASSIGN_OR_RETURN(bool on, cursor->Seek(prefix));
  for (; on && cursor->key().substr(0, prefix.size()) == prefix;) {
    const std::string_view key = cursor->key();
    if (key.size() != prefix.size() + sizeof(Sha256Digest)) {
      return Status::DataLoss(std::string(kByRoot) + ": a key of document " +
                              std::to_string(document_id) + " has " + std::to_string(key.size()) +
                              " bytes, not 40");
    }
    const std::string source_key(key.substr(prefix.size()));
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(sources_, source_key, &value));
    if (!found) {
      return Status::DataLoss(std::string(kByRoot) + ": document " + std::to_string(document_id) +
                              " lists a source that has no row in " + kSources);
    }
    HT_ASSIGN_OR_RETURN(DocumentSourceRecord record, ParseRow(source_key, value));
    if (record.document_id() != document_id) {
      return Status::DataLoss(std::string(kByRoot) + ": document " + std::to_string(document_id) +
                              " lists a source that holds document " +
                              std::to_string(record.document_id()));
    }
    out.push_back(std::move(record));
    HT_ASSIGN_OR_RETURN(on, cursor->Next());
  }
  return out;
}

}  // namespace hartonomous::storage
