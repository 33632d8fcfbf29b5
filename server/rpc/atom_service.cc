#include "server/rpc/atom_service.h"

#include "server/rpc/atom_convert.h"
#include "server/rpc/status_mapping.h"

namespace hartonomous::rpc {

grpc::Status AtomServiceImpl::IngestAtom(grpc::ServerContext*, const v1::IngestAtomRequest* request,
                                         v1::IngestAtomResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateIngest(*request, limits_));
  std::vector<engine::AtomInput> inputs;
  inputs.push_back(ToAtomInput(v1::IngestAtomRequest(*request)));
  auto result = engine_.Ingest(std::move(inputs));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(result->atoms.front(), response);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::IngestAtoms(grpc::ServerContext* context,
                                          grpc::ServerReader<v1::IngestAtomsRequest>* reader,
                                          v1::IngestAtomsResponse* response) {
  std::vector<engine::AtomInput> inputs;
  size_t batch_bytes = 0;
  v1::IngestAtomsRequest message;
  while (reader->Read(&message)) {
    for (auto& atom : *message.mutable_atoms()) {
      const std::string field = "atoms[" + std::to_string(inputs.size()) + "]";
      HT_RETURN_IF_GRPC_ERROR(ValidateIngest(atom, limits_, field));
      batch_bytes += atom.content().size();
      if (batch_bytes > limits_.max_batch_bytes) {
        return ToGrpcStatus(Status::ResourceExhausted(
            "atoms: the stream's content exceeds the batch limit of " +
            std::to_string(limits_.max_batch_bytes) + " bytes; split it into several streams"));
      }
      inputs.push_back(ToAtomInput(std::move(atom)));
    }
  }
  // Read() also ends when the client cancels or disconnects: a stream that
  // did not end with the client's half-close commits nothing.
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "atoms: the stream was cancelled; nothing stored");
  }
  if (inputs.empty()) {
    return ToGrpcStatus(Status::InvalidArgument("atoms: the stream carried no atoms"));
  }
  auto result = engine_.Ingest(std::move(inputs));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::GetAtom(grpc::ServerContext*, const v1::GetAtomRequest* request,
                                      v1::Atom* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetAtom(*request));
  auto result = request->has_atom_id()
                    ? engine_.Get(request->atom_id(), request->include_content())
                    : engine_.GetByHash(*ParseSha256Hex(request->content_hash()),
                                        request->include_content());
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(std::move(result).value(), response);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::ListAtoms(grpc::ServerContext*, const v1::ListAtomsRequest* request,
                                        v1::ListAtomsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListAtoms(*request));
  engine::AtomFilter filter{request->modality(), request->subtype(), request->source_type(),
                            std::nullopt};
  if (request->has_is_active()) filter.is_active = request->is_active();
  auto page = engine_.List(filter, EffectivePageSize(request->page_size()), request->page_token(),
                           request->include_content());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& view : page->atoms) ToProto(std::move(view), response->add_atoms());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::ReleaseAtom(grpc::ServerContext*,
                                          const v1::ReleaseAtomRequest* request,
                                          v1::Atom* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateAtomId(request->atom_id()));
  auto result = engine_.Release(request->atom_id());
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::DeleteAtom(grpc::ServerContext*, const v1::DeleteAtomRequest* request,
                                         v1::Atom* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateAtomId(request->atom_id()));
  auto result = engine_.Delete(request->atom_id());
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::PurgeInactive(grpc::ServerContext*,
                                            const v1::PurgeInactiveRequest* request,
                                            v1::PurgeInactiveResponse* response) {
  auto result = engine_.PurgeInactive(request->max_atoms());
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_atoms_purged(result->atoms_purged);
  response->set_bytes_freed(result->bytes_freed);
  response->set_dependent_rows_removed(result->dependent_rows_removed);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::GetDedupStats(grpc::ServerContext*,
                                            const v1::GetDedupStatsRequest* request,
                                            v1::DedupStats* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateTopN(request->top_n()));
  auto report = engine_.DedupStats(EffectiveTopN(request->top_n()));
  if (!report.ok()) return ToGrpcStatus(report.status());
  ToProto(*report, response);
  return grpc::Status::OK;
}

}  // namespace hartonomous::rpc
