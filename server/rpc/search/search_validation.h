// Field-by-field validation of hartonomous.v1.SearchService requests,
// table-driven where the rules are alike. Messages name the field and the
// rule ("limit: must be in [1, 1000], got 0"). Checks that need the
// collection (its dimension, its existence) are the engine's.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "hartonomous/v1/search_service.pb.h"

namespace hartonomous::rpc {

struct SearchLimits {
  // Largest k of a search. Default: 1000 (--max-search-k).
  uint32_t max_k = 1000;
  // Most searches in one BatchSearch. Default: 1000.
  size_t max_batch_searches = 1000;
  // Most embeddings in one AddEmbeddings stream. Default: 1,000,000.
  size_t max_stream_embeddings = 1000000;
  // Largest response of a read RPC (engine::ResponseBudget). Default:
  // 256 MiB (--max-response-bytes).
  size_t max_response_bytes = size_t{256} << 20;
  // Most bytes of one AddEmbeddings stream (all its messages, see
  // stream_messages.h). Default: 256 MiB (--max-batch-bytes).
  size_t max_stream_bytes = size_t{256} << 20;
};

// The compatibility width of padded vectors.
inline constexpr uint32_t kPaddedDimension = 1998;

Status ValidateCollectionName(std::string_view field, std::string_view name);
// create: true when validating an explicit CreateCollection (dimension and
// embedding_type required); false for AddEmbeddings' create (dimension 0 allowed).
Status ValidateCollectionSpec(std::string_view field, const v1::CollectionSpec& spec, bool create);
Status ValidateCreateCollection(const v1::CreateCollectionRequest& request);
// field: "embeddings[3]".
Status ValidateEmbeddingInput(std::string_view field, const v1::EmbeddingInput& input);
Status ValidateAddEmbeddingsMessage(const v1::AddEmbeddingsRequest& request, size_t first_index);
Status ValidateSearch(std::string_view field, const v1::SearchRequest& request,
                      const SearchLimits& limits);
Status ValidateBatchSearch(const v1::BatchSearchRequest& request, const SearchLimits& limits);
Status ValidateRefitProjection(const v1::RefitProjectionRequest& request);
Status ValidateSpatialQuery(const v1::SpatialQueryRequest& request, const SearchLimits& limits);
Status ValidateHybridSearch(const v1::HybridSearchRequest& request, const SearchLimits& limits);

// Most hits of one radius or box SpatialQuery.
inline constexpr uint32_t kMaxSpatialLimit = 100000;
inline constexpr uint32_t kDefaultSpatialLimit = 1000;

}  // namespace hartonomous::rpc
