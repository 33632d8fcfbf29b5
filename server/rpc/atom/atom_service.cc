#include "server/rpc/atom/atom_service.h"

#include "server/rpc/atom/atom_convert.h"
#include "server/rpc/atom/atom_streams.h"
#include "server/rpc/atom/policy_convert.h"
#include "server/rpc/common/client_stream.h"
#include "server/rpc/common/status_mapping.h"

namespace hartonomous::rpc {

void AtomServiceImpl::IngestAtom(grpc::ServerContextBase*, const v1::IngestAtomRequest* request,
                                 v1::IngestAtomResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateIngest(*request, limits_); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  std::vector<engine::AtomInput> inputs;
  inputs.push_back(ToAtomInput(v1::IngestAtomRequest(*request)));
  engine_.IngestAsync(std::move(inputs),
                      [response, finish = std::move(finish)](Result<engine::IngestSummary> result) {
                        if (!result.ok()) return finish(ToGrpcStatus(result.status()));
                        ToProto(result->atoms.front(), response);
                        finish(grpc::Status::OK);
                      });
}

std::unique_ptr<StreamCall> AtomServiceImpl::IngestAtoms(grpc::CallbackServerContext*,
                                                         v1::IngestAtomsResponse* response) {
  return CollectStream<v1::IngestAtomsRequest>(
      StreamLimits{limits_.max_batch_bytes}, IngestAtomsCollector(limits_),
      [this, response](IngestAtomsCollector& atoms, UnaryFinish finish) {
        engine_.IngestAsync(
            atoms.Take(), ReplyLater<engine::IngestSummary>(response, std::move(finish), ToProto));
      });
}

grpc::Status AtomServiceImpl::GetAtom(grpc::ServerContextBase*, const v1::GetAtomRequest* request,
                                      v1::Atom* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateGetAtom(*request));
  engine::ResponseBudget budget(limits_.max_response_bytes);
  return Reply(request->has_atom_id()
                   ? engine_.Get(request->atom_id(), request->include_content(), &budget)
                   : engine_.GetByHash(*ParseSha256Hex(request->content_hash()),
                                       request->include_content(), &budget),
               response, ToProto);
}

grpc::Status AtomServiceImpl::ListAtoms(grpc::ServerContextBase*,
                                        const v1::ListAtomsRequest* request,
                                        v1::ListAtomsResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateListAtoms(*request));
  engine::AtomFilter filter;
  filter.modality = request->modality();
  filter.subtype = request->subtype();
  filter.source_type = request->source_type();
  if (request->has_is_active()) filter.is_active = request->is_active();
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = engine_.List(filter, engine::EffectivePageSize(request->page_size()),
                           request->page_token(), request->include_content(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& view : page->atoms) ToProto(std::move(view), response->add_atoms());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

void AtomServiceImpl::ReleaseAtom(grpc::ServerContextBase*, const v1::ReleaseAtomRequest* request,
                                  v1::Atom* response, UnaryFinish finish) {
  if (Status valid = ValidateAtomId(request->atom_id()); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.ReleaseAsync(request->atom_id(),
                       ReplyLater<storage::AtomRecord>(response, std::move(finish), ToProto));
}

void AtomServiceImpl::DeleteAtom(grpc::ServerContextBase*, const v1::DeleteAtomRequest* request,
                                 v1::Atom* response, UnaryFinish finish) {
  if (Status valid = ValidateAtomId(request->atom_id()); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  engine_.DeleteAsync(request->atom_id(),
                      ReplyLater<storage::AtomRecord>(response, std::move(finish), ToProto));
}

grpc::Status AtomServiceImpl::PurgeInactive(grpc::ServerContextBase*,
                                            const v1::PurgeInactiveRequest* request,
                                            v1::PurgeInactiveResponse* response) {
  auto result = engine_.PurgeInactive(request->max_atoms());
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_atoms_purged(result->atoms_purged);
  response->set_bytes_freed(result->bytes_freed);
  response->set_dependent_rows_removed(result->dependent_rows_removed);
  return grpc::Status::OK;
}

grpc::Status AtomServiceImpl::GetDedupStats(grpc::ServerContextBase*,
                                            const v1::GetDedupStatsRequest* request,
                                            v1::DedupStats* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateTopN(request->top_n()));
  return Reply(engine_.DedupStats(EffectiveTopN(request->top_n())), response, ToProto);
}

namespace {

template <typename Request>
engine::PolicyKey KeyOf(const Request& request) {
  return engine::PolicyKey{request.policy_id(), request.policy_name()};
}

template <typename Request>
Status ValidateKey(const Request& request) {
  return ValidatePolicyKey(request.policy_id(), request.policy_name(),
                           request.key_case() != Request::KEY_NOT_SET);
}

}  // namespace

void AtomServiceImpl::CreatePolicy(grpc::ServerContextBase*, const v1::CreatePolicyRequest* request,
                                   v1::DeduplicationPolicy* response, UnaryFinish finish) {
  if (Status valid = ValidatePolicy(request->policy()); !valid.ok()) {
    return finish(ToGrpcStatus(valid));
  }
  policies_.CreateAsync(ToPolicyRecord(request->policy()),
                        ReplyLater<storage::PolicyRecord>(response, std::move(finish), ToProto));
}

grpc::Status AtomServiceImpl::GetPolicy(grpc::ServerContextBase*,
                                        const v1::GetPolicyRequest* request,
                                        v1::DeduplicationPolicy* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidateKey(*request));
  return Reply(policies_.Get(KeyOf(*request)), response, ToProto);
}

grpc::Status AtomServiceImpl::ListPolicies(grpc::ServerContextBase*,
                                           const v1::ListPoliciesRequest* request,
                                           v1::ListPoliciesResponse* response) {
  HT_RETURN_IF_GRPC_ERROR(ValidatePageSize(request->page_size()));
  std::optional<bool> active;
  if (request->has_is_active()) active = request->is_active();
  engine::ResponseBudget budget(limits_.max_response_bytes);
  auto page = policies_.List(active, engine::EffectivePageSize(request->page_size()),
                             request->page_token(), &budget);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& p : page->policies) ToProto(p, response->add_policies());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

void AtomServiceImpl::UpdatePolicy(grpc::ServerContextBase*, const v1::UpdatePolicyRequest* request,
                                   v1::DeduplicationPolicy* response, UnaryFinish finish) {
  const auto& policy = request->policy();
  Status valid = ValidatePolicyKey(policy.policy_id(), policy.policy_name(), true);
  if (valid.ok()) valid = ValidatePolicy(policy, &request->update_mask());
  if (!valid.ok()) return finish(ToGrpcStatus(valid));
  // With an id, policy_name may carry a new name; without one it is the key.
  engine::PolicyKey key{policy.policy_id(), policy.policy_id() == 0 ? policy.policy_name() : ""};
  policies_.UpdateAsync(std::move(key), ToPolicyPatch(policy, request->update_mask()),
                        ReplyLater<storage::PolicyRecord>(response, std::move(finish), ToProto));
}

void AtomServiceImpl::DeletePolicy(grpc::ServerContextBase*, const v1::DeletePolicyRequest* request,
                                   v1::DeletePolicyResponse* response, UnaryFinish finish) {
  if (Status valid = ValidateKey(*request); !valid.ok()) return finish(ToGrpcStatus(valid));
  policies_.DeleteAsync(KeyOf(*request),
                        [response, finish = std::move(finish)](Result<uint64_t> id) {
                          if (!id.ok()) return finish(ToGrpcStatus(id.status()));
                          response->set_policy_id(*id);
                          finish(grpc::Status::OK);
                        });
}

}  // namespace hartonomous::rpc
