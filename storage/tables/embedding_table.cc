#include "storage/tables/embedding_table.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstring>
#include <limits>
#include <utility>

#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr const char* kRows = "atom_embeddings";
constexpr const char* kBySeq = "embeddings_by_seq";
// A row key: be64(atom_id), the embedding type, NUL, be64(model_id).
constexpr size_t kMinRowKey = 8 + 1 + 8;

std::string RowKey(uint64_t atom_id, std::string_view type, uint64_t model_id) {
  std::string key = Be64Key(atom_id);
  key.append(type);
  key.push_back('\0');
  AppendBe64(&key, model_id);
  return key;
}

std::string RowKey(const EmbeddingRecord& row) {
  return RowKey(row.atom_id(), row.embedding_type(), row.model_id());
}

std::string SeqKey(uint64_t collection_id, uint64_t embedding_id) {
  std::string key = Be64Key(collection_id);
  AppendBe64(&key, embedding_id);
  return key;
}

// How errors name a row key: "atom 5 type 'text' model 1".
std::string DescribeRowKey(std::string_view key) {
  if (key.size() < kMinRowKey) return "of " + std::to_string(key.size()) + " key bytes";
  return "atom " + std::to_string(ReadBe64(key)) + " type '" +
         std::string(key.substr(8, key.size() - kMinRowKey)) + "' model " +
         std::to_string(ReadBe64(key.substr(key.size() - 8)));
}

Result<EmbeddingRecord> ParseRow(std::string_view key, std::string_view value) {
  return ParseRecord<EmbeddingRecord>(value, kRows, DescribeRowKey(key));
}

Status CorruptEntry(uint64_t collection_id, std::string_view key) {
  const std::string id = key.size() == 16 ? std::to_string(ReadBe64(key.substr(8))) : "?";
  return Status::DataLoss(std::string(kBySeq) + ": entry " + std::to_string(collection_id) + "/" +
                          id + " is corrupt");
}

// EmbeddingRecord.vector (field 6, bytes) of a stored row, viewed in place
// without parsing the rest of the row.
Result<std::string_view> VectorField(std::string_view row_key, std::string_view value) {
  namespace wire = google::protobuf::internal;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(value.data()),
                                            static_cast<int>(value.size()));
  constexpr int kVectorField = EmbeddingRecord::kVectorFieldNumber;
  std::string_view vector;  // absent: an empty vector, as the parser's default
  bool ok = true;
  while (const uint32_t tag = in.ReadTag()) {
    if (wire::WireFormatLite::GetTagFieldNumber(tag) == kVectorField &&
        wire::WireFormatLite::GetTagWireType(tag) ==
            wire::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      const void* at = nullptr;
      int available = 0;
      if (!in.ReadVarint32(&length) || !in.GetDirectBufferPointer(&at, &available) ||
          static_cast<uint32_t>(available) < length) {
        ok = false;
        break;
      }
      vector = std::string_view(static_cast<const char*>(at), length);  // the last one wins
      in.Skip(static_cast<int>(length));
    } else if (!wire::WireFormatLite::SkipField(&in, tag)) {
      ok = false;
      break;
    }
  }
  // ReadTag's 0 is the end of the record only when the record was consumed
  // whole (a truncated tag also reads as 0).
  if (!ok || !in.ConsumedEntireMessage() ||
      in.CurrentPosition() != static_cast<int>(value.size())) {
    return Status::DataLoss(std::string(kRows) + ": record " + DescribeRowKey(row_key) +
                            " is corrupt");
  }
  return vector;
}

}  // namespace

EmbeddingTable::EmbeddingTable(const Tables& t) : t_(t) {}

Sequence EmbeddingTable::Ids(WriteTxn& txn) const {
  return Sequence(txn, t_.sequences, "embedding_id");
}

Result<std::optional<EmbeddingRecord>> EmbeddingTable::Find(Txn& txn, uint64_t atom_id,
                                                            std::string_view embedding_type,
                                                            uint64_t model_id) const {
  const std::string key = RowKey(atom_id, embedding_type, model_id);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_embeddings, key, &value));
  if (!found) return std::optional<EmbeddingRecord>();
  HT_ASSIGN_OR_RETURN(EmbeddingRecord row, ParseRow(key, value));
  return std::optional<EmbeddingRecord>(std::move(row));
}

Status EmbeddingTable::ForEachRow(
    Txn& txn, const std::function<Status(const EmbeddingRecord&)>& visit) const {
  auto cursor = txn.OpenCursor(t_.atom_embeddings);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    HT_ASSIGN_OR_RETURN(EmbeddingRecord row, ParseRow(cursor->key(), cursor->value()));
    HT_RETURN_IF_ERROR(visit(row));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<std::vector<EmbeddingRecord>> EmbeddingTable::OfAtom(Txn& txn, uint64_t atom_id) const {
  const std::string prefix = Be64Key(atom_id);
  std::vector<EmbeddingRecord> out;
  auto cursor = txn.OpenCursor(t_.atom_embeddings);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
  while (valid && cursor->key().substr(0, 8) == prefix) {
    HT_ASSIGN_OR_RETURN(EmbeddingRecord row, ParseRow(cursor->key(), cursor->value()));
    out.push_back(std::move(row));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return out;
}

Result<std::optional<uint64_t>> EmbeddingTable::AtomOf(Txn& txn, uint64_t collection_id,
                                                       uint64_t embedding_id) const {
  const std::string key = SeqKey(collection_id, embedding_id);
  std::string_view row_key;
  HT_ASSIGN_OR_RETURN(bool live, txn.Get(t_.embeddings_by_seq, key, &row_key));
  if (!live) return std::optional<uint64_t>();
  if (row_key.size() < kMinRowKey) return CorruptEntry(collection_id, key);
  return std::optional<uint64_t>(ReadBe64(row_key));
}

Status EmbeddingTable::Scan(Txn& txn, uint64_t collection_id, uint64_t after,
                            const std::function<Status(const EmbeddingRef&)>& visit) const {
  if (after == std::numeric_limits<uint64_t>::max()) return Status::Ok();
  const std::string prefix = Be64Key(collection_id);
  auto cursor = txn.OpenCursor(t_.embeddings_by_seq);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(SeqKey(collection_id, after + 1)));
  EmbeddingRef ref;
  while (valid && cursor->key().substr(0, 8) == prefix) {
    if (cursor->key().size() != 16 || cursor->value().size() < kMinRowKey) {
      return CorruptEntry(collection_id, cursor->key());
    }
    ref.embedding_id_ = ReadBe64(cursor->key().substr(8));
    ref.atom_id_ = ReadBe64(cursor->value());
    ref.row_key_.assign(cursor->value());
    HT_RETURN_IF_ERROR(visit(ref));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Result<std::optional<std::string_view>> EmbeddingTable::VectorBytes(Txn& txn,
                                                                    uint64_t collection_id,
                                                                    uint64_t embedding_id) const {
  std::vector<std::optional<std::string_view>> out;
  HT_RETURN_IF_ERROR(VectorBytes(txn, collection_id, {embedding_id}, &out));
  return out.front();
}

Status EmbeddingTable::VectorBytes(Txn& txn, uint64_t collection_id,
                                   const std::vector<uint64_t>& embedding_ids,
                                   std::vector<std::optional<std::string_view>>* out) const {
  out->assign(embedding_ids.size(), std::nullopt);
  // Every entry first, then every row, then every row's vector: each pass
  // runs over pages the previous one left in cache.
  std::vector<std::string_view> row_keys(embedding_ids.size());
  for (size_t i = 0; i < embedding_ids.size(); ++i) {
    const std::string key = SeqKey(collection_id, embedding_ids[i]);
    HT_ASSIGN_OR_RETURN(bool live, txn.Get(t_.embeddings_by_seq, key, &row_keys[i]));
    if (!live) continue;
    if (row_keys[i].size() < kMinRowKey) return CorruptEntry(collection_id, key);
  }
  std::vector<std::string_view> values(embedding_ids.size());
  for (size_t i = 0; i < embedding_ids.size(); ++i) {
    if (row_keys[i].empty()) continue;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_embeddings, row_keys[i], &values[i]));
    if (!found) {
      return Status::DataLoss(std::string(kBySeq) + ": embedding " +
                              std::to_string(embedding_ids[i]) + " has no row");
    }
  }
  for (size_t i = 0; i < embedding_ids.size(); ++i) {
    if (row_keys[i].empty()) continue;
    HT_ASSIGN_OR_RETURN((*out)[i], VectorField(row_keys[i], values[i]));
  }
  return Status::Ok();
}

Result<EmbeddingRecord> EmbeddingTable::Read(Txn& txn, const EmbeddingRef& ref) const {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(t_.atom_embeddings, ref.row_key_, &value));
  if (!found) {
    return Status::DataLoss(std::string(kBySeq) + ": embedding " +
                            std::to_string(ref.embedding_id_) + " has no row");
  }
  return ParseRow(ref.row_key_, value);
}

Result<std::optional<EmbeddingRecord>> EmbeddingTable::Put(WriteTxn& txn,
                                                           const EmbeddingRecord& row) const {
  const std::string key = RowKey(row);
  std::optional<EmbeddingRecord> replaced;
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool exists, txn.Get(t_.atom_embeddings, key, &value));
  if (exists) {
    HT_ASSIGN_OR_RETURN(replaced, ParseRow(key, value));
    HT_RETURN_IF_ERROR(
        txn.Del(t_.embeddings_by_seq, SeqKey(row.collection_id(), replaced->embedding_id()))
            .status());
  }
  HT_RETURN_IF_ERROR(txn.Put(t_.atom_embeddings, key, row.SerializeAsString()));
  HT_RETURN_IF_ERROR(
      txn.Put(t_.embeddings_by_seq, SeqKey(row.collection_id(), row.embedding_id()), key));
  return replaced;
}

Result<bool> EmbeddingTable::Remove(WriteTxn& txn, const EmbeddingRecord& row) const {
  HT_ASSIGN_OR_RETURN(bool removed, txn.Del(t_.atom_embeddings, RowKey(row)));
  HT_RETURN_IF_ERROR(
      txn.Del(t_.embeddings_by_seq, SeqKey(row.collection_id(), row.embedding_id())).status());
  return removed;
}

Result<std::vector<EmbeddingRecord>> EmbeddingTable::RemoveAtom(WriteTxn& txn,
                                                                uint64_t atom_id) const {
  HT_ASSIGN_OR_RETURN(std::vector<EmbeddingRecord> rows, OfAtom(txn, atom_id));
  for (const auto& row : rows) HT_RETURN_IF_ERROR(Remove(txn, row).status());
  return rows;
}

Result<uint64_t> EmbeddingTable::RemoveCollection(WriteTxn& txn, uint64_t collection_id) const {
  std::vector<std::string> row_keys;
  HT_RETURN_IF_ERROR(Scan(txn, collection_id, 0, [&](const EmbeddingRef& ref) {
    row_keys.push_back(ref.row_key_);
    return Status::Ok();
  }));
  for (const auto& key : row_keys) HT_RETURN_IF_ERROR(txn.Del(t_.atom_embeddings, key).status());
  HT_RETURN_IF_ERROR(txn.DelPrefix(t_.embeddings_by_seq, Be64Key(collection_id)).status());
  return static_cast<uint64_t>(row_keys.size());
}

std::vector<float> EmbeddingTable::VectorOf(const EmbeddingRecord& row) {
  std::vector<float> v(row.vector().size() / sizeof(float));
  std::memcpy(v.data(), row.vector().data(), v.size() * sizeof(float));
  return v;
}

void EmbeddingTable::SetVector(EmbeddingRecord* row, const std::vector<float>& vector) {
  row->set_vector(
      std::string(reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float)));
}

}  // namespace hartonomous::storage
