#include "storage/tables/atom_table.h"

#include <algorithm>
#include <cstring>

#include "storage/key_codec.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::storage {
namespace {

std::string_view HashKey(const std::string& hash) { return hash; }

std::string ChunkKey(uint64_t atom_id, uint32_t chunk) {
  std::string key;
  key.reserve(12);
  AppendBe64(&key, atom_id);
  AppendBe32(&key, chunk);
  return key;
}

// append: the key is larger than every key in the table (a fresh atom id),
// so LMDB can fill pages instead of splitting them in half.
Status PutRecord(WriteTxn& txn, MDB_dbi dbi, const AtomRecord& given, bool append) {
  // A canonical_text that is the content is never stored a second time.
  std::optional<AtomRecord> stripped;
  if (given.canonical_text_is_content() && !given.canonical_text().empty()) {
    stripped.emplace(given);
    stripped->clear_canonical_text();
  }
  const AtomRecord& atom = stripped ? *stripped : given;
  const size_t size = atom.ByteSizeLong();
  HT_ASSIGN_OR_RETURN(char* dst,
                      txn.Reserve(dbi, Be64Key(atom.atom_id()), size, append ? MDB_APPEND : 0));
  if (!atom.SerializeToArray(dst, static_cast<int>(size))) {
    return Status::Internal("atom " + std::to_string(atom.atom_id()) + ": serialize failed");
  }
  return Status::Ok();
}

uint32_t ChunkCount(uint64_t stored_size) {
  return static_cast<uint32_t>((stored_size + kChunkBytes - 1) / kChunkBytes);
}

}  // namespace

void AtomTable::SetContentShape(AtomRecord* atom, size_t content_size) {
  atom->set_content_size(content_size);
  atom->set_chunk_count(ChunkCount(content_size));
}

std::string AtomTable::RefKey(const AtomRecord& atom) {
  std::string key;
  key.reserve(16);
  AppendBe64(&key, static_cast<uint64_t>(atom.reference_count()));
  AppendBe64(&key, atom.atom_id());
  return key;
}

Result<std::optional<AtomRecord>> AtomTable::Get(Txn& txn, uint64_t atom_id) const {
  return records_.Find(txn, atom_id);
}

Result<std::vector<uint64_t>> AtomTable::InactiveIds(Txn& txn, uint64_t limit) const {
  std::vector<uint64_t> ids;
  auto cursor = txn.OpenCursor(t_.atoms_inactive);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid && ids.size() < limit) {
    ids.push_back(ReadBe64(cursor->key()));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return ids;
}

Result<std::optional<uint64_t>> AtomTable::FindByHash(Txn& txn, const Sha256Digest& hash) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(
      bool found,
      txn.Get(t_.atom_hash,
              std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()), &value));
  if (!found) return std::optional<uint64_t>();
  if (value.size() != 8) return Status::DataLoss("atom_hash: malformed entry");
  return std::optional<uint64_t>(ReadBe64(value));
}

Status AtomTable::ReadContent(Txn& txn, const AtomRecord& atom, std::string* content) const {
  const std::string what = "atom " + std::to_string(atom.atom_id());
  const uint64_t stored_size = StoredSize(atom);
  if (atom.chunk_count() != ChunkCount(stored_size)) {
    return Status::DataLoss(what + ": chunk count does not match the stored size");
  }
  const auto codec = static_cast<PayloadCodec>(atom.payload_codec());
  // Raw content is gathered straight into *content; a frame is gathered
  // first (at most stored_size bytes) and decoded into at most content_size.
  std::string frame;
  std::string* gather = codec == PayloadCodec::kRaw ? content : &frame;
  gather->clear();
  gather->reserve(stored_size);
  for (uint32_t chunk = 0; chunk < atom.chunk_count(); ++chunk) {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found,
                        txn.Get(t_.atom_payload, ChunkKey(atom.atom_id(), chunk), &value));
    if (!found) {
      return Status::DataLoss(what + ": content chunk " + std::to_string(chunk) + " is missing");
    }
    if (gather->size() + value.size() > stored_size) {
      return Status::DataLoss(what + ": content rows exceed the stored size");
    }
    gather->append(value);
  }
  if (codec == PayloadCodec::kRaw) {
    if (content->size() != atom.content_size()) {
      return Status::DataLoss(what + ": content size mismatch");
    }
    return Status::Ok();
  }
  if (frame.size() != stored_size) return Status::DataLoss(what + ": stored size mismatch");
  return DecodePayload(codec, frame, atom.content_size(), what, content);
}

Status AtomTable::ResolveCanonicalText(Txn& txn, AtomRecord* atom,
                                       const std::string* content) const {
  if (UnstoredCanonicalTextBytes(*atom) == 0) return Status::Ok();
  if (content != nullptr) {
    atom->set_canonical_text(*content);
    return Status::Ok();
  }
  return ReadContent(txn, *atom, atom->mutable_canonical_text());
}

Status AtomTable::Insert(WriteTxn& txn, const AtomRecord& given, std::string_view content,
                         const EncodedPayload* encoded) {
  std::optional<EncodedPayload> own;
  if (encoded == nullptr) encoded = &own.emplace(EncodePayload(content));
  AtomRecord atom = given;
  const std::string_view stored =
      encoded->codec == PayloadCodec::kRaw ? content : std::string_view(encoded->frame);
  atom.set_payload_codec(static_cast<uint32_t>(encoded->codec));
  atom.set_stored_size(stored.size());
  atom.set_chunk_count(ChunkCount(stored.size()));
  if (!atom.canonical_text().empty() && atom.canonical_text() == content) {
    atom.clear_canonical_text();
    atom.set_canonical_text_is_content(true);
  }
  HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, atom, /*append=*/true));
  for (uint32_t chunk = 0; chunk < atom.chunk_count(); ++chunk) {
    const std::string_view piece = stored.substr(size_t{chunk} * kChunkBytes, kChunkBytes);
    HT_ASSIGN_OR_RETURN(char* dst, txn.Reserve(t_.atom_payload, ChunkKey(atom.atom_id(), chunk),
                                               piece.size(), MDB_APPEND));
    std::memcpy(dst, piece.data(), piece.size());
  }
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_hash, HashKey(atom.content_hash()), Be64Key(atom.atom_id()),
                             MDB_NOOVERWRITE));
  if (atom.is_active()) {
    HT_RETURN_IF_ERROR(txn.Put(t_.atoms_by_refcount, RefKey(atom), ""));
  } else {
    HT_RETURN_IF_ERROR(txn.Put(t_.atoms_inactive, Be64Key(atom.atom_id()), ""));
  }
  Account(atom.modality(), CounterDelta{}, Contribution(atom));
  return Status::Ok();
}

Status AtomTable::InsertNew(WriteTxn& txn, AtomRecord* atom, std::string_view content,
                            int64_t now_us, const EncodedPayload* encoded) {
  atom->set_reference_count(1);
  atom->set_is_active(true);
  atom->set_created_at_us(now_us);
  atom->set_updated_at_us(now_us);
  SetContentShape(atom, content.size());
  return Insert(txn, *atom, content, encoded);
}

Status AtomTable::Update(WriteTxn& txn, const AtomRecord& before, const AtomRecord& after) {
  HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, after, /*append=*/false));
  if (before.is_active() != after.is_active() ||
      before.reference_count() != after.reference_count()) {
    if (before.is_active()) {
      HT_RETURN_IF_ERROR(txn.Del(t_.atoms_by_refcount, RefKey(before)).status());
    } else {
      HT_RETURN_IF_ERROR(txn.Del(t_.atoms_inactive, Be64Key(before.atom_id())).status());
    }
    if (after.is_active()) {
      HT_RETURN_IF_ERROR(txn.Put(t_.atoms_by_refcount, RefKey(after), ""));
    } else {
      HT_RETURN_IF_ERROR(txn.Put(t_.atoms_inactive, Be64Key(after.atom_id()), ""));
    }
  }
  Account(before.modality(), Contribution(before), CounterDelta{});
  Account(after.modality(), CounterDelta{}, Contribution(after));
  return Status::Ok();
}

Result<uint64_t> AtomTable::Remove(WriteTxn& txn, const AtomRecord& atom) {
  const std::string id_key = Be64Key(atom.atom_id());
  HT_RETURN_IF_ERROR(txn.Del(t_.atoms, id_key).status());
  HT_RETURN_IF_ERROR(txn.DelPrefix(t_.atom_payload, id_key).status());
  HT_RETURN_IF_ERROR(txn.Del(t_.atom_hash, HashKey(atom.content_hash())).status());
  if (atom.is_active()) {
    HT_RETURN_IF_ERROR(txn.Del(t_.atoms_by_refcount, RefKey(atom)).status());
  } else {
    HT_RETURN_IF_ERROR(txn.Del(t_.atoms_inactive, id_key).status());
  }
  HT_ASSIGN_OR_RETURN(uint64_t owned, RelationTable(t_).RemoveAllOf(txn, atom.atom_id()));
  for (MDB_dbi dbi : t_.atom_owned()) {
    HT_ASSIGN_OR_RETURN(uint64_t n, txn.DelPrefix(dbi, id_key));
    owned += n;
  }
  Account(atom.modality(), Contribution(atom), CounterDelta{});
  return owned;
}

CounterDelta AtomTable::Contribution(const AtomRecord& atom) {
  if (!atom.is_active()) return CounterDelta{};
  const int64_t size = static_cast<int64_t>(atom.content_size());
  const int64_t refs = atom.reference_count();
  const bool root = atom.subtype() == "document";
  return CounterDelta{1,
                      refs,
                      size,
                      size * refs,
                      root ? refs : 0,
                      root ? static_cast<int64_t>(atom.document_bytes()) * refs : 0,
                      size - static_cast<int64_t>(StoredSize(atom))};
}

void AtomTable::Account(const std::string& modality, const CounterDelta& minus,
                        const CounterDelta& plus) {
  CounterDelta& d = pending_[modality];
  d.unique_atoms += plus.unique_atoms - minus.unique_atoms;
  d.total_references += plus.total_references - minus.total_references;
  d.unique_bytes += plus.unique_bytes - minus.unique_bytes;
  d.logical_bytes += plus.logical_bytes - minus.logical_bytes;
  d.documents += plus.documents - minus.documents;
  d.document_bytes += plus.document_bytes - minus.document_bytes;
  d.compressed_away_bytes += plus.compressed_away_bytes - minus.compressed_away_bytes;
}

Status AtomTable::FlushCounters(WriteTxn& txn) {
  for (const auto& [modality, d] : pending_) {
    if (d.unique_atoms == 0 && d.total_references == 0 && d.unique_bytes == 0 &&
        d.logical_bytes == 0 && d.documents == 0 && d.document_bytes == 0 &&
        d.compressed_away_bytes == 0) {
      continue;
    }
    DedupCounter counter;
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.dedup_counters, modality, &value));
    if (found && !counter.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Status::DataLoss("dedup_counters[" + modality + "]: corrupt");
    }
    counter.set_unique_atoms(counter.unique_atoms() + d.unique_atoms);
    counter.set_total_references(counter.total_references() + d.total_references);
    counter.set_unique_bytes(counter.unique_bytes() + d.unique_bytes);
    counter.set_logical_bytes(counter.logical_bytes() + d.logical_bytes);
    counter.set_documents(counter.documents() + d.documents);
    counter.set_document_bytes(counter.document_bytes() + d.document_bytes);
    counter.set_compressed_away_bytes(counter.compressed_away_bytes() + d.compressed_away_bytes);
    if (counter.unique_atoms() == 0 && counter.total_references() == 0) {
      HT_RETURN_IF_ERROR(txn.Del(t_.dedup_counters, modality).status());
    } else {
      HT_RETURN_IF_ERROR(txn.Put(t_.dedup_counters, modality, counter.SerializeAsString()));
    }
  }
  pending_.clear();
  return Status::Ok();
}

Result<std::vector<std::pair<std::string, DedupCounter>>> AtomTable::ReadCounters(Txn& txn) const {
  std::vector<std::pair<std::string, DedupCounter>> out;
  auto cursor = txn.OpenCursor(t_.dedup_counters);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    DedupCounter counter;
    if (!counter.ParseFromArray(cursor->value().data(), static_cast<int>(cursor->value().size()))) {
      return Status::DataLoss("dedup_counters: corrupt record");
    }
    out.emplace_back(std::string(cursor->key()), std::move(counter));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return out;
}

Result<std::vector<AtomRecord>> AtomTable::TopByReferences(Txn& txn, size_t n) const {
  std::vector<AtomRecord> out;
  auto cursor = txn.OpenCursor(t_.atoms_by_refcount);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Last());
  while (valid && out.size() < n) {
    const uint64_t atom_id = ReadBe64(cursor->key().substr(8));
    HT_ASSIGN_OR_RETURN(auto atom, Get(txn, atom_id));
    if (!atom)
      return Status::DataLoss("atoms_by_refcount: dangling atom " + std::to_string(atom_id));
    out.push_back(std::move(*atom));
    HT_ASSIGN_OR_RETURN(valid, cursor->Prev());
  }
  return out;
}

}  // namespace hartonomous::storage
