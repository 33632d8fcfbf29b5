#include "storage/tables/tensor_atom_table.h"

#include <utility>

#include "storage/key_codec.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {
namespace {

constexpr size_t kKeyBytes = 17;  // be64 model, be32 layer, u8 kind, be32 chunk

std::string LayerPrefix(uint64_t model_id, uint32_t layer_idx, TensorKind kind) {
  std::string key = Be64Key(model_id);
  AppendBe32(&key, layer_idx);
  key.push_back(static_cast<char>(kind));
  return key;
}

}  // namespace

std::string TensorAtomTable::Key(const TensorChunkKey& key) {
  std::string bytes = LayerPrefix(key.model_id, key.layer_idx, key.kind);
  AppendBe32(&bytes, key.chunk_index);
  return bytes;
}

Result<TensorChunkKey> TensorAtomTable::ParseKey(std::string_view key) {
  if (key.size() != kKeyBytes) {
    return Status::DataLoss("tensor_atoms: a key of " + std::to_string(key.size()) +
                            " bytes is corrupt");
  }
  TensorChunkKey out;
  out.model_id = ReadBe64(key.substr(0, 8));
  out.layer_idx = ReadBe32(key.substr(8, 4));
  const auto kind = static_cast<uint8_t>(key[12]);
  if (kind > static_cast<uint8_t>(TensorKind::kScales)) {
    return Status::DataLoss("tensor_atoms: a key of model " + std::to_string(out.model_id) +
                            " has unknown kind " + std::to_string(kind));
  }
  out.kind = static_cast<TensorKind>(kind);
  out.chunk_index = ReadBe32(key.substr(13, 4));
  return out;
}

Status TensorAtomTable::Put(WriteTxn& txn, const TensorChunkKey& key,
                            const TensorAtomRecord& record) const {
  return txn.Put(t_.tensor_atoms, Key(key), record.SerializeAsString());
}

Status TensorAtomTable::Scan(
    Txn& txn, const std::string& prefix,
    const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const {
  auto cursor = txn.OpenCursor(t_.tensor_atoms);
  // LMDB refuses an empty key: the whole table starts at First().
  HT_ASSIGN_OR_RETURN(bool valid, prefix.empty() ? cursor->First() : cursor->Seek(prefix));
  while (valid) {
    const std::string_view key = cursor->key();
    if (key.substr(0, prefix.size()) != prefix) break;
    HT_ASSIGN_OR_RETURN(TensorChunkKey parsed, ParseKey(key));
    HT_ASSIGN_OR_RETURN(
        TensorAtomRecord row,
        ParseRecord<TensorAtomRecord>(cursor->value(), "tensor_atoms",
                                      std::to_string(parsed.model_id) + "/" +
                                          std::to_string(parsed.layer_idx) + "/" +
                                          std::to_string(static_cast<int>(parsed.kind)) + "/" +
                                          std::to_string(parsed.chunk_index)));
    if (!visit(parsed, std::move(row))) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Status TensorAtomTable::ScanLayer(
    Txn& txn, uint64_t model_id, uint32_t layer_idx, TensorKind kind,
    const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const {
  return Scan(txn, LayerPrefix(model_id, layer_idx, kind), visit);
}

Status TensorAtomTable::ScanModel(
    Txn& txn, uint64_t model_id,
    const std::function<bool(const TensorChunkKey&, TensorAtomRecord&&)>& visit) const {
  return Scan(txn, Be64Key(model_id), visit);
}

Result<uint64_t> TensorAtomTable::RemoveLayer(WriteTxn& txn, uint64_t model_id, uint32_t layer_idx,
                                              TensorKind kind) const {
  return txn.DelPrefix(t_.tensor_atoms, LayerPrefix(model_id, layer_idx, kind));
}

Result<uint64_t> TensorAtomTable::RemoveModel(WriteTxn& txn, uint64_t model_id) const {
  return txn.DelPrefix(t_.tensor_atoms, Be64Key(model_id));
}

}  // namespace hartonomous::storage
