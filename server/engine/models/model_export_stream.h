// ModelExportStream: a model export read batch by batch at the pace of its
// consumer. ModelEngine::OpenExport plans it (the formats and errors of
// ModelEngine::ExportModel, model_export_plan.h); each Next() then reads
// the next batch of the file's bytes (about 4 MiB) in one short read
// transaction, closed before it returns, and feeds it to the file's
// SHA-256; the batch that ends a file checks the file's size and (for an
// imported file) its SHA-256, DataLoss when either differs. A batch never
// spans two files: the one that starts an ONNX external data file carries
// that file's header. So a slow consumer holds no transaction and no
// thread between batches, and at most the batches it asked for in memory.
//
//   auto stream = engine.OpenExport(key, format, /*external_files=*/true);
//   send(stream->header());
//   for (bool last = false; !last;) {
//     HT_ASSIGN_OR_RETURN(auto batch, stream->Next());
//     if (batch.external) send(*batch.external);
//     for (auto& bytes : batch.pieces) send(bytes);
//     last = batch.last;
//   }
//
// Thread-safety: not thread-safe; one Next() at a time, from any thread.
// The engine must outlive the stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_export_plan.h"

namespace hartonomous::engine {

class ModelExportStream {
 public:
  struct Batch {
    // Set on the first batch of an external data file: its header.
    std::optional<ModelEngine::ExportExternalHeader> external;
    std::vector<std::string> pieces;  // the bytes, in file order
    bool last = false;                // the export's last batch
  };

  // REQUIRES: plan and layers come from the planner over env's tables.
  ModelExportStream(storage::Env& env, const storage::Tables& tables, ExportPlan plan,
                    std::vector<ExportLayer> layers);
  ModelExportStream(const ModelExportStream&) = delete;
  ModelExportStream& operator=(const ModelExportStream&) = delete;

  const ModelEngine::ExportHeader& header() const { return plan_.header; }
  // The next batch. REQUIRES: no earlier batch was last, and no earlier
  // call failed.
  Result<Batch> Next();

 private:
  // The reads of file `file_` (0: the model file, then the external ones).
  std::vector<ExportRead>& reads();
  uint64_t file_size() const;
  const Sha256Digest& file_sha256() const;

  storage::Env& env_;
  const storage::Tables& tables_;
  ExportPlan plan_;
  const std::vector<ExportLayer> layers_;
  size_t file_ = 0;  // 0: plan_.reads; i > 0: plan_.externals[i - 1]
  size_t next_ = 0;  // the next read of this file
  uint64_t sent_ = 0;
  std::unique_ptr<Sha256Stream> hash_;  // of this file's bytes so far
};

}  // namespace hartonomous::engine
