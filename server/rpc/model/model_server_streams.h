// The server streams of hartonomous.v1.ModelService as producers for the
// callback server-stream reactor (common/server_stream_reactor.h): each
// Produce runs on the work pool and makes the next batch of messages.
//   ExportModelProducer: the model file (engine::ModelExportStream) in
//     messages of up to 1 MiB of data, the first carrying the header, a
//     message carrying external_file before each ONNX external data file.
//     A stored chunk (64 KiB to 1 MiB) is moved into a message of its own,
//     not copied; smaller pieces are coalesced, larger ones cut.
//   LayerGeometryProducer: one page of a layer's points
//     (engine::ModelEngine::LayerGeometry, read in one transaction so the
//     page is consistent), as WKT LINESTRING ZM messages of kRunPoints
//     points, kRunsPerBatch messages per batch; the last message carries
//     the page's totals.
// Transport-free.
//
// Thread-safety: a producer belongs to one call (Produce is called once at
// a time, from any thread).
#pragma once

#include <memory>
#include <vector>

#include "hartonomous/v1/model_service.pb.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_export_stream.h"
#include "server/rpc/common/server_stream_reactor.h"

namespace hartonomous::rpc {

class ExportModelProducer final : public StreamProducer<v1::ExportModelResponse> {
 public:
  ExportModelProducer(engine::ModelEngine& engine, v1::ExportModelRequest request)
      : engine_(engine), request_(std::move(request)) {}
  // The first call validates the request and plans the export
  // (InvalidArgument, NotFound, FailedPrecondition as
  // engine::ModelEngine::ExportModel); each call reads one batch.
  Status Produce(std::vector<v1::ExportModelResponse>* out, bool* last) override;

 private:
  // Moves the message being filled to *out.
  void Flush(std::vector<v1::ExportModelResponse>* out);

  engine::ModelEngine& engine_;
  const v1::ExportModelRequest request_;
  std::unique_ptr<engine::ModelExportStream> stream_;
  v1::ExportModelResponse filling_;  // header, external_file and/or data not yet sent
};

class LayerGeometryProducer final : public StreamProducer<v1::LayerGeometry> {
 public:
  static constexpr size_t kRunPoints = 4096;
  static constexpr size_t kRunsPerBatch = 16;

  LayerGeometryProducer(engine::ModelEngine& engine, v1::ExportLayerGeometryRequest request)
      : engine_(engine), request_(std::move(request)) {}
  // The first call validates the request and reads the page
  // (InvalidArgument, NotFound, FailedPrecondition as
  // engine::ModelEngine::LayerGeometry).
  Status Produce(std::vector<v1::LayerGeometry>* out, bool* last) override;

 private:
  engine::ModelEngine& engine_;
  const v1::ExportLayerGeometryRequest request_;
  bool read_ = false;
  engine::ModelEngine::GeometryPage page_;
  std::vector<std::vector<engine::ModelEngine::GeometryPoint>> runs_;
  size_t sent_ = 0;  // runs made into messages
};

}  // namespace hartonomous::rpc
