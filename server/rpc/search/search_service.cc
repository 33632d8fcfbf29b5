#include "server/rpc/search/search_service.h"

#include "server/rpc/common/call_stop.h"
#include "server/rpc/common/client_stream.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/validation.h"
#include "server/rpc/search/search_convert.h"
#include "server/rpc/search/search_streams.h"

namespace hartonomous::rpc {
namespace {

// The same code, with the message's field path prefixed.
Status Prefixed(const std::string& prefix, const Status& s) {
  std::string m = prefix + s.message();
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return Status::InvalidArgument(std::move(m));
    case Status::Code::kNotFound:
      return Status::NotFound(std::move(m));
    default:
      return s;
  }
}

}  // namespace

void SearchServiceImpl::CreateCollection(grpc::ServerContextBase*,
                                         const v1::CreateCollectionRequest* request,
                                         v1::Collection* response, UnaryFinish finish) {
  if (Status valid = ValidateCreateCollection(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.CreateCollectionAsync(
      request->name(), ToCollectionSpec(request->spec()),
      ReplyLater<engine::CollectionInfo>(response, std::move(finish), ToProto));
}

grpc::Status SearchServiceImpl::GetCollection(grpc::ServerContextBase*,
                                              const v1::GetCollectionRequest* request,
                                              v1::Collection* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateCollectionName("name", request->name()));
  return Reply(engine_.GetCollection(request->name()), response, ToProto);
}

grpc::Status SearchServiceImpl::ListCollections(grpc::ServerContextBase*,
                                                const v1::ListCollectionsRequest*,
                                                v1::ListCollectionsResponse* response) {
  engine::ResponseBudget budget(limits_.max_response_bytes);
  for (const auto& info : engine_.ListCollections()) {
    auto* out = response->add_collections();
    ToProto(info, out);
    HT_RETURN_IF_GRPC_ERROR(budget.ChargeItem(out->ByteSizeLong(), "too many collections"));
  }
  return grpc::Status::OK;
}

void SearchServiceImpl::DeleteCollection(grpc::ServerContextBase*,
                                         const v1::DeleteCollectionRequest* request,
                                         v1::DeleteCollectionResponse*, UnaryFinish finish) {
  if (Status valid = ValidateCollectionName("name", request->name()); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.DeleteCollectionAsync(request->name(), [finish = std::move(finish)](Status status) {
    finish(ToGrpcStatus(status));
  });
}

std::unique_ptr<StreamCall> SearchServiceImpl::AddEmbeddings(grpc::CallbackServerContext*,
                                                             v1::AddEmbeddingsResponse* response) {
  return CollectStream<v1::AddEmbeddingsRequest>(
      StreamLimits{limits_.max_stream_bytes}, AddEmbeddingsCollector(limits_),
      [this, response](AddEmbeddingsCollector& embeddings, UnaryFinish finish) {
        finish(Reply(engine_.AddEmbeddings(embeddings.collection(), embeddings.create(),
                                           embeddings.TakeInputs()),
                     response, ToProto));
      });
}

grpc::Status SearchServiceImpl::GetEmbeddings(grpc::ServerContextBase*,
                                              const v1::GetEmbeddingsRequest* request,
                                              v1::GetEmbeddingsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateAtomId(request->atom_id()));
  if (!request->collection().empty()) {
    HT_RETURN_IF_GRPC_ERROR(ValidateCollectionName("collection", request->collection()));
  }
  auto rows = engine_.GetEmbeddings(request->atom_id(), request->collection());
  if (!rows.ok()) return ToGrpcStatus(rows.status());
  engine::ResponseBudget budget(limits_.max_response_bytes);
  for (const auto& row : *rows) {
    auto* out = response->add_embeddings();
    ToProto(row, engine_.CollectionName(row.collection_id()), out);
    if (auto points = engine_.PointsOf(row)) {
      ToProto(points->first, out->mutable_spatial_geometry());
      ToProto(points->second, out->mutable_spatial_coarse());
    }
    HT_RETURN_IF_GRPC_ERROR(
        budget.ChargeItem(out->ByteSizeLong(), "name one collection in the request"));
  }
  return grpc::Status::OK;
}

void SearchServiceImpl::DeleteEmbedding(grpc::ServerContextBase*,
                                        const v1::DeleteEmbeddingRequest* request,
                                        v1::DeleteEmbeddingResponse*, UnaryFinish finish) {
  Status valid = ValidateCollectionName("collection", request->collection());
  if (valid.ok()) valid = ValidateAtomId(request->atom_id());
  if (!valid.ok()) return finish(ToGrpcStatus(valid));
  engine_.DeleteEmbeddingAsync(
      request->collection(), request->atom_id(),
      [finish = std::move(finish)](Status status) { finish(ToGrpcStatus(status)); });
}

grpc::Status SearchServiceImpl::Search(grpc::ServerContextBase* context,
                                       const v1::SearchRequest* request,
                                       v1::SearchResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateSearch("", *request, limits_));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  const Cancellation stop = CallStop(context);
  engine::SearchQuery query = ToSearchQuery(*request);
  query.stop = &stop;
  return Reply(engine_.Search(query, &budget), response, ToProto);
}

grpc::Status SearchServiceImpl::BatchSearch(grpc::ServerContextBase* context,
                                            const v1::BatchSearchRequest* request,
                                            v1::BatchSearchResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateBatchSearch(*request, limits_));
  // One budget for the whole response: the searches' hits add up.
  engine::ResponseBudget budget(limits_.max_response_bytes);
  // Checked by each search before it starts, so also between the searches.
  const Cancellation stop = CallStop(context);
  std::vector<engine::SearchQuery> queries;
  queries.reserve(static_cast<size_t>(request->searches_size()));
  for (const auto& search : request->searches()) {
    queries.push_back(ToSearchQuery(search));
    queries.back().stop = &stop;
  }
  size_t failed = 0;
  auto results = engine_.SearchBatch(queries, &budget, &failed);
  if (!results.ok()) {
    return ToGrpcStatus(Prefixed("searches[" + std::to_string(failed) + "].", results.status()));
  }
  for (auto& result : *results) ToProto(std::move(result), response->add_results());
  return grpc::Status::OK;
}

grpc::Status SearchServiceImpl::RebuildIndex(grpc::ServerContextBase*,
                                             const v1::RebuildIndexRequest* request,
                                             v1::Collection* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateCollectionName("collection", request->collection()));
  return Reply(engine_.Rebuild(request->collection()), response, ToProto);
}

grpc::Status SearchServiceImpl::SnapshotIndex(grpc::ServerContextBase*,
                                              const v1::SnapshotIndexRequest* request,
                                              v1::Collection* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateCollectionName("collection", request->collection()));
  return Reply(engine_.Snapshot(request->collection()), response, ToProto);
}

grpc::Status SearchServiceImpl::RefitProjection(grpc::ServerContextBase*,
                                                const v1::RefitProjectionRequest* request,
                                                v1::ProjectionInfo* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateRefitProjection(*request));
  auto summary = engine_.RefitProjection(request->collection(), ToRefitOptions(*request));
  if (!summary.ok()) return ToGrpcStatus(summary.status());
  ToProto(summary->projection, summary->points, response);
  response->set_reprojected(summary->reprojected);
  return grpc::Status::OK;
}

grpc::Status SearchServiceImpl::SpatialQuery(grpc::ServerContextBase*,
                                             const v1::SpatialQueryRequest* request,
                                             v1::SpatialQueryResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateSpatialQuery(*request, limits_));
  const engine::SpatialQueryInput input = ToSpatialQuery(*request);
  auto result = request->space() == v1::SPATIAL_SPACE_ATOM ? atom_points_.Query(input)
                                                           : engine_.SpatialQuery(input);
  if (!result.ok()) return ToGrpcStatus(result.status());
  engine::ResponseBudget budget(limits_.max_response_bytes);
  ToProto(*result, budget, response);
  return grpc::Status::OK;
}

grpc::Status SearchServiceImpl::HybridSearch(grpc::ServerContextBase* context,
                                             const v1::HybridSearchRequest* request,
                                             v1::HybridSearchResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateHybridSearch(*request, limits_));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  const Cancellation stop = CallStop(context);
  engine::HybridSearchQuery query = ToHybridQuery(*request);
  query.stop = &stop;
  auto result = engine_.HybridSearch(query, &budget);
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(std::move(result).value(), response);
  response->set_mode(request->mode() == v1::HYBRID_MODE_PREFILTER_AND_ANN
                         ? v1::HYBRID_MODE_PREFILTER_AND_ANN
                         : v1::HYBRID_MODE_PREFILTER);
  return grpc::Status::OK;
}

}  // namespace hartonomous::rpc
