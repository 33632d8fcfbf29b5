// AtomServiceImpl's document and relation handlers: validate, convert, call
// DocumentEngine / GraphEngine, map the Status.
#include "server/rpc/atom/atom_convert.h"
#include "server/rpc/atom/atom_server_streams.h"
#include "server/rpc/atom/atom_service.h"
#include "server/rpc/atom/atom_streams.h"
#include "server/rpc/common/client_stream.h"
#include "server/rpc/common/status_mapping.h"
#include "server/rpc/common/timestamp.h"

namespace hartonomous::rpc {
namespace {

storage::Direction ToDirection(v1::RelationDirection d) {
  return d == v1::PARENTS ? storage::Direction::kParents : storage::Direction::kChildren;
}

void ToProto(const storage::Edge& edge, v1::Relation* out) {
  out->set_source_atom_id(edge.source);
  out->set_target_atom_id(edge.target);
  out->set_relation_type(edge.type);
  out->set_ordinal(edge.ordinal);
  out->set_weight(edge.record.weight());
  out->set_metadata(edge.record.metadata());
  ToTimestamp(edge.record.created_at_us(), out->mutable_created_at());
}

}  // namespace

std::unique_ptr<StreamCall> AtomServiceImpl::IngestDocument(grpc::CallbackServerContext*,
                                                            v1::IngestDocumentResponse* response) {
  return CollectStream<v1::IngestDocumentRequest>(
      StreamLimits{limits_.max_batch_bytes}, IngestDocumentCollector(),
      [this, response](IngestDocumentCollector& document, UnaryFinish finish) {
        documents_.IngestAsync(document.Take(), ReplyLater<engine::DocumentSummary>(
                                                    response, std::move(finish), ToProto));
      });
}

std::unique_ptr<StreamProducer<v1::GetDocumentResponse>> AtomServiceImpl::GetDocument(
    const v1::GetDocumentRequest& request) {
  return std::make_unique<GetDocumentProducer>(documents_, limits_, request);
}

void AtomServiceImpl::DeleteDocument(grpc::ServerContextBase*,
                                     const v1::DeleteDocumentRequest* request,
                                     v1::DeleteDocumentResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateDeleteDocument(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  documents_.DeleteAsync(request->document_id(), request->source_uri(),
                         ReplyLater<engine::DocumentRelease>(response, std::move(finish), ToProto));
}

void AtomServiceImpl::AddRelations(grpc::ServerContextBase*, const v1::AddRelationsRequest* request,
                                   v1::AddRelationsResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateAddRelations(*request); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  std::vector<engine::RelationInput> inputs;
  for (const auto& r : request->relations()) {
    engine::RelationInput in;
    in.source_atom_id = r.source_atom_id();
    in.target_atom_id = r.target_atom_id();
    in.relation_type = r.relation_type();
    if (r.has_ordinal()) in.ordinal = r.ordinal();
    in.weight = r.has_weight() ? r.weight() : 1.0;
    in.metadata = r.metadata();
    inputs.push_back(std::move(in));
  }
  graph_.AddRelationsAsync(
      std::move(inputs),
      [response, finish = std::move(finish)](Result<std::vector<engine::AddedRelation>> result) {
        if (!result.ok()) return finish(ToGrpcStatus(result.status()));
        uint64_t created = 0;
        for (const auto& added : *result) {
          ToProto(added.edge, response->add_relations());
          created += added.created ? 1 : 0;
        }
        response->set_created(created);
        finish(grpc::Status::OK);
      });
}

grpc::Status AtomServiceImpl::ListRelations(grpc::ServerContextBase*,
                                            const v1::ListRelationsRequest* request,
                                            v1::ListRelationsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListRelations(*request));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = graph_.ListRelations(
      request->atom_id(), ToDirection(request->direction()), request->relation_type(),
      engine::EffectivePageSize(request->page_size()), request->page_token(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& edge : page->edges) ToProto(edge, response->add_relations());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::TraverseRelations(grpc::ServerContextBase*,
                                                const v1::TraverseRelationsRequest* request,
                                                v1::TraverseRelationsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateTraverse(*request));
  const std::vector<std::string> types(request->relation_types().begin(),
                                       request->relation_types().end());
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto result = graph_.Traverse(request->atom_id(), ToDirection(request->direction()), types,
                                request->max_depth() == 0 ? 3 : request->max_depth(),
                                request->max_nodes() == 0 ? 1000 : request->max_nodes(), &budget);
  if (!result.ok()) return ToGrpcStatus(result.status());
  for (const auto& node : result->nodes) {
    auto* out = response->add_nodes();
    out->set_atom_id(node.atom_id);
    out->set_depth(node.depth);
    if (node.via) ToProto(*node.via, out->mutable_via());
  }
  response->set_truncated(result->truncated);
  return grpc::Status::OK;
}

}  // namespace hartonomous::rpc
