#include "server/engine/models/tensor_store.h"

#include <future>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "base/clock.h"
#include "storage/records.pb.h"
#include "storage/sequence.h"
#include "storage/tables/import_staging_table.h"
#include "storage/tables/relation_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {

using storage::AtomRecord;
using storage::AtomTable;

Result<std::vector<StagedAtom>> TensorStore::Stage(uint64_t* import_id, uint32_t batch,
                                                   const std::vector<StagePiece>& pieces) {
  // New contents are encoded here, on two threads (tensor chunks are
  // large and compress slowly: zstd runs at about 200-400 MB/s per core on
  // BF16 weights), each half in its own read transaction; a chunk is
  // compressed only when a sample of it shows that it pays
  // (Compression::kSampled).
  size_t bytes = 0;
  for (const StagePiece& piece : pieces) bytes += piece.content.size();
  auto encode = [&](size_t from,
                    size_t to) -> Result<std::vector<std::optional<storage::EncodedPayload>>> {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    std::vector<const Sha256Digest*> keys;
    std::vector<std::string_view> contents;
    for (size_t i = from; i < to; ++i) {
      keys.push_back(&pieces[i].hash);
      contents.push_back(pieces[i].content);
    }
    return AtomTable(tables_).PackUnstored(txn, keys, contents, storage::Compression::kSampled);
  };
  const size_t half = pieces.size() / 2;
  auto second = std::async(std::launch::async, encode, half, pieces.size());
  auto first = encode(0, half);
  auto rest = second.get();
  HT_RETURN_IF_ERROR(first.status());
  HT_RETURN_IF_ERROR(rest.status());
  std::vector<std::optional<storage::EncodedPayload>> encoded = std::move(*first);
  for (auto& e : *rest) encoded.push_back(std::move(e));
  const int64_t now = NowMicros();
  std::vector<StagedAtom> out;
  uint64_t assigned = *import_id;
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        // Re-runnable (a retried group): every output is rebuilt.
        out.assign(pieces.size(), StagedAtom{});
        AtomTable atoms(tables_);
        storage::ImportStagingTable staging(tables_);
        uint64_t import = *import_id;
        if (import == 0) {
          HT_ASSIGN_OR_RETURN(import, staging.NewImportId(txn));
        }
        storage::Sequence ids(txn, tables_.sequences, "atom_id");
        storage::ImportStagingRecord row;
        for (size_t i = 0; i < pieces.size(); ++i) {
          const StagePiece& piece = pieces[i];
          HT_ASSIGN_OR_RETURN(auto existing, atoms.FindByHash(txn, piece.hash));
          if (existing) {
            HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, *existing));
            if (!before) {
              return Status::DataLoss("atom_hash points at missing atom " +
                                      std::to_string(*existing));
            }
            AtomRecord after = *before;
            after.set_reference_count(after.is_active() ? after.reference_count() + 1 : 1);
            after.set_is_active(true);
            after.set_updated_at_us(now);
            HT_RETURN_IF_ERROR(atoms.Update(txn, *before, after));
            out[i] = StagedAtom{*existing, false};
          } else {
            HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
            AtomRecord rec;
            rec.set_atom_id(id);
            rec.set_content_hash(
                std::string(reinterpret_cast<const char*>(piece.hash.data()), piece.hash.size()));
            rec.set_modality(kTensorModality);
            rec.set_subtype(piece.subtype);
            HT_RETURN_IF_ERROR(atoms.InsertNew(txn, &rec, piece.content, now,
                                               encoded[i] ? &*encoded[i] : nullptr));
            out[i] = StagedAtom{id, true};
          }
          row.add_atom_ids(out[i].atom_id);
          row.add_created(out[i].created);
        }
        HT_RETURN_IF_ERROR(staging.Put(txn, import, batch, row));
        HT_RETURN_IF_ERROR(ids.Flush());
        HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
        assigned = import;
        return Status::Ok();
      },
      bytes + pieces.size() * 128, pieces.size()));
  *import_id = assigned;
  return out;
}

Status TensorStore::ReferenceOne(storage::WriteTxn& txn, AtomTable& atoms, uint64_t atom_id,
                                 int64_t now_us) {
  HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, atom_id));
  if (!before) {
    return Status::DataLoss("tensor_atoms: a row holds atom " + std::to_string(atom_id) +
                            ", which is gone");
  }
  AtomRecord after = *before;
  after.set_reference_count(after.is_active() ? after.reference_count() + 1 : 1);
  after.set_is_active(true);
  after.set_updated_at_us(now_us);
  return atoms.Update(txn, *before, after);
}

Result<uint64_t> TensorStore::ShareLayerRows(storage::WriteTxn& txn, const storage::Tables& tables,
                                             AtomTable& atoms, uint64_t from_model,
                                             uint32_t from_idx, uint64_t to_model, uint32_t to_idx,
                                             uint64_t to_layer_id, int64_t now_us, bool weights) {
  const storage::TensorAtomTable tensors(tables);
  std::vector<std::pair<storage::TensorChunkKey, storage::TensorAtomRecord>> rows;
  for (auto kind : {storage::TensorKind::kWeights, storage::TensorKind::kImportance,
                    storage::TensorKind::kTemporal, storage::TensorKind::kScales}) {
    if (!weights &&
        (kind == storage::TensorKind::kWeights || kind == storage::TensorKind::kScales)) {
      continue;
    }
    HT_RETURN_IF_ERROR(
        tensors.ScanLayer(txn, from_model, from_idx, kind,
                          [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
                            rows.emplace_back(key, std::move(row));
                            return true;
                          }));
  }
  uint64_t shared = 0;
  for (auto& [key, row] : rows) {
    storage::TensorChunkKey to = key;
    to.model_id = to_model;
    to.layer_idx = to_idx;
    row.set_layer_id(to_layer_id);
    row.set_created_at_us(now_us);
    if (key.kind == storage::TensorKind::kWeights) shared += row.byte_length();
    HT_RETURN_IF_ERROR(tensors.Put(txn, to, row));
    HT_RETURN_IF_ERROR(ReferenceOne(txn, atoms, row.atom_id(), now_us));
  }
  return shared;
}

Status TensorStore::ReleaseOne(storage::WriteTxn& txn, const storage::Tables& tables,
                               AtomTable& atoms, uint64_t atom_id, int64_t now_us,
                               std::vector<uint64_t>* released) {
  // An atom someone deleted (soft delete drops every reference) or purged
  // meanwhile has no reference left to release.
  HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, atom_id));
  if (!atom || !atom->is_active()) return Status::Ok();
  if (released != nullptr) released->push_back(atom_id);
  storage::RelationTable relations(tables);
  AtomRecord after;
  return storage::ReleaseReference(txn, atoms, relations, atom_id, /*drop_all=*/false, now_us,
                                   &after, nullptr);
}

Result<uint64_t> TensorStore::Abandon(uint64_t import_id) {
  if (import_id == 0) return uint64_t{0};
  const int64_t now = NowMicros();
  uint64_t deleted = 0;
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        deleted = 0;
        AtomTable atoms(tables_);
        storage::ImportStagingTable staging(tables_);
        std::set<uint64_t> still_held;  // created here, referenced elsewhere
        HT_RETURN_IF_ERROR(staging.Scan(
            txn, import_id, [&](uint32_t, storage::ImportStagingRecord&& row) -> Status {
              for (int i = 0; i < row.atom_ids_size(); ++i) {
                const uint64_t id = row.atom_ids(i);
                HT_RETURN_IF_ERROR(ReleaseOne(txn, tables_, atoms, id, now));
                if (!row.created(i)) continue;
                HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, id));
                if (atom && !atom->is_active()) {
                  HT_RETURN_IF_ERROR(atoms.Remove(txn, *atom).status());
                  ++deleted;
                } else if (atom) {
                  still_held.insert(id);
                }
              }
              return Status::Ok();
            }));
        HT_RETURN_IF_ERROR(staging.Remove(txn, import_id).status());
        HT_RETURN_IF_ERROR(HandOverCreated(txn, staging, &still_held));
        return atoms.FlushCounters(txn);
      },
      0, /*items=*/0));
  return deleted;
}

Status TensorStore::HandOverCreated(storage::WriteTxn& txn,
                                    const storage::ImportStagingTable& staging,
                                    std::set<uint64_t>* atom_ids) {
  if (atom_ids->empty()) return Status::Ok();
  std::vector<uint64_t> imports;
  HT_RETURN_IF_ERROR(staging.ForEachImport(txn, [&](uint64_t id) -> Status {
    imports.push_back(id);
    return Status::Ok();
  }));
  for (uint64_t other : imports) {
    std::vector<std::pair<uint32_t, storage::ImportStagingRecord>> changed;
    HT_RETURN_IF_ERROR(
        staging.Scan(txn, other, [&](uint32_t batch, storage::ImportStagingRecord&& row) -> Status {
          bool touched = false;
          for (int i = 0; i < row.atom_ids_size(); ++i) {
            if (!row.created(i) && atom_ids->erase(row.atom_ids(i)) > 0) {
              row.set_created(i, true);
              touched = true;
            }
          }
          if (touched) changed.emplace_back(batch, std::move(row));
          return Status::Ok();
        }));
    for (const auto& [batch, row] : changed)
      HT_RETURN_IF_ERROR(staging.Put(txn, other, batch, row));
    if (atom_ids->empty()) break;
  }
  return Status::Ok();
}

Result<uint64_t> TensorStore::AbandonAll() {
  std::vector<uint64_t> imports;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(
        storage::ImportStagingTable(tables_).ForEachImport(txn, [&](uint64_t id) -> Status {
          imports.push_back(id);
          return Status::Ok();
        }));
  }
  for (uint64_t id : imports) HT_RETURN_IF_ERROR(Abandon(id).status());
  return static_cast<uint64_t>(imports.size());
}

}  // namespace hartonomous::engine
