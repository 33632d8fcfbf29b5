// AtomTable: the atom rows and everything that must change with them in the
// same transaction: content chunks, the unique ContentHash -> AtomId index,
// the reference-count index, the inactive set and the per-modality dedup
// counters. Callers never touch those tables directly, so they stay in step.
//
// Thread-safety: stateless apart from the table handles; every method works
// inside the transaction it is given.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/payload_codec.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/id_table.h"

namespace hartonomous::storage {

// Signed change to a modality's DedupCounter.
struct CounterDelta {
  int64_t unique_atoms = 0;
  int64_t total_references = 0;
  int64_t unique_bytes = 0;
  int64_t logical_bytes = 0;
  int64_t documents = 0;
  int64_t document_bytes = 0;
  int64_t compressed_away_bytes = 0;
};

class AtomTable {
 public:
  explicit AtomTable(const Tables& tables) : t_(tables), records_(tables.atoms, "atoms") {}

  // The "atoms" rows by id, for scans and paging (read-only use: writes go
  // through Insert/Update/Remove, which keep the indexes in step).
  const IdTable<AtomRecord>& records() const { return records_; }

  Result<std::optional<AtomRecord>> Get(Txn& txn, uint64_t atom_id) const;
  Result<std::optional<uint64_t>> FindByHash(Txn& txn, const Sha256Digest& hash) const;
  // The atom's content, decoded (storage/payload_codec.h): exactly
  // content_size bytes, whatever the stored codec. DATA_LOSS for a missing
  // row, a size mismatch or a corrupt compressed frame.
  Status ReadContent(Txn& txn, const AtomRecord& atom, std::string* content) const;

  // Records read with Get or records() hold canonical_text as stored: empty
  // when canonical_text_is_content. These give the API value.
  // Fills atom->canonical_text from the content when it is not stored
  // separately (content: the already read content, or nullptr to read it).
  Status ResolveCanonicalText(Txn& txn, AtomRecord* atom,
                              const std::string* content = nullptr) const;
  // Bytes of the API canonical_text beyond those in the stored record.
  static uint64_t UnstoredCanonicalTextBytes(const AtomRecord& atom) {
    return atom.canonical_text_is_content() && atom.canonical_text().empty() ? atom.content_size()
                                                                             : 0;
  }
  // Bytes of the atom's "atom_payload" rows (old raw records: content_size).
  static uint64_t StoredSize(const AtomRecord& atom) {
    return atom.payload_codec() == 0 && atom.stored_size() == 0 ? atom.content_size()
                                                                : atom.stored_size();
  }

  // Stores a new atom. REQUIRES: atom.atom_id is larger than every stored
  // atom id (ids come from the "atom_id" sequence), atom.content_hash is
  // the SHA-256 of content and not yet indexed, content_size matches content
  // (SetContentShape). encoded: EncodePayload(content) when the caller
  // encoded it already (off the writer thread), else nullptr. The stored
  // record gets payload_codec, stored_size and chunk_count of the encoding,
  // and an empty canonical_text with canonical_text_is_content when
  // canonical_text equals content; Get returns that stored form.
  Status Insert(WriteTxn& txn, const AtomRecord& atom, std::string_view content,
                const EncodedPayload* encoded = nullptr);
  // Insert of a new atom holding its first reference: sets reference_count 1,
  // is_active, created_at/updated_at now_us and the content shape on *atom.
  Status InsertNew(WriteTxn& txn, AtomRecord* atom, std::string_view content, int64_t now_us,
                   const EncodedPayload* encoded = nullptr);
  // Rewrites an atom whose reference_count, is_active or fields changed.
  // REQUIRES: before is the stored record, after.atom_id == before.atom_id,
  // and after keeps the payload fields (codec, sizes) of before. A
  // canonical_text filled by ResolveCanonicalText is not written back.
  Status Update(WriteTxn& txn, const AtomRecord& before, const AtomRecord& after);
  // Hard delete: record, content, indexes, every relation edge from or to
  // it (both directions, RelationTable::RemoveAllOf) and the rows it owns
  // (Tables::atom_owned). Returns how many owned rows and edges were removed.
  Result<uint64_t> Remove(WriteTxn& txn, const AtomRecord& atom);

  // Writes the counter changes accumulated by Insert/Update/Remove since the
  // last flush. REQUIRES: called before the transaction commits.
  Status FlushCounters(WriteTxn& txn);
  // Drops accumulated changes (the transaction is being abandoned).
  void DiscardCounters() { pending_.clear(); }

  Result<std::vector<std::pair<std::string, DedupCounter>>> ReadCounters(Txn& txn) const;

  // Up to limit ids of inactive atoms (is_active = false), lowest first.
  Result<std::vector<uint64_t>> InactiveIds(Txn& txn, uint64_t limit) const;

  // Active atoms with the highest reference counts, highest first.
  Result<std::vector<AtomRecord>> TopByReferences(Txn& txn, size_t n) const;

  // Sets content_size and the raw chunk_count (Insert sets the stored one).
  static void SetContentShape(AtomRecord* atom, size_t content_size);

 private:
  static CounterDelta Contribution(const AtomRecord& atom);
  void Account(const std::string& modality, const CounterDelta& minus, const CounterDelta& plus);
  static std::string RefKey(const AtomRecord& atom);

  const Tables& t_;
  IdTable<AtomRecord> records_;
  std::map<std::string, CounterDelta> pending_;
};

}  // namespace hartonomous::storage
