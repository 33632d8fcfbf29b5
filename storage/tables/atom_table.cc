#include "storage/tables/atom_table.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::storage {
namespace {

// "atom_hash" keys: the first kHashPrefixBytes of the SHA-256.
constexpr size_t kHashPrefixBytes = 8;
constexpr size_t kHashBytes = 32;
std::string_view HashPrefix(const std::string& hash) {
  return std::string_view(hash).substr(0, kHashPrefixBytes);
}

std::string ContainerKey(uint64_t child, uint64_t parent) {
  std::string key;
  key.reserve(16);
  AppendBe64(&key, child);
  AppendBe64(&key, parent);
  return key;
}

// "atom_children" values: one byte of PayloadCodec, be32(size of the encoded
// ChildList), then the ChildList bytes as that codec stores them.
std::string EncodeChildList(const ChildList& list) {
  const std::string raw = list.SerializeAsString();
  const EncodedPayload encoded = EncodePayload(raw);
  std::string value;
  value.push_back(static_cast<char>(encoded.codec));
  AppendBe32(&value, static_cast<uint32_t>(raw.size()));
  value += encoded.codec == PayloadCodec::kRaw ? raw : encoded.frame;
  return value;
}

Status DecodeChildList(std::string_view value, uint64_t parent, ChildList* list) {
  const std::string what = "atom_children of atom " + std::to_string(parent);
  if (value.size() < 5) return Status::DataLoss(what + ": truncated");
  const auto codec = static_cast<PayloadCodec>(static_cast<uint8_t>(value[0]));
  const uint32_t size = ReadBe32(value.substr(1));
  std::string raw;
  HT_RETURN_IF_ERROR(DecodePayload(codec, value.substr(5), size, what, &raw));
  if (!list->ParseFromString(raw)) return Status::DataLoss(what + ": corrupt");
  return Status::Ok();
}

std::string ChunkKey(uint64_t atom_id, uint32_t chunk) {
  std::string key;
  key.reserve(12);
  AppendBe64(&key, atom_id);
  AppendBe32(&key, chunk);
  return key;
}

// append: the key is larger than every key in the table (a fresh atom id),
// so LMDB can fill pages instead of splitting them in half. The row holds
// the stored form (storage/tables/atom_record_codec.h), and a canonical_text
// that is the content is never stored a second time.
Status PutRecord(WriteTxn& txn, MDB_dbi dbi, const AtomRecord& given, bool append) {
  AtomRecord atom;
  ToStoredAtomRecord(given, &atom);
  if (atom.canonical_text_is_content()) atom.clear_canonical_text();
  const size_t size = atom.ByteSizeLong();
  HT_ASSIGN_OR_RETURN(char* dst,
                      txn.Reserve(dbi, Be64Key(given.atom_id()), size, append ? MDB_APPEND : 0));
  if (!atom.SerializeToArray(dst, static_cast<int>(size))) {
    return Status::Internal("atom " + std::to_string(given.atom_id()) + ": serialize failed");
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
  HT_ASSIGN_OR_RETURN(auto atom, FindRecordByHash(txn, hash));
  if (!atom) return std::optional<uint64_t>();
  return std::optional<uint64_t>(atom->atom_id());
}

Result<std::optional<AtomRecord>> AtomTable::FindRecordByHash(Txn& txn,
                                                              const Sha256Digest& hash) const {
  const std::string_view full(reinterpret_cast<const char*>(hash.data()), hash.size());
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_hash, full.substr(0, kHashPrefixBytes), &value));
  if (found) {
    if (value.size() != 8) return Status::DataLoss("atom_hash: malformed entry");
    const uint64_t id = ReadBe64(value);
    HT_ASSIGN_OR_RETURN(auto atom, Get(txn, id));
    if (!atom) return Status::DataLoss("atom_hash points at missing atom " + std::to_string(id));
    if (atom->content_hash() == full) return atom;
  }
  // The prefix slot is free or holds another atom: the whole hash may be in
  // the collision table.
  HT_ASSIGN_OR_RETURN(found, txn.Get(t_.atom_hash_collisions, full, &value));
  if (!found) return std::optional<AtomRecord>();
  if (value.size() != 8) return Status::DataLoss("atom_hash_collisions: malformed entry");
  const uint64_t id = ReadBe64(value);
  HT_ASSIGN_OR_RETURN(auto atom, Get(txn, id));
  if (!atom) {
    return Status::DataLoss("atom_hash_collisions points at missing atom " + std::to_string(id));
  }
  return atom;
}

Status AtomTable::IndexHash(WriteTxn& txn, const AtomRecord& atom) {
  if (atom.content_hash().size() != kHashBytes) {
    return Status::Internal("atom " + std::to_string(atom.atom_id()) +
                            ": content hash is not 32 bytes");
  }
  const std::string id = Be64Key(atom.atom_id());
  Status put = txn.Put(t_.atom_hash, HashPrefix(atom.content_hash()), id, MDB_NOOVERWRITE);
  if (put.code() != Status::Code::kAlreadyExists) return put;
  Sha256Digest digest;
  std::memcpy(digest.data(), atom.content_hash().data(), digest.size());
  HT_ASSIGN_OR_RETURN(auto holder, FindByHash(txn, digest));
  if (holder) {
    return Status::AlreadyExists("atom_hash: the content hash of atom " +
                                 std::to_string(atom.atom_id()) + " is already atom " +
                                 std::to_string(*holder) + "'s");
  }
  return txn.Put(t_.atom_hash_collisions, atom.content_hash(), id, MDB_NOOVERWRITE);
}

Status AtomTable::UnindexHash(WriteTxn& txn, const AtomRecord& atom) {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_hash, HashPrefix(atom.content_hash()), &value));
  if (found && value.size() == 8 && ReadBe64(value) == atom.atom_id()) {
    return txn.Del(t_.atom_hash, HashPrefix(atom.content_hash())).status();
  }
  return txn.Del(t_.atom_hash_collisions, atom.content_hash()).status();
}

Status AtomTable::PutRefIndex(WriteTxn& txn, const AtomRecord& atom) {
  if (!atom.is_active()) return txn.Put(t_.atoms_inactive, Be64Key(atom.atom_id()), "");
  if (InRefIndex(atom)) return txn.Put(t_.atoms_by_refcount, RefKey(atom), "");
  return Status::Ok();
}

Status AtomTable::DelRefIndex(WriteTxn& txn, const AtomRecord& atom) {
  if (!atom.is_active()) return txn.Del(t_.atoms_inactive, Be64Key(atom.atom_id())).status();
  if (InRefIndex(atom)) return txn.Del(t_.atoms_by_refcount, RefKey(atom)).status();
  return Status::Ok();
}

Status AtomTable::ReadBlock(Txn& txn, uint64_t block_id, std::string* raw) const {
  const std::string block_name = "payload block " + std::to_string(block_id);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.payload_blocks, Be64Key(block_id), &value));
  if (!found) return Status::DataLoss(block_name + " is missing");
  if (value.size() < 5) return Status::DataLoss(block_name + ": truncated");
  const auto codec = static_cast<PayloadCodec>(static_cast<uint8_t>(value[0]));
  if (codec == PayloadCodec::kBlock) return Status::DataLoss(block_name + ": unknown codec");
  return DecodePayload(codec, value.substr(5), ReadBe32(value.substr(1)), block_name, raw);
}

Status AtomTable::ReadBlockMember(Txn& txn, const AtomRecord& atom, std::string* content,
                                  BlockCache* cache) const {
  const std::string what = "atom " + std::to_string(atom.atom_id());
  const uint64_t block_id = atom.payload_block();
  if (atom.content_lists_children()) {
    return Status::DataLoss(what + ": a composite's header is not stored in a payload block");
  }
  std::string local;
  const std::string* raw = &local;
  if (cache != nullptr && cache->block_id == block_id && block_id != 0) {
    raw = &cache->raw;
  } else {
    std::string* into = cache != nullptr ? &cache->raw : &local;
    if (cache != nullptr) cache->block_id = 0;
    Status read = ReadBlock(txn, block_id, into);
    if (!read.ok()) return Status::DataLoss(what + ": " + read.message());
    if (cache != nullptr) cache->block_id = block_id;
    raw = into;
  }
  if (uint64_t{atom.block_offset()} + atom.content_size() > raw->size()) {
    return Status::DataLoss(what + ": its content range runs past the end of payload block " +
                            std::to_string(block_id));
  }
  content->assign(std::string_view(*raw).substr(atom.block_offset(), atom.content_size()));
  return Status::Ok();
}

Result<RepackSummary> AtomTable::RepackSparseBlocks(WriteTxn& txn, uint64_t from,
                                                    size_t max_blocks) {
  RepackSummary summary;
  summary.next_block = from;
  struct Sparse {
    uint64_t id;
    uint64_t last_atom;
    uint64_t live_bytes;
    uint64_t raw_size;
  };
  std::vector<Sparse> sparse;
  {
    auto cursor = txn.OpenCursor(t_.payload_block_refs);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(Be64Key(from)));
    size_t visited = 0;
    while (valid && sparse.size() < max_blocks && visited < 64 * max_blocks) {
      ++visited;
      const uint64_t id = ReadBe64(cursor->key());
      const std::string_view refs = cursor->value();
      if (refs.size() != 16) {
        return Status::DataLoss("payload_block_refs of block " + std::to_string(id) +
                                ": malformed");
      }
      std::string_view block;
      HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.payload_blocks, Be64Key(id), &block));
      if (!found || block.size() < 5) {
        return Status::DataLoss("payload block " + std::to_string(id) + " is missing");
      }
      const uint64_t live = ReadBe32(refs.substr(4));
      const uint64_t raw_size = ReadBe32(block.substr(1));
      if (live * 2 < raw_size) sparse.push_back({id, ReadBe64(refs.substr(8)), live, raw_size});
      summary.next_block = id + 1;
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    summary.done = !valid;
  }
  // The live members of the sparse blocks, in atom id order, with their
  // contents; then the old blocks go and the members are packed anew.
  std::vector<AtomRecord> members;
  std::vector<std::string> contents;
  for (const Sparse& block : sparse) {
    std::string raw;
    HT_RETURN_IF_ERROR(ReadBlock(txn, block.id, &raw));
    auto cursor = txn.OpenCursor(t_.atoms);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(Be64Key(block.id)));
    while (valid && ReadBe64(cursor->key()) <= block.last_atom) {
      HT_ASSIGN_OR_RETURN(AtomRecord atom,
                          ParseAtomRecord(cursor->value(), ReadBe64(cursor->key())));
      if (atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kBlock) &&
          atom.payload_block() == block.id) {
        if (uint64_t{atom.block_offset()} + atom.content_size() > raw.size()) {
          return Status::DataLoss("atom " + std::to_string(atom.atom_id()) +
                                  ": its content range runs past the end of payload block " +
                                  std::to_string(block.id));
        }
        contents.emplace_back(raw, atom.block_offset(), atom.content_size());
        members.push_back(std::move(atom));
      }
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    HT_RETURN_IF_ERROR(txn.Del(t_.payload_blocks, Be64Key(block.id)).status());
    HT_RETURN_IF_ERROR(txn.Del(t_.payload_block_refs, Be64Key(block.id)).status());
    summary.dead_bytes += block.raw_size - block.live_bytes;
    ++summary.blocks;
  }
  std::vector<std::string_view> views(contents.begin(), contents.end());
  const std::vector<EncodedPayload> packed = PackPayloads(views);
  for (size_t i = 0; i < members.size(); ++i) {
    const AtomRecord& before = members[i];
    AtomRecord after = before;
    after.clear_payload_block();
    after.clear_block_offset();
    // Each new block is keyed by its first member, an atom of one of the
    // blocks just deleted: no other block can hold that key.
    HT_RETURN_IF_ERROR(WritePayload(txn, &after, contents[i], packed[i], /*append=*/false));
    HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, after, /*append=*/false));
    Account(after.modality(), Contribution(before), Contribution(after));
    ++summary.atoms;
  }
  return summary;
}

Status AtomTable::ReadContent(Txn& txn, const AtomRecord& atom, std::string* content,
                              BlockCache* cache) const {
  if (atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kBlock)) {
    return ReadBlockMember(txn, atom, content, cache);
  }
  const std::string what = "atom " + std::to_string(atom.atom_id());
  const uint64_t stored_size = StoredSize(atom);
  if (atom.chunk_count() != 0 && atom.chunk_count() != ChunkCount(stored_size)) {
    return Status::DataLoss(what + ": chunk count does not match the stored size");
  }
  // A composite stores its header; its children's hashes follow it.
  std::string hashes;
  if (atom.content_lists_children()) {
    HT_ASSIGN_OR_RETURN(hashes, ChildHashes(txn, atom.atom_id()));
  }
  if (hashes.size() > atom.content_size()) {
    return Status::DataLoss(what + ": the child list is longer than the content size");
  }
  const uint64_t header_size = atom.content_size() - hashes.size();
  const auto codec = static_cast<PayloadCodec>(atom.payload_codec());
  // Raw content is gathered straight into *content; a frame is gathered
  // first (at most stored_size bytes) and decoded into at most header_size.
  std::string frame;
  std::string* gather = codec == PayloadCodec::kRaw ? content : &frame;
  gather->clear();
  if (atom.chunk_count() == 0) {
    if (atom.inline_payload().size() != stored_size) {
      return Status::DataLoss(what + ": inline content does not match the stored size");
    }
    gather->assign(atom.inline_payload());
  } else {
    gather->reserve(codec == PayloadCodec::kRaw ? atom.content_size() : stored_size);
  }
  HT_RETURN_IF_ERROR(ForEachChunk(txn, atom, stored_size, what, [&](std::string_view row) {
    gather->append(row);
    return true;
  }));
  if (codec == PayloadCodec::kRaw) {
    if (content->size() != header_size) return Status::DataLoss(what + ": content size mismatch");
  } else {
    if (frame.size() != stored_size) return Status::DataLoss(what + ": stored size mismatch");
    HT_RETURN_IF_ERROR(DecodePayload(codec, frame, header_size, what, content));
  }
  content->append(hashes);
  return Status::Ok();
}

Result<std::optional<bool>> AtomTable::RawContentEquals(Txn& txn, const AtomRecord& atom,
                                                        std::string_view content) const {
  if (atom.payload_codec() != static_cast<uint32_t>(PayloadCodec::kRaw) ||
      atom.content_lists_children()) {
    return std::optional<bool>();
  }
  const std::string what = "atom " + std::to_string(atom.atom_id());
  if (StoredSize(atom) != atom.content_size()) {
    return Status::DataLoss(what + ": raw content with another stored size");
  }
  if (atom.content_size() != content.size()) return std::optional<bool>(false);
  if (atom.chunk_count() == 0) {
    if (atom.inline_payload().size() != content.size()) {
      return Status::DataLoss(what + ": inline content does not match the stored size");
    }
    return std::optional<bool>(atom.inline_payload() == content);
  }
  if (atom.chunk_count() != ChunkCount(content.size())) {
    return Status::DataLoss(what + ": chunk count does not match the stored size");
  }
  size_t at = 0;
  bool equal = true;
  HT_RETURN_IF_ERROR(ForEachChunk(txn, atom, content.size(), what, [&](std::string_view row) {
    equal = row == content.substr(at, row.size());
    at += row.size();
    return equal;
  }));
  if (!equal) return std::optional<bool>(false);
  if (at != content.size()) return Status::DataLoss(what + ": content size mismatch");
  return std::optional<bool>(true);
}

Status AtomTable::ForEachChunk(Txn& txn, const AtomRecord& atom, uint64_t stored_size,
                               const std::string& what,
                               const std::function<bool(std::string_view)>& visit) const {
  uint64_t seen = 0;
  for (uint32_t chunk = 0; chunk < atom.chunk_count(); ++chunk) {
    std::string_view row;
    HT_ASSIGN_OR_RETURN(bool found,
                        txn.Get(t_.atom_payload, ChunkKey(atom.atom_id(), chunk), &row));
    if (!found) {
      return Status::DataLoss(what + ": content chunk " + std::to_string(chunk) + " is missing");
    }
    if (row.size() > stored_size - seen) {
      return Status::DataLoss(what + ": content rows exceed the stored size");
    }
    seen += row.size();
    if (!visit(row)) break;
  }
  return Status::Ok();
}

Result<std::string> AtomTable::ChildHashes(Txn& txn, uint64_t parent) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_children, Be64Key(parent), &value));
  if (!found) {
    return Status::DataLoss("atom " + std::to_string(parent) + ": the child list is missing");
  }
  ChildList list;
  HT_RETURN_IF_ERROR(DecodeChildList(value, parent, &list));
  if (!list.released_hashes().empty()) return std::string(list.released_hashes());
  std::string hashes;
  hashes.reserve(kHashBytes * list.child_id_deltas_size());
  uint64_t id = 0;
  for (int64_t delta : list.child_id_deltas()) {
    id += static_cast<uint64_t>(delta);
    HT_ASSIGN_OR_RETURN(auto child, Get(txn, id));
    if (!child) {
      return Status::DataLoss("atom " + std::to_string(parent) + ": listed child " +
                              std::to_string(id) + " is missing");
    }
    hashes += child->content_hash();
  }
  return hashes;
}

Result<std::vector<std::optional<EncodedPayload>>> AtomTable::PackUnstored(
    Txn& txn, const std::vector<const Sha256Digest*>& hashes,
    const std::vector<std::string_view>& contents, Compression compression) const {
  std::vector<std::optional<EncodedPayload>> encoded(contents.size());
  std::set<Sha256Digest> seen;
  std::vector<size_t> fresh;
  std::vector<std::string_view> unstored;
  for (size_t i = 0; i < contents.size(); ++i) {
    if (hashes[i] == nullptr || !seen.insert(*hashes[i]).second) continue;
    HT_ASSIGN_OR_RETURN(auto existing, FindByHash(txn, *hashes[i]));
    if (existing) continue;
    fresh.push_back(i);
    unstored.push_back(contents[i]);
  }
  std::vector<EncodedPayload> packed = PackPayloads(unstored, compression);
  for (size_t k = 0; k < fresh.size(); ++k) encoded[fresh[k]] = std::move(packed[k]);
  return encoded;
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
  if (!atom.canonical_text().empty() && atom.canonical_text() == content) {
    atom.clear_canonical_text();
    atom.set_canonical_text_is_content(true);
  }
  return Store(txn, std::move(atom), content, *encoded);
}

Status AtomTable::Store(WriteTxn& txn, AtomRecord atom, std::string_view raw,
                        const EncodedPayload& encoded) {
  HT_RETURN_IF_ERROR(WritePayload(txn, &atom, raw, encoded, /*append=*/true));
  HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, atom, /*append=*/true));
  HT_RETURN_IF_ERROR(IndexHash(txn, atom));
  HT_RETURN_IF_ERROR(PutRefIndex(txn, atom));
  Account(atom.modality(), CounterDelta{}, Contribution(atom));
  return Status::Ok();
}

// Writes the payload rows of *atom (which has none yet) and sets its codec,
// stored size and chunk count. append: the atom id is the largest stored.
Status AtomTable::WritePayload(WriteTxn& txn, AtomRecord* atom, std::string_view raw,
                               const EncodedPayload& encoded, bool append) {
  if (encoded.codec == PayloadCodec::kBlock) {
    const PayloadBlock& block = *encoded.block;
    if (uint64_t{encoded.block_offset} + raw.size() > block.raw_size) {
      return Status::Internal("atom " + std::to_string(atom->atom_id()) +
                              ": content range past the end of its payload block");
    }
    uint64_t& block_id = written_blocks_[&block];
    if (block_id == 0) {
      // The block is stored with its first member and keyed by its id: the
      // largest atom id so far, hence the largest block id.
      block_id = atom->atom_id();
      HT_ASSIGN_OR_RETURN(char* dst, txn.Reserve(t_.payload_blocks, Be64Key(block_id),
                                                 5 + block.stored.size(), append ? MDB_APPEND : 0));
      dst[0] = static_cast<char>(block.codec);
      const std::string size = Be32Key(block.raw_size);
      std::memcpy(dst + 1, size.data(), 4);
      std::memcpy(dst + 5, block.stored.data(), block.stored.size());
    }
    atom->set_payload_codec(static_cast<uint32_t>(PayloadCodec::kBlock));
    atom->set_stored_size(encoded.stored_size(raw.size()));
    atom->set_payload_block(block_id);
    atom->set_block_offset(encoded.block_offset);
    atom->set_chunk_count(0);
    atom->clear_inline_payload();
    BlockDelta& delta = block_deltas_[block_id];
    delta.members += 1;
    delta.bytes += static_cast<int64_t>(raw.size());
    delta.last_atom = std::max(delta.last_atom, atom->atom_id());
    return Status::Ok();
  }
  const std::string_view stored =
      encoded.codec == PayloadCodec::kRaw ? raw : std::string_view(encoded.frame);
  atom->set_payload_codec(static_cast<uint32_t>(encoded.codec));
  atom->set_stored_size(stored.size());
  if (stored.size() <= kInlinePayloadBytes) {
    atom->set_chunk_count(0);
    atom->set_inline_payload(std::string(stored));
    return Status::Ok();
  }
  atom->clear_inline_payload();
  atom->set_chunk_count(ChunkCount(stored.size()));
  for (uint32_t chunk = 0; chunk < atom->chunk_count(); ++chunk) {
    const std::string_view piece = stored.substr(size_t{chunk} * kChunkBytes, kChunkBytes);
    HT_ASSIGN_OR_RETURN(char* dst, txn.Reserve(t_.atom_payload, ChunkKey(atom->atom_id(), chunk),
                                               piece.size(), append ? MDB_APPEND : 0));
    std::memcpy(dst, piece.data(), piece.size());
  }
  return Status::Ok();
}

Status AtomTable::InsertNew(WriteTxn& txn, AtomRecord* atom, std::string_view content,
                            int64_t now_us, const EncodedPayload* encoded, uint64_t references) {
  atom->set_reference_count(static_cast<int64_t>(references));
  atom->set_is_active(true);
  atom->set_created_at_us(now_us);
  atom->set_updated_at_us(now_us);
  SetContentShape(atom, content.size());
  return Insert(txn, *atom, content, encoded);
}

Status AtomTable::InsertComposite(WriteTxn& txn, AtomRecord* atom, std::string_view header,
                                  size_t children, int64_t now_us) {
  atom->set_reference_count(1);
  atom->set_is_active(true);
  atom->set_created_at_us(now_us);
  atom->set_updated_at_us(now_us);
  atom->set_content_lists_children(true);
  atom->set_content_size(header.size() + kHashBytes * children);
  // The list is written by PutChildren; until then the child list is empty.
  return Store(txn, *atom, header, EncodePayload(header));
}

Status AtomTable::PutChildren(WriteTxn& txn, uint64_t parent, const ChildListing& listing) {
  ChildList list;
  list.set_created_at_us(listing.created_at_us);
  bool any_metadata = false;
  uint64_t previous = 0;
  for (const ListedChild& child : listing.children) {
    list.add_child_id_deltas(static_cast<int64_t>(child.atom_id - previous));
    previous = child.atom_id;
    any_metadata = any_metadata || !child.edge_metadata.empty();
  }
  if (any_metadata) {
    for (const ListedChild& child : listing.children) list.add_edge_metadata(child.edge_metadata);
  }
  return txn.Put(t_.atom_children, Be64Key(parent), EncodeChildList(list));
}

Result<std::optional<ChildListing>> AtomTable::Children(Txn& txn, uint64_t parent) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_children, Be64Key(parent), &value));
  if (!found) return std::optional<ChildListing>();
  ChildList list;
  HT_RETURN_IF_ERROR(DecodeChildList(value, parent, &list));
  if (!list.released_hashes().empty()) return std::optional<ChildListing>();
  const bool metadata = list.edge_metadata_size() > 0;
  if (metadata && list.edge_metadata_size() != list.child_id_deltas_size()) {
    return Status::DataLoss("atom_children of atom " + std::to_string(parent) +
                            ": edge metadata does not match the children");
  }
  ChildListing out;
  out.created_at_us = list.created_at_us();
  out.children.resize(list.child_id_deltas_size());
  uint64_t id = 0;
  for (int i = 0; i < list.child_id_deltas_size(); ++i) {
    id += static_cast<uint64_t>(list.child_id_deltas(i));
    out.children[i].atom_id = id;
    if (metadata) out.children[i].edge_metadata = list.edge_metadata(i);
  }
  return std::optional<ChildListing>(std::move(out));
}

Result<ChildListing> AtomTable::ReleaseChildren(WriteTxn& txn, uint64_t parent) {
  HT_ASSIGN_OR_RETURN(auto listing, Children(txn, parent));
  if (!listing) return ChildListing{};
  HT_ASSIGN_OR_RETURN(std::string hashes, ChildHashes(txn, parent));
  ChildList released;
  released.set_released_hashes(std::move(hashes));
  released.set_created_at_us(listing->created_at_us);
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_children, Be64Key(parent), EncodeChildList(released)));
  return std::move(*listing);
}

Status AtomTable::AddListedEdge(WriteTxn& txn, AtomRecord* child, uint64_t parent) {
  child->set_listed_references(child->listed_references() + 1);
  auto* inline_ids = child->mutable_containers();
  auto at = std::lower_bound(inline_ids->begin(), inline_ids->end(), parent);
  if (at != inline_ids->end() && *at == parent) return Status::Ok();
  if (child->spilled_containers() == 0 &&
      static_cast<size_t>(inline_ids->size()) < kInlineContainers) {
    inline_ids->Add(0);
    // Re-find: Add may have moved the elements.
    at = std::lower_bound(inline_ids->begin(), inline_ids->end() - 1, parent);
    std::move_backward(at, inline_ids->end() - 1, inline_ids->end());
    *at = parent;
    return Status::Ok();
  }
  const std::string key = ContainerKey(child->atom_id(), parent);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_containers, key, &value));
  if (found) return Status::Ok();
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_containers, key, ""));
  child->set_spilled_containers(child->spilled_containers() + 1);
  return Status::Ok();
}

Status AtomTable::RemoveListedEdges(WriteTxn& txn, AtomRecord* child, uint64_t parent,
                                    uint64_t edges) {
  const std::string what = "atom " + std::to_string(child->atom_id());
  if (child->listed_references() < edges) {
    return Status::DataLoss(what + ": fewer listed references than list entries");
  }
  child->set_listed_references(child->listed_references() - edges);
  auto* inline_ids = child->mutable_containers();
  auto at = std::lower_bound(inline_ids->begin(), inline_ids->end(), parent);
  if (at != inline_ids->end() && *at == parent) {
    std::move(at + 1, inline_ids->end(), at);
    inline_ids->RemoveLast();
    return Status::Ok();
  }
  HT_ASSIGN_OR_RETURN(bool found,
                      txn.Del(t_.atom_containers, ContainerKey(child->atom_id(), parent)));
  if (!found || child->spilled_containers() == 0) {
    return Status::DataLoss(what + ": container " + std::to_string(parent) + " is not recorded");
  }
  child->set_spilled_containers(child->spilled_containers() - 1);
  return Status::Ok();
}

Status AtomTable::ForEachContainer(Txn& txn, const AtomRecord& child, uint64_t from,
                                   const std::function<bool(uint64_t)>& visit) const {
  const auto& inline_ids = child.containers();
  auto next_inline = std::lower_bound(inline_ids.begin(), inline_ids.end(), from);
  std::unique_ptr<Cursor> cursor;
  bool spilled = false;
  const std::string prefix = Be64Key(child.atom_id());
  if (child.spilled_containers() > 0) {
    cursor = txn.OpenCursor(t_.atom_containers);
    HT_ASSIGN_OR_RETURN(spilled, cursor->Seek(ContainerKey(child.atom_id(), from)));
    spilled = spilled && cursor->key().substr(0, 8) == prefix;
  }
  while (next_inline != inline_ids.end() || spilled) {
    const uint64_t spill = spilled ? ReadBe64(cursor->key().substr(8)) : 0;
    uint64_t parent;
    if (next_inline != inline_ids.end() && (!spilled || *next_inline < spill)) {
      parent = *next_inline++;
    } else {
      parent = spill;
      HT_ASSIGN_OR_RETURN(spilled, cursor->Next());
      spilled = spilled && cursor->key().substr(0, 8) == prefix;
    }
    if (!visit(parent)) break;
  }
  return Status::Ok();
}

Status AtomTable::Update(WriteTxn& txn, const AtomRecord& before, const AtomRecord& after) {
  HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, after, /*append=*/false));
  if (before.is_active() != after.is_active() ||
      before.reference_count() != after.reference_count()) {
    HT_RETURN_IF_ERROR(DelRefIndex(txn, before));
    HT_RETURN_IF_ERROR(PutRefIndex(txn, after));
  }
  Account(before.modality(), Contribution(before), CounterDelta{});
  Account(after.modality(), CounterDelta{}, Contribution(after));
  return Status::Ok();
}

Status AtomTable::UpgradeFromV2(WriteTxn& txn, uint64_t atom_id, const HeaderSizeFn& header_size) {
  HT_ASSIGN_OR_RETURN(auto found, Get(txn, atom_id));
  if (!found) return Status::Ok();
  const AtomRecord before = std::move(*found);
  const std::string what = "atom " + std::to_string(atom_id);
  // The hash index: a whole-hash key becomes a prefix key.
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool whole, txn.Get(t_.atom_hash, before.content_hash(), &value));
  if (whole && before.content_hash().size() == kHashBytes) {
    HT_RETURN_IF_ERROR(txn.Del(t_.atom_hash, before.content_hash()).status());
    HT_RETURN_IF_ERROR(IndexHash(txn, before));
  }
  // The reference-count index keeps shared atoms only.
  if (before.is_active() && !InRefIndex(before)) {
    HT_RETURN_IF_ERROR(txn.Del(t_.atoms_by_refcount, RefKey(before)).status());
  }
  if (before.content_lists_children()) return Status::Ok();
  std::string content;
  bool read = false;
  const ContentReader reader = [&]() -> Result<std::string> {
    if (!read) {
      HT_RETURN_IF_ERROR(ReadContent(txn, before, &content));
      read = true;
    }
    return content;
  };
  HT_ASSIGN_OR_RETURN(const std::optional<size_t> header, header_size(before, reader));
  if (!header) return Status::Ok();
  if (!read) {
    HT_RETURN_IF_ERROR(ReadContent(txn, before, &content));
  }
  if (*header > content.size() || (content.size() - *header) % kHashBytes != 0) {
    return Status::DataLoss(what + ": composite content is not a header and 32-byte hashes");
  }
  const std::string_view hashes = std::string_view(content).substr(*header);
  const size_t n = hashes.size() / kHashBytes;
  if (before.is_active()) {
    RelationTable relations(t_);
    std::vector<Edge> edges;
    HT_RETURN_IF_ERROR(relations.Scan(txn, Direction::kChildren, atom_id, kContains, "",
                                      [&](const Edge& edge, std::string_view) {
                                        edges.push_back(edge);
                                        return true;
                                      }));
    if (edges.size() != n) {
      return Status::DataLoss(what + " has " + std::to_string(edges.size()) +
                              " 'contains' edges for " + std::to_string(n) + " listed parts");
    }
    ChildListing listing;
    listing.created_at_us =
        edges.empty() ? before.created_at_us() : edges[0].record.created_at_us();
    for (size_t k = 0; k < n; ++k) {
      HT_ASSIGN_OR_RETURN(auto child, Get(txn, edges[k].target));
      if (!child || child->content_hash() != hashes.substr(k * kHashBytes, kHashBytes)) {
        return Status::DataLoss(what + ": part " + std::to_string(k) +
                                " does not match its 'contains' edge");
      }
      AtomRecord listed = *child;
      HT_RETURN_IF_ERROR(AddListedEdge(txn, &listed, atom_id));
      HT_RETURN_IF_ERROR(Update(txn, *child, listed));
      HT_RETURN_IF_ERROR(relations.Delete(txn, edges[k]).status());
      listing.children.push_back({edges[k].target, edges[k].record.metadata()});
    }
    HT_RETURN_IF_ERROR(PutChildren(txn, atom_id, listing));
  } else {
    ChildList released;
    released.set_released_hashes(std::string(hashes));
    released.set_created_at_us(before.created_at_us());
    HT_RETURN_IF_ERROR(txn.Put(t_.atom_children, Be64Key(atom_id), EncodeChildList(released)));
  }
  // Only the header stays in "atom_payload".
  AtomRecord after = before;
  HT_RETURN_IF_ERROR(txn.DelPrefix(t_.atom_payload, Be64Key(atom_id)).status());
  const std::string_view head = std::string_view(content).substr(0, *header);
  HT_RETURN_IF_ERROR(WritePayload(txn, &after, head, EncodePayload(head), /*append=*/false));
  after.set_content_lists_children(true);
  HT_RETURN_IF_ERROR(PutRecord(txn, t_.atoms, after, /*append=*/false));
  Account(before.modality(), Contribution(before), CounterDelta{});
  Account(after.modality(), CounterDelta{}, Contribution(after));
  return Status::Ok();
}

Result<uint64_t> AtomTable::Remove(WriteTxn& txn, const AtomRecord& atom) {
  const std::string id_key = Be64Key(atom.atom_id());
  HT_RETURN_IF_ERROR(txn.Del(t_.atoms, id_key).status());
  HT_RETURN_IF_ERROR(txn.DelPrefix(t_.atom_payload, id_key).status());
  if (atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kBlock)) {
    BlockDelta& delta = block_deltas_[atom.payload_block()];
    delta.members -= 1;
    delta.bytes -= static_cast<int64_t>(atom.content_size());
  }
  HT_RETURN_IF_ERROR(UnindexHash(txn, atom));
  HT_RETURN_IF_ERROR(DelRefIndex(txn, atom));
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
  for (const auto& [block_id, delta] : block_deltas_) {
    const std::string key = Be64Key(block_id);
    int64_t members = 0, bytes = 0;
    uint64_t last_atom = 0;
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.payload_block_refs, key, &value));
    if (found) {
      if (value.size() != 16) {
        return Status::DataLoss("payload_block_refs of block " + std::to_string(block_id) +
                                ": malformed");
      }
      members = ReadBe32(value);
      bytes = ReadBe32(value.substr(4));
      last_atom = ReadBe64(value.substr(8));
    }
    members += delta.members;
    bytes += delta.bytes;
    last_atom = std::max(last_atom, delta.last_atom);
    if (members < 0 || bytes < 0) {
      return Status::DataLoss("payload block " + std::to_string(block_id) +
                              " lost more members than it had");
    }
    if (members == 0) {
      HT_RETURN_IF_ERROR(txn.Del(t_.payload_blocks, key).status());
      HT_RETURN_IF_ERROR(txn.Del(t_.payload_block_refs, key).status());
      continue;
    }
    std::string row = Be32Key(static_cast<uint32_t>(members));
    AppendBe32(&row, static_cast<uint32_t>(bytes));
    AppendBe64(&row, last_atom);
    HT_RETURN_IF_ERROR(txn.Put(t_.payload_block_refs, key, row));
  }
  block_deltas_.clear();
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
  // Atoms with one reference are not indexed: the rest come from "atoms",
  // newest first as in the index.
  auto scan = txn.OpenCursor(t_.atoms);
  valid = false;
  if (out.size() < n) {
    HT_ASSIGN_OR_RETURN(valid, scan->Last());
  }
  while (valid && out.size() < n) {
    HT_ASSIGN_OR_RETURN(AtomRecord atom, ParseAtomRecord(scan->value(), ReadBe64(scan->key())));
    if (atom.is_active() && atom.reference_count() == 1) out.push_back(std::move(atom));
    HT_ASSIGN_OR_RETURN(valid, scan->Prev());
  }
  return out;
}

// --- index audit ---

Result<bool> AtomTable::HashIndexed(Txn& txn, const AtomRecord& atom) const {
  if (atom.content_hash().size() != kHashBytes) return false;
  const std::string id = Be64Key(atom.atom_id());
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_hash, HashPrefix(atom.content_hash()), &value));
  if (found && value == id) return true;
  HT_ASSIGN_OR_RETURN(found, txn.Get(t_.atom_hash_collisions, atom.content_hash(), &value));
  return found && value == id;
}

Status AtomTable::ForEachHashEntry(
    Txn& txn, const std::function<Status(HashTable, std::string_view, uint64_t)>& visit) const {
  for (const HashTable table : {HashTable::kPrefix, HashTable::kCollision}) {
    const bool prefix = table == HashTable::kPrefix;
    auto cursor = txn.OpenCursor(prefix ? t_.atom_hash : t_.atom_hash_collisions);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
    while (valid) {
      if (cursor->value().size() != 8) {
        return Status::DataLoss(std::string(prefix ? "atom_hash" : "atom_hash_collisions") +
                                ": malformed entry");
      }
      HT_RETURN_IF_ERROR(visit(table, cursor->key(), ReadBe64(cursor->value())));
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  return Status::Ok();
}

bool AtomTable::HashEntryMatches(HashTable table, std::string_view key, const AtomRecord& atom) {
  if (atom.content_hash().size() != kHashBytes) return false;
  return table == HashTable::kPrefix ? key == HashPrefix(atom.content_hash())
                                     : key == atom.content_hash();
}

Result<bool> AtomTable::StateIndexed(Txn& txn, const AtomRecord& atom) const {
  std::string_view value;
  if (!atom.is_active()) return txn.Get(t_.atoms_inactive, Be64Key(atom.atom_id()), &value);
  if (InRefIndex(atom)) return txn.Get(t_.atoms_by_refcount, RefKey(atom), &value);
  return true;
}

Status AtomTable::ForEachStateEntry(
    Txn& txn, const std::function<Status(std::optional<uint64_t>, uint64_t)>& visit) const {
  {
    auto cursor = txn.OpenCursor(t_.atoms_by_refcount);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
    while (valid) {
      if (cursor->key().size() != 16) return Status::DataLoss("atoms_by_refcount: malformed key");
      HT_RETURN_IF_ERROR(visit(ReadBe64(cursor->key()), ReadBe64(cursor->key().substr(8))));
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  auto cursor = txn.OpenCursor(t_.atoms_inactive);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    if (cursor->key().size() != 8) return Status::DataLoss("atoms_inactive: malformed key");
    HT_RETURN_IF_ERROR(visit(std::nullopt, ReadBe64(cursor->key())));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Status AtomTable::ForEachComposite(Txn& txn, const std::function<Status(uint64_t)>& visit) const {
  auto cursor = txn.OpenCursor(t_.atom_children);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    if (cursor->key().size() != 8) return Status::DataLoss("atom_children: malformed key");
    HT_RETURN_IF_ERROR(visit(ReadBe64(cursor->key())));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<uint64_t> AtomTable::Reindex(WriteTxn& txn, const AtomRecord& atom) {
  uint64_t written = 0;
  HT_ASSIGN_OR_RETURN(bool hashed, HashIndexed(txn, atom));
  if (!hashed) {
    HT_RETURN_IF_ERROR(IndexHash(txn, atom));
    ++written;
  }
  HT_ASSIGN_OR_RETURN(bool state, StateIndexed(txn, atom));
  if (!state) {
    HT_RETURN_IF_ERROR(PutRefIndex(txn, atom));
    ++written;
  }
  return written;
}

Result<bool> AtomTable::DropDanglingHashEntry(WriteTxn& txn, HashTable table,
                                              std::string_view key) {
  const MDB_dbi dbi = table == HashTable::kPrefix ? t_.atom_hash : t_.atom_hash_collisions;
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(dbi, key, &value));
  if (!found) return false;
  if (value.size() == 8) {
    HT_ASSIGN_OR_RETURN(auto atom, Get(txn, ReadBe64(value)));
    if (atom && HashEntryMatches(table, key, *atom)) return false;
  }
  const std::string copy(key);
  return txn.Del(dbi, copy);
}

Result<bool> AtomTable::DropDanglingStateEntry(WriteTxn& txn, std::optional<uint64_t> count,
                                               uint64_t atom_id) {
  HT_ASSIGN_OR_RETURN(auto atom, Get(txn, atom_id));
  if (atom && StateEntryMatches(count, *atom)) return false;
  if (!count) return txn.Del(t_.atoms_inactive, Be64Key(atom_id));
  std::string key;
  AppendBe64(&key, *count);
  AppendBe64(&key, atom_id);
  return txn.Del(t_.atoms_by_refcount, key);
}

}  // namespace hartonomous::storage
