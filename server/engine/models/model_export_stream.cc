#include "server/engine/models/model_export_stream.h"

#include <utility>

#include "server/engine/models/layer_dequantize.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::engine {
namespace {

// Bytes read per read transaction: the transaction is closed before they
// are handed on, so a slow client never holds one open.
constexpr uint64_t kReadBatchBytes = uint64_t{4} << 20;

}  // namespace

ModelExportStream::ModelExportStream(storage::Env& env, const storage::Tables& tables,
                                     ExportPlan plan, std::vector<ExportLayer> layers)
    : env_(env),
      tables_(tables),
      plan_(std::move(plan)),
      layers_(std::move(layers)),
      hash_(std::make_unique<Sha256Stream>()) {}

std::vector<ExportRead>& ModelExportStream::reads() {
  return file_ == 0 ? plan_.reads : plan_.externals[file_ - 1].reads;
}

uint64_t ModelExportStream::file_size() const {
  return file_ == 0 ? plan_.header.file_size : plan_.externals[file_ - 1].header.file_size;
}

const Sha256Digest& ModelExportStream::file_sha256() const {
  return file_ == 0 ? plan_.header.file_sha256 : plan_.externals[file_ - 1].header.file_sha256;
}

Result<ModelExportStream::Batch> ModelExportStream::Next() {
  Batch batch;
  if (file_ > 0 && next_ == 0) batch.external = plan_.externals[file_ - 1].header;
  std::vector<ExportRead>& file_reads = reads();
  {
    uint64_t batch_bytes = 0;
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    storage::AtomTable atoms(tables_);
    storage::AtomTable::BlockCache cache;
    while (next_ < file_reads.size() && (batch.pieces.empty() || batch_bytes < kReadBatchBytes)) {
      ExportRead& read = file_reads[next_++];
      std::string bytes;
      if (read.layer >= 0) {
        const ExportLayer& l = layers_[static_cast<size_t>(read.layer)];
        HT_ASSIGN_OR_RETURN(bytes, DequantizedBytes(txn, tables_, l.layer, l.chunks, l.scales,
                                                    read.first, read.count, read.dtype));
      } else if (read.atom_id == 0) {
        bytes = std::move(read.literal);
      } else {
        HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, read.atom_id));
        if (!atom || atom->content_size() != read.length) {
          return Status::DataLoss("model export: atom " + std::to_string(read.atom_id) +
                                  (atom ? " has another size than its piece" : " is missing"));
        }
        HT_RETURN_IF_ERROR(atoms.ReadContent(txn, *atom, &bytes, &cache));
      }
      batch_bytes += bytes.size();
      batch.pieces.push_back(std::move(bytes));
    }
  }
  for (const std::string& bytes : batch.pieces) {
    hash_->Update(bytes);
    sent_ += bytes.size();
  }
  if (next_ < file_reads.size()) return batch;
  // The file is complete: its size and (an import's) SHA-256 are checked.
  const Sha256Digest digest = hash_->Finish();
  if (sent_ != file_size() || (plan_.check_sha256 && digest != file_sha256())) {
    return Status::DataLoss("model export: the rebuilt file (" + std::to_string(sent_) +
                            " bytes) does not match the planned size or the imported file's "
                            "SHA-256");
  }
  ++file_;
  next_ = 0;
  sent_ = 0;
  hash_ = std::make_unique<Sha256Stream>();
  batch.last = file_ > plan_.externals.size();
  return batch;
}

}  // namespace hartonomous::engine
