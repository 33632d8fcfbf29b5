// AtomTable: the atom rows and everything that must change with them in the
// same transaction: content chunks, the unique ContentHash -> AtomId index
// ("atom_hash" by 8-byte prefix, "atom_hash_collisions" for the rare atom
// whose prefix is taken), the reference-count index (atoms with two or more
// references), the inactive set, the per-modality dedup counters, and the
// child lists of composite atoms with their children's container sets.
// Callers never touch those tables directly, so they stay in step.
//
// Composite atoms (documents, paragraphs) list their children in
// "atom_children" (one row per composite; ordinal = position) instead of
// storing 'contains' edge rows; their content is the stored header followed
// by each child's 32-byte content hash, rebuilt on read. Each listed child
// records its distinct parents (AtomRecord.containers, inline up to
// kInlineContainers, then "atom_containers") and how many list entries
// hold it (listed_references). A released composite (inactive) keeps its
// children's hashes in its list, so its content still reads, but lists no
// children: its edges and their references are gone.
//
// Thread-safety: stateless apart from the table handles; every method works
// inside the transaction it is given.
#pragma once

#include <cstdint>
#include <functional>
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
#include "storage/tables/atom_record_codec.h"
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

// Stored payloads up to this size live in the atom's record
// (AtomRecord.inline_payload) instead of an "atom_payload" row: one row and
// its key fewer per small atom.
inline constexpr size_t kInlinePayloadBytes = 512;

// Parents kept in the child's record before "atom_containers" is used.
inline constexpr size_t kInlineContainers = 16;

// One entry of a composite's child list.
struct ListedChild {
  uint64_t atom_id = 0;
  std::string edge_metadata;  // JSON object text, or empty
};

struct ChildListing {
  std::vector<ListedChild> children;
  int64_t created_at_us = 0;  // when the list was written
};

// What one AtomTable::RepackSparseBlocks call did.
struct RepackSummary {
  uint64_t blocks = 0;      // sparse blocks repacked (and deleted)
  uint64_t atoms = 0;       // live members moved into new blocks
  uint64_t dead_bytes = 0;  // raw bytes of dead members dropped
  uint64_t next_block = 0;  // where the next call goes on
  bool done = false;        // every block has been visited
};

class AtomTable {
 public:
  explicit AtomTable(const Tables& tables) : t_(tables), records_(tables.atoms, "atoms") {}

  // The "atoms" rows by id, for scans and paging (read-only use: writes go
  // through Insert/Update/Remove, which keep the indexes in step).
  const IdTable<AtomRecord>& records() const { return records_; }

  Result<std::optional<AtomRecord>> Get(Txn& txn, uint64_t atom_id) const;
  Result<std::optional<uint64_t>> FindByHash(Txn& txn, const Sha256Digest& hash) const;
  // FindByHash with the atom's stored record (as Get returns it), read once.
  Result<std::optional<AtomRecord>> FindRecordByHash(Txn& txn, const Sha256Digest& hash) const;
  // The last payload block a reader decoded, so that reading many atoms of
  // one block (a document's sentences) decodes it once. Valid within one
  // transaction; not thread-safe.
  struct BlockCache {
    uint64_t block_id = 0;
    std::string raw;
  };
  // The atom's content, decoded (storage/payload_codec.h): exactly
  // content_size bytes, whatever the stored codec. DATA_LOSS for a missing
  // row or block, a size mismatch or a corrupt compressed frame. cache:
  // optional, see BlockCache.
  Status ReadContent(Txn& txn, const AtomRecord& atom, std::string* content,
                     BlockCache* cache = nullptr) const;
  // Whether the atom's content equals `content`, for an atom stored raw
  // (inline or in "atom_payload" rows), compared in place without copying
  // it. nullopt when the atom is not stored raw (compressed, a block
  // member, a composite): compare its ReadContent instead. DATA_LOSS as
  // ReadContent for rows that do not match the record.
  Result<std::optional<bool>> RawContentEquals(Txn& txn, const AtomRecord& atom,
                                               std::string_view content) const;

  // The encodings, for a later Insert, of the contents whose hash txn does
  // not find stored: entry i is contents[i] with hash *hashes[i]; a null
  // hash, a hash already stored and a repeat of an earlier entry's hash get
  // nullopt, the others are packed together (PackPayloads). Meant for a
  // read transaction on the RPC thread, so that the writer only stores.
  Result<std::vector<std::optional<EncodedPayload>>> PackUnstored(
      Txn& txn, const std::vector<const Sha256Digest*>& hashes,
      const std::vector<std::string_view>& contents,
      Compression compression = Compression::kAlways) const;

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
  // Bytes stored for the atom's content: its "atom_payload" rows or inline
  // bytes (old raw records: content_size), or its share of a payload block.
  static uint64_t StoredSize(const AtomRecord& atom) {
    return atom.payload_codec() == 0 && atom.stored_size() == 0 ? atom.content_size()
                                                                : atom.stored_size();
  }

  // Stores a new atom. REQUIRES: atom.atom_id is larger than every stored
  // atom id (ids come from the "atom_id" sequence), atom.content_hash is
  // the SHA-256 of content and not yet indexed, content_size matches content
  // (SetContentShape). encoded: EncodePayload(content) or its PackPayloads
  // result when the caller encoded it already (off the writer thread), else
  // nullptr. A block member's block is written with its first member stored
  // (in this AtomTable's lifetime: one per write attempt); members that turn
  // out to be stored already leave dead bytes in it. The stored
  // record gets payload_codec, stored_size and chunk_count of the encoding,
  // and an empty canonical_text with canonical_text_is_content when
  // canonical_text equals content; Get returns that stored form.
  Status Insert(WriteTxn& txn, const AtomRecord& atom, std::string_view content,
                const EncodedPayload* encoded = nullptr);
  // Insert of a new atom holding its first references: sets reference_count
  // (references, REQUIRES >= 1), is_active, created_at/updated_at now_us and
  // the content shape on *atom.
  Status InsertNew(WriteTxn& txn, AtomRecord* atom, std::string_view content, int64_t now_us,
                   const EncodedPayload* encoded = nullptr, uint64_t references = 1);
  // Insert of a new composite atom holding its first reference: content is
  // header followed by the 32-byte hashes of `children` children (the atom's
  // content_hash is over that whole content; only the header is stored).
  // The children are listed afterwards with PutChildren.
  Status InsertComposite(WriteTxn& txn, AtomRecord* atom, std::string_view header, size_t children,
                         int64_t now_us);
  // Writes parent's child list (replacing a released one). REQUIRES: parent
  // is a composite (content_lists_children), every child exists, and the
  // caller added one listed edge per entry to each child (AddListedEdge).
  Status PutChildren(WriteTxn& txn, uint64_t parent, const ChildListing& listing);
  // parent's listed children; nullopt when it is not a composite or its
  // list was released.
  Result<std::optional<ChildListing>> Children(Txn& txn, uint64_t parent) const;
  // Releases parent's list: it keeps only the children's hashes (for its
  // content) and the listing is returned for the caller to drop the
  // children's references and listed edges.
  Result<ChildListing> ReleaseChildren(WriteTxn& txn, uint64_t parent);

  // Records one more list entry of parent holding *child (its container set
  // gains parent). Changes *child (and "atom_containers"); the caller then
  // writes *child with Update (or Insert for a new atom).
  Status AddListedEdge(WriteTxn& txn, AtomRecord* child, uint64_t parent);
  // The reverse of `edges` AddListedEdge calls of parent.
  Status RemoveListedEdges(WriteTxn& txn, AtomRecord* child, uint64_t parent, uint64_t edges);
  // Calls visit(parent) for child's distinct parents >= from, ascending,
  // until it returns false.
  Status ForEachContainer(Txn& txn, const AtomRecord& child, uint64_t from,
                          const std::function<bool(uint64_t)>& visit) const;

  // Schema version 2 -> 3 for one atom (storage/tables/schema_migration.h):
  // its "atom_hash" key becomes the 8-byte prefix, it leaves
  // "atoms_by_refcount" when it has one reference, and a composite (the
  // content's header is *header_size(...) bytes followed by 32-byte child
  // hashes; nullopt = not a composite) turns its 'contains' edge rows
  // into its child list (or, inactive, a released list) and stores only its
  // header. header_size reads the content through its second argument only
  // when the record may be a composite, so other atoms' payloads are not
  // read. Idempotent: an atom already in the version 3 form is left as is.
  using ContentReader = std::function<Result<std::string>()>;
  using HeaderSizeFn =
      std::function<Result<std::optional<size_t>>(const AtomRecord&, const ContentReader&)>;
  Status UpgradeFromV2(WriteTxn& txn, uint64_t atom_id, const HeaderSizeFn& header_size);

  // Rewrites an atom whose reference_count, is_active or fields changed.
  // REQUIRES: before is the stored record, after.atom_id == before.atom_id,
  // and after keeps the payload fields (codec, sizes) of before. A
  // canonical_text filled by ResolveCanonicalText is not written back.
  Status Update(WriteTxn& txn, const AtomRecord& before, const AtomRecord& after);
  // Hard delete: record, content, indexes, every relation edge from or to
  // it (both directions, RelationTable::RemoveAllOf) and the rows it owns
  // (Tables::atom_owned). Returns how many owned rows and edges were removed.
  Result<uint64_t> Remove(WriteTxn& txn, const AtomRecord& atom);

  // Visits payload blocks from block id `from` on (at most 64 x max_blocks
  // of them) and repacks up to max_blocks whose live raw bytes are under
  // half of their raw size: their live members are packed anew
  // (PackPayloads, in atom id order; new blocks keyed by their first
  // member, a lone member encoded on its own) and the old blocks deleted,
  // so the dead bytes go. Contents and hashes are unchanged. REQUIRES:
  // FlushCounters before the commit (it writes the new blocks' references).
  Result<RepackSummary> RepackSparseBlocks(WriteTxn& txn, uint64_t from, size_t max_blocks);

  // Writes the counter changes accumulated by Insert/Update/Remove since the
  // last flush (dedup counters and payload block references; a block whose
  // last live member went is deleted). REQUIRES: called before the
  // transaction commits.
  Status FlushCounters(WriteTxn& txn);
  // Drops accumulated changes (the transaction is being abandoned).
  void DiscardCounters() {
    pending_.clear();
    block_deltas_.clear();
  }

  Result<std::vector<std::pair<std::string, DedupCounter>>> ReadCounters(Txn& txn) const;

  // Up to limit ids of inactive atoms (is_active = false), lowest first.
  Result<std::vector<uint64_t>> InactiveIds(Txn& txn, uint64_t limit) const;

  // Active atoms with the highest reference counts, highest first.
  Result<std::vector<AtomRecord>> TopByReferences(Txn& txn, size_t n) const;

  // --- index audit (server/engine/admin/consistency_checker.h) ---
  // Reads and repairs of the secondary indexes one entry at a time, so that a
  // checker walks them without knowing their keys.

  // Which hash index table an entry is in.
  enum class HashTable { kPrefix, kCollision };
  // Whether the hash index maps atom's content_hash to atom's id.
  Result<bool> HashIndexed(Txn& txn, const AtomRecord& atom) const;
  // Calls visit(table, key, atom_id) for every hash index entry, "atom_hash"
  // then "atom_hash_collisions", in key order; key is the 8-byte prefix or the
  // whole hash. DataLoss for a value that is not 8 bytes.
  Status ForEachHashEntry(
      Txn& txn,
      const std::function<Status(HashTable, std::string_view key, uint64_t atom_id)>& visit) const;
  // Whether a hash index entry belongs to atom (its record's hash has that
  // key, and the entry names it).
  static bool HashEntryMatches(HashTable table, std::string_view key, const AtomRecord& atom);
  // Whether "atoms_by_refcount" / "atoms_inactive" hold the entry that
  // atom's record calls for; true when it calls for none.
  Result<bool> StateIndexed(Txn& txn, const AtomRecord& atom) const;
  // Whether atom's record calls for an entry in the state indexes.
  static bool WantsStateEntry(const AtomRecord& atom) {
    return !atom.is_active() || InRefIndex(atom);
  }
  // Visits every "atoms_by_refcount" entry (count, atom_id), then every
  // "atoms_inactive" entry (count = nullopt), in key order.
  Status ForEachStateEntry(
      Txn& txn,
      const std::function<Status(std::optional<uint64_t> count, uint64_t atom_id)>& visit) const;
  // Whether a state index entry belongs to atom's record as it is.
  static bool StateEntryMatches(std::optional<uint64_t> count, const AtomRecord& atom) {
    return count ? atom.is_active() && InRefIndex(atom) &&
                       static_cast<uint64_t>(atom.reference_count()) == *count
                 : !atom.is_active();
  }
  // Visits the id of every composite with an "atom_children" row, ascending.
  Status ForEachComposite(Txn& txn, const std::function<Status(uint64_t parent)>& visit) const;
  // Repair: writes the hash index and state index entries atom's stored
  // record calls for when they are missing. Returns how many it wrote.
  // AlreadyExists when another atom holds the hash.
  Result<uint64_t> Reindex(WriteTxn& txn, const AtomRecord& atom);
  // Repair: deletes a hash index entry that names no atom with that hash.
  // Returns false (and leaves it) when the entry is gone or now valid.
  Result<bool> DropDanglingHashEntry(WriteTxn& txn, HashTable table, std::string_view key);
  // Repair: the same for a state index entry (count: as ForEachStateEntry).
  Result<bool> DropDanglingStateEntry(WriteTxn& txn, std::optional<uint64_t> count,
                                      uint64_t atom_id);

  // Sets content_size and the raw chunk_count (Insert sets the stored one).
  static void SetContentShape(AtomRecord* atom, size_t content_size);

 private:
  static CounterDelta Contribution(const AtomRecord& atom);
  void Account(const std::string& modality, const CounterDelta& minus, const CounterDelta& plus);
  static std::string RefKey(const AtomRecord& atom);
  static bool InRefIndex(const AtomRecord& atom) {
    return atom.is_active() && atom.reference_count() >= 2;
  }
  // The children's 32-byte hashes in list order (a released list keeps them).
  Result<std::string> ChildHashes(Txn& txn, uint64_t parent) const;
  Status IndexHash(WriteTxn& txn, const AtomRecord& atom);
  Status UnindexHash(WriteTxn& txn, const AtomRecord& atom);
  Status PutRefIndex(WriteTxn& txn, const AtomRecord& atom);
  Status DelRefIndex(WriteTxn& txn, const AtomRecord& atom);
  Status Store(WriteTxn& txn, AtomRecord atom, std::string_view stored_content,
               const EncodedPayload& encoded);
  Status WritePayload(WriteTxn& txn, AtomRecord* atom, std::string_view raw,
                      const EncodedPayload& encoded, bool append);

  // Change to a payload block's live members and bytes; last_atom: the
  // highest member atom id stored in this transaction.
  struct BlockDelta {
    int64_t members = 0;
    int64_t bytes = 0;
    uint64_t last_atom = 0;
  };
  // Calls visit(row) for each of a chunked atom's atom_payload rows in
  // order, until visit returns false. DATA_LOSS (naming `what`) when a row
  // is missing or the rows exceed stored_size bytes.
  Status ForEachChunk(Txn& txn, const AtomRecord& atom, uint64_t stored_size,
                      const std::string& what,
                      const std::function<bool(std::string_view)>& visit) const;
  // A payload block's raw contents (decoded).
  Status ReadBlock(Txn& txn, uint64_t block_id, std::string* raw) const;
  Status ReadBlockMember(Txn& txn, const AtomRecord& atom, std::string* content,
                         BlockCache* cache) const;

  const Tables& t_;
  IdTable<AtomRecord> records_;
  std::map<std::string, CounterDelta> pending_;
  // Blocks written by Insert in this AtomTable's lifetime -> their ids.
  std::map<const PayloadBlock*, uint64_t> written_blocks_;
  std::map<uint64_t, BlockDelta> block_deltas_;
};

}  // namespace hartonomous::storage
