#include "server/engine/documents/document_sources.h"

#include <string>

namespace hartonomous::engine {

using storage::AtomRecord;

DocumentSources::DocumentSources(const storage::Tables& tables) : table_(tables) {}

Result<std::optional<AtomRecord>> DocumentSources::Held(storage::Txn& txn,
                                                        storage::AtomTable& atoms,
                                                        std::string_view source_uri) const {
  if (source_uri.empty()) return std::optional<AtomRecord>();
  HT_ASSIGN_OR_RETURN(auto row, table_.Find(txn, source_uri));
  if (!row) return std::optional<AtomRecord>();
  HT_ASSIGN_OR_RETURN(auto root, atoms.Get(txn, row->document_id()));
  if (!root || !root->is_active() || root->subtype() != "document") {
    return std::optional<AtomRecord>();
  }
  return root;
}

Status DocumentSources::Bind(storage::WriteTxn& txn, storage::AtomTable& atoms,
                             storage::RelationTable& relations, std::string_view source_uri,
                             uint64_t document_id, const std::optional<AtomRecord>& held,
                             int64_t now_us, uint64_t* replaced) const {
  *replaced = 0;
  if (source_uri.empty()) return Status::Ok();
  storage::DocumentSourceRecord row;
  row.set_source_uri(std::string(source_uri));
  row.set_document_id(document_id);
  row.set_updated_at_us(now_us);
  HT_RETURN_IF_ERROR(table_.Put(txn, row));
  if (!held || held->atom_id() == document_id) return Status::Ok();
  AtomRecord after;
  uint64_t deactivated = 0;
  HT_RETURN_IF_ERROR(storage::ReleaseReference(txn, atoms, relations, held->atom_id(), false,
                                               now_us, &after, &deactivated));
  HT_RETURN_IF_ERROR(Trim(txn, after).status());
  *replaced = held->atom_id();
  return Status::Ok();
}

Result<uint64_t> DocumentSources::Resolve(storage::WriteTxn& txn, uint64_t document_id,
                                          std::string_view source_uri, uint64_t* removed) const {
  *removed = 0;
  if (source_uri.empty()) return document_id;
  HT_ASSIGN_OR_RETURN(auto row, table_.Find(txn, source_uri));
  if (!row) {
    return Status::NotFound("source_uri: no document is held by source '" +
                            std::string(source_uri) + "'");
  }
  if (document_id != 0 && row->document_id() != document_id) {
    return Status::InvalidArgument("document_id: source '" + std::string(source_uri) +
                                   "' holds document " + std::to_string(row->document_id()) +
                                   ", not " + std::to_string(document_id));
  }
  HT_ASSIGN_OR_RETURN(bool gone, table_.Remove(txn, source_uri));
  *removed = gone ? 1 : 0;
  return row->document_id();
}

Result<uint64_t> DocumentSources::Trim(storage::WriteTxn& txn, const AtomRecord& root) const {
  HT_ASSIGN_OR_RETURN(auto rows, table_.ForDocument(txn, root.atom_id()));
  const uint64_t keep = root.is_active() && root.reference_count() > 0
                            ? static_cast<uint64_t>(root.reference_count())
                            : 0;
  uint64_t removed = 0;
  for (size_t i = 0; rows.size() - removed > keep && i < rows.size(); ++i) {
    HT_ASSIGN_OR_RETURN(bool gone, table_.Remove(txn, rows[i].source_uri()));
    removed += gone ? 1 : 0;
  }
  return removed;
}

Result<uint64_t> DocumentSources::RemoveAll(storage::WriteTxn& txn, uint64_t atom_id) const {
  HT_ASSIGN_OR_RETURN(auto rows, table_.ForDocument(txn, atom_id));
  uint64_t removed = 0;
  for (const auto& row : rows) {
    HT_ASSIGN_OR_RETURN(bool gone, table_.Remove(txn, row.source_uri()));
    removed += gone ? 1 : 0;
  }
  return removed;
}

}  // namespace hartonomous::engine
