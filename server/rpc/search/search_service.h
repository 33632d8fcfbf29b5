// SearchServiceImpl: hartonomous.v1.SearchService over
// engine::EmbeddingEngine. Each handler validates, converts, calls the engine
// and maps the Status.
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include "hartonomous/v1/search_service.grpc.pb.h"
#include "server/engine/atoms/atom_points.h"
#include "server/engine/vectors/embedding_engine.h"
#include "server/rpc/common/client_stream_reactor.h"
#include "server/rpc/common/long_call.h"
#include "server/rpc/common/unary_callback.h"
#include "server/rpc/search/search_validation.h"

namespace hartonomous::rpc {

class SearchServiceImpl final : public v1::SearchService::Service {
 public:
  // work: runs AddEmbeddings' end (the write and the index inserts);
  // long_calls: RebuildIndex, SnapshotIndex and RefitProjection.
  SearchServiceImpl(engine::EmbeddingEngine& engine, engine::AtomPoints& atom_points,
                    SearchLimits limits, WorkPool& work, CallThreads& long_calls)
      : engine_(engine), atom_points_(atom_points), limits_(limits) {
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::SearchService::service_full_name(), "AddEmbeddings"),
        CallbackClientStream(&SearchServiceImpl::AddEmbeddings, this, {&work, StreamWork::kEnd}));
    // Unary reads are served through the callback API (unary_callback.h),
    // and so are the collection and embedding writes, answered from their
    // commit (CallbackUnaryAsync); the maintenance calls run on a thread of
    // their own (long_call.h).
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "RebuildIndex"),
                       CallbackLongUnary(&SearchServiceImpl::RebuildIndex, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "SnapshotIndex"),
                       CallbackLongUnary(&SearchServiceImpl::SnapshotIndex, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "RefitProjection"),
                       CallbackLongUnary(&SearchServiceImpl::RefitProjection, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "CreateCollection"),
                       CallbackUnaryAsync(&SearchServiceImpl::CreateCollection, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "DeleteCollection"),
                       CallbackUnaryAsync(&SearchServiceImpl::DeleteCollection, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "DeleteEmbedding"),
                       CallbackUnaryAsync(&SearchServiceImpl::DeleteEmbedding, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "GetCollection"),
                       CallbackUnary(&SearchServiceImpl::GetCollection, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "ListCollections"),
                       CallbackUnary(&SearchServiceImpl::ListCollections, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "GetEmbeddings"),
                       CallbackUnary(&SearchServiceImpl::GetEmbeddings, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "Search"),
                       CallbackUnary(&SearchServiceImpl::Search, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "BatchSearch"),
                       CallbackUnary(&SearchServiceImpl::BatchSearch, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "SpatialQuery"),
                       CallbackUnary(&SearchServiceImpl::SpatialQuery, this));
    MarkMethodCallback(UnaryMethodIndex(v1::SearchService::service_full_name(), "HybridSearch"),
                       CallbackUnary(&SearchServiceImpl::HybridSearch, this));
  }

  // The collection and embedding writes are answered after their group
  // commit, by finish.
  void CreateCollection(grpc::ServerContextBase*, const v1::CreateCollectionRequest* request,
                        v1::Collection* response, UnaryFinish finish);
  grpc::Status GetCollection(grpc::ServerContextBase*, const v1::GetCollectionRequest* request,
                             v1::Collection* response);
  grpc::Status ListCollections(grpc::ServerContextBase*, const v1::ListCollectionsRequest* request,
                               v1::ListCollectionsResponse* response);
  void DeleteCollection(grpc::ServerContextBase*, const v1::DeleteCollectionRequest* request,
                        v1::DeleteCollectionResponse* response, UnaryFinish finish);
  // A callback client stream (client_stream_reactor.h) read into an
  // AddEmbeddingsCollector (search_streams.h); at the end the work pool
  // writes the rows and inserts them into the index, and answers once they
  // are searchable. Replaces the generated typed handler.
  std::unique_ptr<StreamCall> AddEmbeddings(grpc::CallbackServerContext* context,
                                            v1::AddEmbeddingsResponse* response);
  grpc::Status GetEmbeddings(grpc::ServerContextBase*, const v1::GetEmbeddingsRequest* request,
                             v1::GetEmbeddingsResponse* response);
  void DeleteEmbedding(grpc::ServerContextBase*, const v1::DeleteEmbeddingRequest* request,
                       v1::DeleteEmbeddingResponse* response, UnaryFinish finish);
  grpc::Status Search(grpc::ServerContextBase*, const v1::SearchRequest* request,
                      v1::SearchResponse* response);
  grpc::Status BatchSearch(grpc::ServerContextBase*, const v1::BatchSearchRequest* request,
                           v1::BatchSearchResponse* response);
  grpc::Status RebuildIndex(grpc::ServerContextBase*, const v1::RebuildIndexRequest* request,
                            v1::Collection* response);
  grpc::Status SnapshotIndex(grpc::ServerContextBase*, const v1::SnapshotIndexRequest* request,
                             v1::Collection* response);
  grpc::Status RefitProjection(grpc::ServerContextBase*, const v1::RefitProjectionRequest* request,
                               v1::ProjectionInfo* response);
  grpc::Status SpatialQuery(grpc::ServerContextBase*, const v1::SpatialQueryRequest* request,
                            v1::SpatialQueryResponse* response);
  grpc::Status HybridSearch(grpc::ServerContextBase*, const v1::HybridSearchRequest* request,
                            v1::HybridSearchResponse* response);

 private:
  engine::EmbeddingEngine& engine_;
  engine::AtomPoints& atom_points_;
  const SearchLimits limits_;
};

}  // namespace hartonomous::rpc
