// DocumentSourceTable: which document each source holds (the identity of a
// document, IngestDocumentRequest.source_uri). Two tables, written together:
//   "document_sources":         sha256(source_uri) -> DocumentSourceRecord
//   "document_sources_by_root": be64(document_id) sha256(source_uri) -> ""
// The key is the URI's SHA-256 because a URI (up to 2048 bytes) does not fit
// an LMDB key; the record repeats the URI and every read checks it against
// the key. This file owns both key encodings. The rules (one row per source,
// no more rows on a root than its references) are DocumentSources'
// (server/engine/documents/document_sources.h); this accessor only stores.
//
// Errors: absent rows are nullopt / false; a record that does not parse,
// whose URI does not hash to its key, or a by-root key of the wrong size is
// DataLoss naming the table.
//
// Thread-safety: immutable after construction; every method works inside
// the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::storage {

class DocumentSourceTable {
 public:
  explicit DocumentSourceTable(const Tables& t);

  // The row of source_uri; nullopt when the source holds no document.
  Result<std::optional<DocumentSourceRecord>> Find(Txn& txn, std::string_view source_uri) const;

  // Points record.source_uri at record.document_id, replacing the source's
  // previous row (and its by-root entry) when there is one.
  // REQUIRES: !record.source_uri().empty()
  Status Put(WriteTxn& txn, const DocumentSourceRecord& record) const;

  // Removes the row of source_uri and its by-root entry; false when absent.
  Result<bool> Remove(WriteTxn& txn, std::string_view source_uri) const;

  // The rows that point at document_id, in key order (by the SHA-256 of
  // their URI).
  Result<std::vector<DocumentSourceRecord>> ForDocument(Txn& txn, uint64_t document_id) const;

  // Calls visit for every "document_sources" row, in key order (by the
  // SHA-256 of the URI). DataLoss for a row that does not parse.
  Status ForEach(Txn& txn, const std::function<Status(const DocumentSourceRecord&)>& visit) const;

 private:
  MDB_dbi sources_;
  MDB_dbi by_root_;
};

}  // namespace hartonomous::storage
