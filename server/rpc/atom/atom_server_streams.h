// The server stream of hartonomous.v1.AtomService as a producer for the
// callback server-stream reactor (common/server_stream_reactor.h): each
// Produce runs on the work pool and makes the next batch of messages.
//   GetDocumentProducer: the document rebuilt once (engine::DocumentEngine::
//     Get), then its description and its content in messages of
//     kChunkBytes, about kBatchBytes of content per batch.
// Transport-free.
//
// Thread-safety: a producer belongs to one call (Produce is called once at
// a time, from any thread).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "hartonomous/v1/atom_service.pb.h"
#include "server/engine/documents/document_engine.h"
#include "server/rpc/atom/atom_validation.h"
#include "server/rpc/common/server_stream_reactor.h"

namespace hartonomous::rpc {

class GetDocumentProducer final : public StreamProducer<v1::GetDocumentResponse> {
 public:
  // Content per message, and per batch.
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  static constexpr size_t kBatchBytes = size_t{4} << 20;

  GetDocumentProducer(engine::DocumentEngine& documents, const Limits& limits,
                      v1::GetDocumentRequest request)
      : documents_(documents), limits_(limits), request_(std::move(request)) {}
  // The first call validates the request and rebuilds the document
  // (InvalidArgument, NotFound, FailedPrecondition, DataLoss as
  // engine::DocumentEngine::Get; RESOURCE_EXHAUSTED when the description
  // alone exceeds --max-response-bytes) and sends the description.
  Status Produce(std::vector<v1::GetDocumentResponse>* out, bool* last) override;

 private:
  engine::DocumentEngine& documents_;
  const Limits limits_;
  const v1::GetDocumentRequest request_;
  std::optional<engine::DocumentContent> document_;
  size_t sent_ = 0;  // content bytes made into messages
};

}  // namespace hartonomous::rpc
