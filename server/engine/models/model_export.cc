// ModelEngine::ExportModel: an imported model's file, rebuilt from its
// pieces (storage/tables/tensor_atom_table.h, "model_files").
#include <string>
#include <utility>
#include <vector>

#include "server/engine/models/formats/model_layout.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

// Bytes read per read transaction: the transaction is closed before they
// are handed to the sink, so a slow client never holds one open.
constexpr uint64_t kReadBatchBytes = uint64_t{4} << 20;

struct PieceRead {
  uint64_t atom_id = 0;
  uint64_t length = 0;
};

}  // namespace

Status ModelEngine::ExportModel(const ModelKey& key,
                                const std::function<Status(const ExportHeader&)>& begin,
                                const std::function<Status(std::string_view)>& sink) {
  const storage::TensorAtomTable tensors(tables_);
  std::vector<PieceRead> reads;
  ExportHeader header;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(ModelView view, Resolve(txn, key));
    const uint64_t model_id = view.model.model_id();
    HT_ASSIGN_OR_RETURN(auto file, tensors.files().Find(txn, model_id));
    if (!file) {
      return Status::FailedPrecondition("model " + std::to_string(model_id) +
                                        " was not imported from a file: there is nothing to "
                                        "export");
    }
    header.format = file->format();
    header.file_name = file->file_name();
    header.file_size = file->file_size();
    if (file->file_sha256().size() != header.file_sha256.size()) {
      return Status::DataLoss("model_files: record " + std::to_string(model_id) +
                              " has no file SHA-256");
    }
    std::copy(file->file_sha256().begin(), file->file_sha256().end(),
              header.file_sha256.begin());
    for (const auto& piece : file->pieces()) {
      if (piece.kind() != static_cast<uint32_t>(models::SegmentKind::kTensor)) {
        reads.push_back({piece.atom_id(), piece.length()});
        continue;
      }
      uint64_t covered = 0;
      HT_RETURN_IF_ERROR(tensors.ScanLayer(
          txn, model_id, piece.layer_idx(), storage::TensorKind::kWeights,
          [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
            reads.push_back({row.atom_id(), row.byte_length()});
            covered += row.byte_length();
            return true;
          }));
      if (covered != piece.length()) {
        return Status::DataLoss("tensor_atoms: layer " + std::to_string(piece.layer_idx()) +
                                " of model " + std::to_string(model_id) + " holds " +
                                std::to_string(covered) + " bytes, its file piece " +
                                std::to_string(piece.length()));
      }
    }
  }
  HT_RETURN_IF_ERROR(begin(header));
  Sha256Stream hash;
  uint64_t sent = 0;
  storage::AtomTable atoms(tables_);
  std::vector<std::string> batch;
  for (size_t next = 0; next < reads.size();) {
    batch.clear();
    uint64_t batch_bytes = 0;
    {
      storage::ReadTxn txn(env_);
      HT_RETURN_IF_ERROR(txn.status());
      storage::AtomTable::BlockCache cache;
      while (next < reads.size() && (batch.empty() || batch_bytes < kReadBatchBytes)) {
        const PieceRead& read = reads[next++];
        HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, read.atom_id));
        if (!atom || atom->content_size() != read.length) {
          return Status::DataLoss("model export: atom " + std::to_string(read.atom_id) +
                                  (atom ? " has another size than its piece" : " is missing"));
        }
        std::string content;
        HT_RETURN_IF_ERROR(atoms.ReadContent(txn, *atom, &content, &cache));
        batch_bytes += content.size();
        batch.push_back(std::move(content));
      }
    }
    for (const std::string& bytes : batch) {
      hash.Update(bytes);
      sent += bytes.size();
      HT_RETURN_IF_ERROR(sink(bytes));
    }
  }
  if (sent != header.file_size || hash.Finish() != header.file_sha256) {
    return Status::DataLoss("model export: the rebuilt file (" + std::to_string(sent) +
                            " bytes) does not match the imported file's size and SHA-256");
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine
