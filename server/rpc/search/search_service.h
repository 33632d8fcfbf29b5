// SearchServiceImpl: hartonomous.v1.SearchService over
// engine::EmbeddingEngine. Each handler validates, converts, calls the engine
// and maps the Status.
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include "hartonomous/v1/search_service.grpc.pb.h"
#include "server/engine/atoms/atom_points.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/rpc/common/client_stream.h"
#include "server/rpc/search/search_validation.h"

namespace hartonomous::rpc {

class SearchServiceImpl final : public v1::SearchService::Service {
 public:
  SearchServiceImpl(engine::EmbeddingEngine& engine, engine::AtomPoints& atom_points,
                    SearchLimits limits)
      : engine_(engine), atom_points_(atom_points), limits_(limits) {
    MarkMethodStreamed(
        ClientStreamMethodIndex(v1::SearchService::service_full_name(), "AddEmbeddings"),
        new ClientStreamHandler<SearchServiceImpl, v1::AddEmbeddingsResponse>(
            &SearchServiceImpl::AddEmbeddings, this));
  }

  grpc::Status CreateCollection(grpc::ServerContext*, const v1::CreateCollectionRequest* request,
                                v1::Collection* response) override;
  grpc::Status GetCollection(grpc::ServerContext*, const v1::GetCollectionRequest* request,
                             v1::Collection* response) override;
  grpc::Status ListCollections(grpc::ServerContext*, const v1::ListCollectionsRequest* request,
                               v1::ListCollectionsResponse* response) override;
  grpc::Status DeleteCollection(grpc::ServerContext*, const v1::DeleteCollectionRequest* request,
                                v1::DeleteCollectionResponse* response) override;
  // Client stream, read through ReadClientStream (client_stream.h) into an
  // AddEmbeddingsCollector (search_streams.h); replaces the generated typed
  // handler.
  grpc::Status AddEmbeddings(grpc::ServerContext* context, ClientStream* stream,
                             v1::AddEmbeddingsResponse* response);
  grpc::Status GetEmbeddings(grpc::ServerContext*, const v1::GetEmbeddingsRequest* request,
                             v1::GetEmbeddingsResponse* response) override;
  grpc::Status DeleteEmbedding(grpc::ServerContext*, const v1::DeleteEmbeddingRequest* request,
                               v1::DeleteEmbeddingResponse* response) override;
  grpc::Status Search(grpc::ServerContext*, const v1::SearchRequest* request,
                      v1::SearchResponse* response) override;
  grpc::Status BatchSearch(grpc::ServerContext*, const v1::BatchSearchRequest* request,
                           v1::BatchSearchResponse* response) override;
  grpc::Status RebuildIndex(grpc::ServerContext*, const v1::RebuildIndexRequest* request,
                            v1::Collection* response) override;
  grpc::Status SnapshotIndex(grpc::ServerContext*, const v1::SnapshotIndexRequest* request,
                             v1::Collection* response) override;
  grpc::Status RefitProjection(grpc::ServerContext*, const v1::RefitProjectionRequest* request,
                               v1::ProjectionInfo* response) override;
  grpc::Status SpatialQuery(grpc::ServerContext*, const v1::SpatialQueryRequest* request,
                            v1::SpatialQueryResponse* response) override;
  grpc::Status HybridSearch(grpc::ServerContext*, const v1::HybridSearchRequest* request,
                            v1::HybridSearchResponse* response) override;

 private:
  engine::EmbeddingEngine& engine_;
  engine::AtomPoints& atom_points_;
  const SearchLimits limits_;
};

}  // namespace hartonomous::rpc
