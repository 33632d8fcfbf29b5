// The client stream of hartonomous.v1.SearchService, gathered into the input
// of one engine call (StreamCollector, common/stream_messages.h):
// AddEmbeddings into EmbeddingEngine::AddEmbeddings' collection, optional
// create spec and embeddings. Each message is validated as it arrives, so a
// stream fails at its first bad message. Transport-free.
//
// Thread-safety: a collector belongs to one call.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "hartonomous/v1/search_service.pb.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/rpc/common/stream_messages.h"
#include "server/rpc/search/search_validation.h"

namespace hartonomous::rpc {

// AddEmbeddings: one collection per stream (every message names the same);
// the first create spec given is the one used; at most
// limits.max_stream_embeddings embeddings.
class AddEmbeddingsCollector final : public StreamCollector<v1::AddEmbeddingsRequest> {
 public:
  explicit AddEmbeddingsCollector(const SearchLimits& limits) : limits_(limits) {}

  Status Add(v1::AddEmbeddingsRequest& message, size_t index) override;
  // InvalidArgument when no message carried an embedding.
  Status Finish() override;

  const std::string& collection() const { return collection_; }
  const std::optional<engine::CollectionSpec>& create() const { return create_; }
  std::vector<engine::EmbeddingInput> TakeInputs() { return std::move(inputs_); }

 private:
  const SearchLimits limits_;
  std::string collection_;
  std::optional<engine::CollectionSpec> create_;
  std::vector<engine::EmbeddingInput> inputs_;
};

}  // namespace hartonomous::rpc
