// AtomServiceImpl: hartonomous.v1.AtomService over engine::AtomEngine
// (atoms), engine::DocumentEngine (documents, in document_rpc.cc) and
// engine::GraphEngine (relations, in document_rpc.cc).
// Each handler validates, converts, calls the engine and maps the Status.
//
// Thread-safety: thread-safe (the engine is).
#pragma once

#include <memory>

#include "hartonomous/v1/atom_service.grpc.pb.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "server/rpc/atom/atom_validation.h"
#include "server/rpc/common/client_stream_reactor.h"
#include "server/rpc/common/long_call.h"
#include "server/rpc/common/server_stream_reactor.h"
#include "server/rpc/common/unary_callback.h"

namespace hartonomous::rpc {

class AtomServiceImpl final : public v1::AtomService::Service {
 public:
  // work: runs the client streams' ends (hashing, compressing, decoding)
  // and GetDocument's batches; long_calls: PurgeInactive.
  AtomServiceImpl(engine::AtomEngine& engine, engine::PolicyEngine& policies,
                  engine::DocumentEngine& documents, engine::GraphEngine& graph, Limits limits,
                  WorkPool& work, CallThreads& long_calls)
      : engine_(engine),
        policies_(policies),
        documents_(documents),
        graph_(graph),
        limits_(limits) {
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::AtomService::service_full_name(), "IngestAtoms"),
        CallbackClientStream(&AtomServiceImpl::IngestAtoms, this, {&work, StreamWork::kEnd}));
    MarkMethodCallback(
        ClientStreamMethodIndex(v1::AtomService::service_full_name(), "IngestDocument"),
        CallbackClientStream(&AtomServiceImpl::IngestDocument, this, {&work, StreamWork::kEnd}));
    // Unary reads are served through the callback API (unary_callback.h),
    // and so are IngestAtom, ReleaseAtom, DeleteAtom, DeleteDocument,
    // AddRelations and the policy writes, answered from their commit
    // (CallbackUnaryAsync). GetDocument is a callback server stream
    // (server_stream_reactor.h), PurgeInactive runs on a thread of its own
    // (long_call.h).
    MarkMethodCallback(ServerStreamMethodIndex(v1::AtomService::service_full_name(), "GetDocument"),
                       CallbackServerStream(&AtomServiceImpl::GetDocument, this, &work));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "PurgeInactive"),
                       CallbackLongUnary(&AtomServiceImpl::PurgeInactive, this, &long_calls));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "IngestAtom"),
                       CallbackUnaryAsync(&AtomServiceImpl::IngestAtom, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "ReleaseAtom"),
                       CallbackUnaryAsync(&AtomServiceImpl::ReleaseAtom, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "DeleteAtom"),
                       CallbackUnaryAsync(&AtomServiceImpl::DeleteAtom, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "AddRelations"),
                       CallbackUnaryAsync(&AtomServiceImpl::AddRelations, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "CreatePolicy"),
                       CallbackUnaryAsync(&AtomServiceImpl::CreatePolicy, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "UpdatePolicy"),
                       CallbackUnaryAsync(&AtomServiceImpl::UpdatePolicy, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "DeletePolicy"),
                       CallbackUnaryAsync(&AtomServiceImpl::DeletePolicy, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "DeleteDocument"),
                       CallbackUnaryAsync(&AtomServiceImpl::DeleteDocument, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "GetAtom"),
                       CallbackUnary(&AtomServiceImpl::GetAtom, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "ListAtoms"),
                       CallbackUnary(&AtomServiceImpl::ListAtoms, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "GetDedupStats"),
                       CallbackUnary(&AtomServiceImpl::GetDedupStats, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "GetPolicy"),
                       CallbackUnary(&AtomServiceImpl::GetPolicy, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "ListPolicies"),
                       CallbackUnary(&AtomServiceImpl::ListPolicies, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "ListRelations"),
                       CallbackUnary(&AtomServiceImpl::ListRelations, this));
    MarkMethodCallback(UnaryMethodIndex(v1::AtomService::service_full_name(), "TraverseRelations"),
                       CallbackUnary(&AtomServiceImpl::TraverseRelations, this));
  }

  // Answered after the atom's group commit, by finish.
  void IngestAtom(grpc::ServerContextBase*, const v1::IngestAtomRequest* request,
                  v1::IngestAtomResponse* response, UnaryFinish finish);
  // IngestAtoms and IngestDocument are callback client streams
  // (client_stream_reactor.h): their messages go to their collector
  // (atom_streams.h) as they arrive; at the end the work pool hashes and
  // compresses (a document: decodes and decomposes first), and the call is
  // answered after the group commit. They replace the generated typed
  // handlers.
  std::unique_ptr<StreamCall> IngestAtoms(grpc::CallbackServerContext* context,
                                          v1::IngestAtomsResponse* response);
  grpc::Status GetAtom(grpc::ServerContextBase*, const v1::GetAtomRequest* request,
                       v1::Atom* response);
  grpc::Status ListAtoms(grpc::ServerContextBase*, const v1::ListAtomsRequest* request,
                         v1::ListAtomsResponse* response);
  // Answered after the write's group commit, by finish.
  void ReleaseAtom(grpc::ServerContextBase*, const v1::ReleaseAtomRequest* request,
                   v1::Atom* response, UnaryFinish finish);
  void DeleteAtom(grpc::ServerContextBase*, const v1::DeleteAtomRequest* request,
                  v1::Atom* response, UnaryFinish finish);
  grpc::Status PurgeInactive(grpc::ServerContextBase*, const v1::PurgeInactiveRequest* request,
                             v1::PurgeInactiveResponse* response);
  grpc::Status GetDedupStats(grpc::ServerContextBase*, const v1::GetDedupStatsRequest* request,
                             v1::DedupStats* response);
  // The policy writes are answered after their group commit, by finish.
  void CreatePolicy(grpc::ServerContextBase*, const v1::CreatePolicyRequest* request,
                    v1::DeduplicationPolicy* response, UnaryFinish finish);
  grpc::Status GetPolicy(grpc::ServerContextBase*, const v1::GetPolicyRequest* request,
                         v1::DeduplicationPolicy* response);
  grpc::Status ListPolicies(grpc::ServerContextBase*, const v1::ListPoliciesRequest* request,
                            v1::ListPoliciesResponse* response);
  void UpdatePolicy(grpc::ServerContextBase*, const v1::UpdatePolicyRequest* request,
                    v1::DeduplicationPolicy* response, UnaryFinish finish);
  void DeletePolicy(grpc::ServerContextBase*, const v1::DeletePolicyRequest* request,
                    v1::DeletePolicyResponse* response, UnaryFinish finish);

  std::unique_ptr<StreamCall> IngestDocument(grpc::CallbackServerContext* context,
                                             v1::IngestDocumentResponse* response);
  // The document's description, then its content (atom_server_streams.h).
  std::unique_ptr<StreamProducer<v1::GetDocumentResponse>> GetDocument(
      const v1::GetDocumentRequest& request);
  // Answered after the release's group commit, by finish.
  void DeleteDocument(grpc::ServerContextBase*, const v1::DeleteDocumentRequest* request,
                      v1::DeleteDocumentResponse* response, UnaryFinish finish);
  // Answered after the edges' group commit, by finish.
  void AddRelations(grpc::ServerContextBase*, const v1::AddRelationsRequest* request,
                    v1::AddRelationsResponse* response, UnaryFinish finish);
  grpc::Status ListRelations(grpc::ServerContextBase*, const v1::ListRelationsRequest* request,
                             v1::ListRelationsResponse* response);
  grpc::Status TraverseRelations(grpc::ServerContextBase*,
                                 const v1::TraverseRelationsRequest* request,
                                 v1::TraverseRelationsResponse* response);

 private:
  engine::AtomEngine& engine_;
  engine::PolicyEngine& policies_;
  engine::DocumentEngine& documents_;
  engine::GraphEngine& graph_;
  const Limits limits_;
};

}  // namespace hartonomous::rpc
