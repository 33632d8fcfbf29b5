// The client streams of hartonomous.v1.ModelService, each handed to its
// engine writer message by message (StreamCollector,
// common/stream_messages.h): ImportModel's file bytes to an
// engine::ModelImport, SetLayerValues' values to an
// engine::LayerValuesWriter. The first message starts the writer (its
// options checked before any byte is stored). A failed Add or Commit drops
// the writer at once, which releases what it staged, before the failure
// is returned: by the time the client reads the error, nothing of the
// call is held (a next import of the same file cannot take a reference to
// an atom this one is about to release). A collector dropped before
// Commit abandons its writer the same way. Transport-free.
//
// Thread-safety: a collector belongs to one call (its calls may come from
// different threads, one at a time).
#pragma once

#include <cstddef>
#include <memory>

#include "hartonomous/v1/model_service.pb.h"
#include "server/engine/models/layer_values_writer.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_import.h"
#include "server/rpc/common/stream_messages.h"

namespace hartonomous::rpc {

// ImportModel: message 0 carries start (the options) and the file's first
// bytes; later ones more bytes, or external_file to begin an ONNX external
// data file.
class ImportModelCollector final : public StreamCollector<v1::ImportModelRequest> {
 public:
  explicit ImportModelCollector(engine::ModelEngine& engine) : engine_(engine) {}
  Status Add(v1::ImportModelRequest& message, size_t index) override;
  // Commits the model. REQUIRES: every Add succeeded.
  Result<engine::ImportReport> Commit();

 private:
  Status AddMessage(v1::ImportModelRequest& message, size_t index);

  engine::ModelEngine& engine_;
  std::unique_ptr<engine::ModelImport> import_;
};

// SetLayerValues: message 0 carries start (the layer and its options), each
// message float values in order.
class LayerValuesCollector final : public StreamCollector<v1::SetLayerValuesRequest> {
 public:
  explicit LayerValuesCollector(engine::ModelEngine& engine) : engine_(engine) {}
  Status Add(v1::SetLayerValuesRequest& message, size_t index) override;
  // Commits the layer's values. REQUIRES: every Add succeeded.
  Result<engine::LayerValuesReport> Commit();

 private:
  Status AddMessage(v1::SetLayerValuesRequest& message, size_t index);

  engine::ModelEngine& engine_;
  std::unique_ptr<engine::LayerValuesWriter> values_;
};

}  // namespace hartonomous::rpc
