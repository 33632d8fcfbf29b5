// Conversions between hartonomous.v1 search messages and engine types.
// Inputs are validated (search_validation.h) before conversion.
//
// Thread-safety: pure functions.
#pragma once

#include "hartonomous/v1/search_service.pb.h"
#include "server/engine/vectors/embedding_engine.h"

namespace hartonomous::rpc {

// Fills defaults: kind "hnsw", m 16, ef_construction 200, ef_search 64, cosine.
engine::CollectionSpec ToCollectionSpec(const v1::CollectionSpec& spec);
// Drops compatibility padding.
engine::EmbeddingInput ToEmbeddingInput(v1::EmbeddingInput&& input);
engine::SearchQuery ToSearchQuery(const v1::SearchRequest& request);
engine::AtomFilter ToAtomFilter(const v1::AtomFilter& filter);
engine::RefitOptions ToRefitOptions(const v1::RefitProjectionRequest& request);
engine::SpatialQueryInput ToSpatialQuery(const v1::SpatialQueryRequest& request);
engine::HybridSearchQuery ToHybridQuery(const v1::HybridSearchRequest& request);

void ToProto(const engine::CollectionInfo& info, v1::Collection* out);
void ToProto(const storage::EmbeddingRecord& record, const std::string& collection,
             v1::Embedding* out);
void ToProto(engine::SearchResult&& result, v1::SearchResponse* out);
void ToProto(const engine::AddSummary& summary, v1::AddEmbeddingsResponse* out);
void ToProto(const storage::ProjectionRecord& record, uint64_t points, v1::ProjectionInfo* out);
void ToProto(const index::Point3& point, v1::Point3* out);
// Hits that do not fit in the budget are left out and the response says
// truncated.
void ToProto(const engine::SpatialQueryResult& result, engine::ResponseBudget& budget,
             v1::SpatialQueryResponse* out);
void ToProto(engine::HybridSearchResult&& result, v1::HybridSearchResponse* out);

}  // namespace hartonomous::rpc
