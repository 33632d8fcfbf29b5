#include "server/rpc/search/search_streams.h"

#include <utility>

#include "server/rpc/search/search_convert.h"

namespace hartonomous::rpc {

Status AddEmbeddingsCollector::Add(v1::AddEmbeddingsRequest& message, size_t) {
  HT_RETURN_IF_ERROR(ValidateAddEmbeddingsMessage(message, inputs_.size()));
  if (!collection_.empty() && message.collection() != collection_) {
    return Status::InvalidArgument("collection: one stream adds to one collection ('" +
                                   collection_ + "'), got '" + message.collection() + "'");
  }
  collection_ = message.collection();
  if (message.has_create() && !create_) create_ = ToCollectionSpec(message.create());
  if (inputs_.size() + message.embeddings_size() > limits_.max_stream_embeddings) {
    return Status::ResourceExhausted("embeddings: more than " +
                                     std::to_string(limits_.max_stream_embeddings) +
                                     " in one stream; split it into several streams");
  }
  for (auto& in : *message.mutable_embeddings()) {
    inputs_.push_back(ToEmbeddingInput(std::move(in)));
  }
  return Status::Ok();
}

Status AddEmbeddingsCollector::Finish() {
  if (inputs_.empty()) {
    return Status::InvalidArgument("embeddings: the stream carried no embeddings");
  }
  return Status::Ok();
}

}  // namespace hartonomous::rpc
