// hartonomous::Client — a thin C++ client for hartonomousd.
//
// Wraps the generated hartonomous.v1 stubs: applies a per-call deadline, pages
// through list results, and batches streamed atoms into messages. Requests and
// responses are the API's own protobuf messages; errors are the server's
// grpc::Status unchanged (code plus a message naming the field and the rule).
//
// Thread-safety: a Client may be shared by any number of threads; an
// IngestStream belongs to one thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "hartonomous/v1/admin_service.grpc.pb.h"
#include "hartonomous/v1/atom_service.grpc.pb.h"
#include "hartonomous/v1/inference_service.grpc.pb.h"
#include "hartonomous/v1/model_service.grpc.pb.h"
#include "hartonomous/v1/search_service.grpc.pb.h"

namespace hartonomous {

struct ClientOptions {
  // gRPC target, e.g. "127.0.0.1:50051" or "dns:///db.example:50051".
  // Default: 127.0.0.1:50051.
  std::string target = "127.0.0.1:50051";
  // Deadline applied to every unary call and to each whole stream.
  // Default: 60 s.
  std::chrono::milliseconds timeout{60000};
  // Clients to one target share one TCP connection unless this is set (load
  // generators want one connection per client). Default: false.
  bool own_connection = false;
  // An API key, sent as "authorization: Bearer KEY" metadata on every call
  // of the channel the client makes (a channel given to the constructor
  // carries its own). Empty = none. Default: none.
  std::string api_key;
  // TLS for the channel the client makes. With tls set, tls_root_certs (PEM)
  // are the CAs the server's certificate must chain to (empty = the system's
  // roots), and tls_cert_chain plus tls_private_key (PEM, both or neither)
  // are the client certificate for servers that require one (mutual TLS).
  // Default: plaintext.
  bool tls = false;
  std::string tls_root_certs;
  std::string tls_cert_chain;
  std::string tls_private_key;
};

// Reads PEM files into options' TLS fields and sets options->tls: ca_file
// (may be empty: the system's roots), cert_file and key_file (both or
// neither). Returns false with *error naming the file when one cannot be
// read or only one of cert_file and key_file is given.
bool LoadTlsFiles(const std::string& ca_file, const std::string& cert_file,
                  const std::string& key_file, ClientOptions* options, std::string* error);

// Fills what options leave unset from the clients' environment variables:
// api_key from $HARTONOMOUS_API_KEY, and TLS (LoadTlsFiles) from
// $HARTONOMOUS_TLS_CA, $HARTONOMOUS_TLS_CERT and $HARTONOMOUS_TLS_KEY when
// options->tls is not set and any of them is. False with *error as
// LoadTlsFiles.
bool ApplyClientEnvironment(ClientOptions* options, std::string* error);

// The channel a Client made from `options` uses: options.target, its own
// connection when options.own_connection, no message size limits, and the
// API key on every call; `args` adds channel arguments (e.g. a distinct
// value that keeps two channels on separate connections).
std::shared_ptr<grpc::Channel> CreateClientChannel(const ClientOptions& options,
                                                   grpc::ChannelArguments args = {});

// One client-streaming IngestAtoms call. Atoms are packed into messages of at
// most max_message_bytes of content; the server commits the whole stream as
// one transaction when Finish() is called.
class IngestStream {
 public:
  IngestStream(const IngestStream&) = delete;
  IngestStream& operator=(const IngestStream&) = delete;
  ~IngestStream();

  // Queues one atom; it is sent once the pending message is full or at
  // Finish(). Returns false when the stream is broken (the server has already
  // failed the call); Finish() then reports why.
  bool Write(v1::IngestAtomRequest atom);
  // Sends what is queued, closes the stream and waits for the commit.
  // A second call returns FAILED_PRECONDITION.
  grpc::Status Finish(v1::IngestAtomsResponse* response);

 private:
  friend class Client;
  IngestStream(v1::AtomService::Stub* stub, std::chrono::milliseconds timeout,
               size_t max_message_bytes);
  bool Flush();

  grpc::ClientContext context_;
  v1::IngestAtomsResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::IngestAtomsRequest>> writer_;
  v1::IngestAtomsRequest pending_;
  size_t pending_bytes_ = 0;
  size_t max_message_bytes_;
  bool broken_ = false;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  // Uses an existing channel (custom credentials or arguments).
  Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Waits until the server accepts connections and its grpc.health.v1
  // status is SERVING (it is NOT_SERVING while the server starts);
  // UNAVAILABLE when the server is shutting down, DEADLINE_EXCEEDED after
  // timeout.
  grpc::Status WaitUntilServing(std::chrono::milliseconds timeout);

  grpc::Status IngestAtom(const v1::IngestAtomRequest& request, v1::IngestAtomResponse* response);
  // Sends all atoms as one stream: one transaction, all of them or none.
  grpc::Status IngestAtoms(const std::vector<v1::IngestAtomRequest>& atoms,
                           v1::IngestAtomsResponse* response,
                           size_t max_message_bytes = kDefaultMessageBytes);
  // Opens a stream for callers that produce atoms incrementally.
  std::unique_ptr<IngestStream> OpenIngestStream(size_t max_message_bytes = kDefaultMessageBytes);

  grpc::Status GetAtom(uint64_t atom_id, bool include_content, v1::Atom* atom);
  grpc::Status GetAtomByHash(const std::string& content_hash, bool include_content, v1::Atom* atom);
  // One page, as the server returns it.
  grpc::Status ListAtomsPage(const v1::ListAtomsRequest& request, v1::ListAtomsResponse* response);
  // Every matching atom, page after page; visit returns false to stop early.
  grpc::Status ListAtoms(v1::ListAtomsRequest request,
                         const std::function<bool(const v1::Atom&)>& visit);
  grpc::Status ReleaseAtom(uint64_t atom_id, v1::Atom* atom);
  grpc::Status DeleteAtom(uint64_t atom_id, v1::Atom* atom);
  grpc::Status PurgeInactive(uint64_t max_atoms, v1::PurgeInactiveResponse* response);
  grpc::Status GetDedupStats(int32_t top_n, v1::DedupStats* stats);
  grpc::Status GetServerStats(v1::ServerStats* stats);
  // AdminService.Compact: gives the data file's free pages back to the
  // filesystem (purging inactive atoms first when purge_inactive).
  grpc::Status Compact(bool purge_inactive, v1::CompactResponse* response);
  // AdminService.Backup: an online backup into the new directory `path` on
  // the server's filesystem.
  grpc::Status Backup(const std::string& path, v1::BackupResponse* response);
  // AdminService API keys: the token of a new key is in response->token()
  // (shown once).
  grpc::Status CreateApiKey(const std::string& name, v1::Role role,
                            v1::CreateApiKeyResponse* response);
  grpc::Status ListApiKeys(v1::ListApiKeysResponse* response);
  grpc::Status RevokeApiKey(uint64_t key_id, v1::ApiKey* key);
  // AdminService.CheckConsistency: verifies the stored data (and, with
  // repair, fixes index-only mismatches); limit: mismatches listed, 0 = 100.
  grpc::Status CheckConsistency(bool repair, int32_t limit, v1::CheckConsistencyResponse* response);

  // Deduplication policies.
  grpc::Status CreatePolicy(const v1::DeduplicationPolicy& policy,
                            v1::DeduplicationPolicy* created);
  grpc::Status GetPolicy(const v1::GetPolicyRequest& request, v1::DeduplicationPolicy* policy);
  grpc::Status ListPolicies(const v1::ListPoliciesRequest& request,
                            v1::ListPoliciesResponse* response);
  grpc::Status UpdatePolicy(const v1::UpdatePolicyRequest& request,
                            v1::DeduplicationPolicy* updated);
  grpc::Status DeletePolicy(const v1::DeletePolicyRequest& request,
                            v1::DeletePolicyResponse* response);
  // --- SearchService ---
  grpc::Status CreateCollection(const v1::CreateCollectionRequest& request,
                                v1::Collection* collection);
  grpc::Status GetCollection(const std::string& name, v1::Collection* collection);
  grpc::Status ListCollections(v1::ListCollectionsResponse* response);
  grpc::Status DeleteCollection(const std::string& name);
  // Sends all embeddings as one stream (one transaction), packed into
  // messages of at most max_message_bytes. create (may be null) is used when
  // the collection does not exist yet.
  grpc::Status AddEmbeddings(const std::string& collection, const v1::CollectionSpec* create,
                             const std::vector<v1::EmbeddingInput>& embeddings,
                             v1::AddEmbeddingsResponse* response,
                             size_t max_message_bytes = kDefaultMessageBytes);
  // collection empty = every collection.
  grpc::Status GetEmbeddings(uint64_t atom_id, const std::string& collection,
                             v1::GetEmbeddingsResponse* response);
  grpc::Status DeleteEmbedding(const std::string& collection, uint64_t atom_id);
  grpc::Status Search(const v1::SearchRequest& request, v1::SearchResponse* response);
  grpc::Status BatchSearch(const v1::BatchSearchRequest& request,
                           v1::BatchSearchResponse* response);
  grpc::Status RebuildIndex(const std::string& collection, v1::Collection* collection_out);
  grpc::Status SnapshotIndex(const std::string& collection, v1::Collection* collection_out);
  // Refits the collection's 3D projection and reprojects every embedding.
  grpc::Status RefitProjection(const v1::RefitProjectionRequest& request, v1::ProjectionInfo* info);
  grpc::Status SpatialQuery(const v1::SpatialQueryRequest& request,
                            v1::SpatialQueryResponse* response);
  grpc::Status HybridSearch(const v1::HybridSearchRequest& request,
                            v1::HybridSearchResponse* response);
  // --- documents ---
  // Streams a document: header's fields (modality, source, metadata,
  // options) go in the first message, the content in messages of at most
  // chunk_bytes. progress (optional) is called with the bytes sent so far.
  // The server commits the whole document or nothing.
  grpc::Status IngestDocument(const v1::IngestDocumentRequest& header, std::istream& content,
                              v1::IngestDocumentResponse* response,
                              const std::function<void(uint64_t sent)>& progress = {},
                              size_t chunk_bytes = kDefaultMessageBytes);
  grpc::Status IngestDocument(const v1::IngestDocumentRequest& header, std::string_view content,
                              v1::IngestDocumentResponse* response);
  // The same from memory, on a context the caller owns, so that another
  // thread may context->TryCancel() (the call then ends CANCELLED and the
  // server stores nothing of it). The deadline is set here.
  // REQUIRES: context is fresh (a context serves one call).
  grpc::Status IngestDocument(grpc::ClientContext* context, const v1::IngestDocumentRequest& header,
                              std::string_view content, v1::IngestDocumentResponse* response,
                              const std::function<void(uint64_t sent)>& progress = {},
                              size_t chunk_bytes = kDefaultMessageBytes);
  // Rebuilds a document: its description, then sink(chunk) for each piece of
  // content in order (sink returns false to cancel).
  grpc::Status GetDocument(uint64_t document_id, bool decoded, v1::DocumentDescription* description,
                           const std::function<bool(std::string_view chunk)>& sink);
  // The same into one string.
  grpc::Status GetDocument(uint64_t document_id, bool decoded, v1::DocumentDescription* description,
                           std::string* content);
  grpc::Status DeleteDocument(uint64_t document_id, v1::DeleteDocumentResponse* response);
  // Drops the document a source URI holds (as ingested with that
  // source_uri), and the source with it.
  grpc::Status DeleteDocumentBySource(const std::string& source_uri,
                                      v1::DeleteDocumentResponse* response);

  // --- relations ---
  grpc::Status AddRelations(const v1::AddRelationsRequest& request,
                            v1::AddRelationsResponse* response);
  grpc::Status ListRelationsPage(const v1::ListRelationsRequest& request,
                                 v1::ListRelationsResponse* response);
  // Every matching edge, page after page; visit returns false to stop early.
  grpc::Status ListRelations(v1::ListRelationsRequest request,
                             const std::function<bool(const v1::Relation&)>& visit);
  grpc::Status TraverseRelations(const v1::TraverseRelationsRequest& request,
                                 v1::TraverseRelationsResponse* response);

  // --- ModelService (the model catalog) ---
  // Creates a model with its metadata and optional layers (one transaction).
  grpc::Status CreateModel(const v1::CreateModelRequest& request, v1::Model* model);
  grpc::Status GetModel(const v1::GetModelRequest& request, v1::Model* model);
  // One page, as the server returns it.
  grpc::Status ListModelsPage(const v1::ListModelsRequest& request,
                              v1::ListModelsResponse* response);
  // Every matching model, page after page; visit returns false to stop early.
  grpc::Status ListModels(v1::ListModelsRequest request,
                          const std::function<bool(const v1::Model&)>& visit);
  grpc::Status UpdateModel(const v1::UpdateModelRequest& request, v1::Model* model);
  grpc::Status DeleteModel(const v1::DeleteModelRequest& request,
                           v1::DeleteModelResponse* response);
  grpc::Status ListLayersPage(const v1::ListLayersRequest& request,
                              v1::ListLayersResponse* response);
  // Every layer of the model in layer_idx order, page after page; visit
  // returns false to stop early.
  grpc::Status ListLayers(v1::ListLayersRequest request,
                          const std::function<bool(const v1::ModelLayer&)>& visit);
  grpc::Status GetLayer(const v1::GetLayerRequest& request, v1::ModelLayer* layer);
  // Imports a model file: start in the first message, then the file's bytes
  // in messages of at most message_bytes. progress (optional) is called
  // with the bytes sent so far. The server stores the whole model or
  // nothing.
  grpc::Status ImportModel(const v1::ImportModelStart& start, std::istream& file,
                           v1::ImportModelResponse* response,
                           const std::function<void(uint64_t sent)>& progress = {},
                           size_t message_bytes = kDefaultMessageBytes);
  // The same from memory, on a context the caller owns (another thread may
  // context->TryCancel(): the server then stores nothing of it). The
  // deadline is set here. REQUIRES: context is fresh.
  grpc::Status ImportModel(grpc::ClientContext* context, const v1::ImportModelStart& start,
                           std::string_view file, v1::ImportModelResponse* response,
                           const std::function<void(uint64_t sent)>& progress = {},
                           size_t message_bytes = kDefaultMessageBytes);
  // An ONNX model's external data file, streamed after the model file
  // (ImportExternalFile): its location as the model names it, its declared
  // size, and its bytes -- `bytes` in memory, or `stream` read to its end.
  struct ImportExternal {
    std::string location;
    uint64_t size = 0;
    std::string_view bytes;
    std::istream* stream = nullptr;
  };
  // ImportModel with the model file's external data files, sent after it
  // in the order given.
  grpc::Status ImportModel(const v1::ImportModelStart& start, std::istream& file,
                           const std::vector<ImportExternal>& externals,
                           v1::ImportModelResponse* response,
                           const std::function<void(uint64_t sent)>& progress = {},
                           size_t message_bytes = kDefaultMessageBytes);
  grpc::Status ImportModel(grpc::ClientContext* context, const v1::ImportModelStart& start,
                           std::string_view file, const std::vector<ImportExternal>& externals,
                           v1::ImportModelResponse* response,
                           const std::function<void(uint64_t sent)>& progress = {},
                           size_t message_bytes = kDefaultMessageBytes);
  // A model as a file in request.format ("" = as stored: an imported
  // model's file byte for byte; "safetensors", "gguf", "onnx"): header
  // (optional) once, then sink(bytes) for each piece in order (sink
  // returns false to cancel). An ONNX model imported with external data
  // files: after the model file's bytes, external(file) starts each
  // external file and sink takes its bytes (without external, such a
  // model is refused by the client: INVALID_ARGUMENT, nothing written).
  grpc::Status ExportModel(
      const v1::ExportModelRequest& request, v1::ExportModelHeader* header,
      const std::function<bool(std::string_view bytes)>& sink,
      const std::function<bool(const v1::ExportExternalFile& file)>& external = {});
  grpc::Status QuantizeModel(const v1::QuantizeModelRequest& request,
                             v1::QuantizeModelResponse* response);
  grpc::Status ExtractStudent(const v1::ExtractStudentRequest& request,
                              v1::ExtractStudentResponse* response);
  // visit(message) for each streamed linestring, in order (false to stop).
  grpc::Status ExportLayerGeometry(const v1::ExportLayerGeometryRequest& request,
                                   const std::function<bool(const v1::LayerGeometry&)>& visit);

  // A layer's per-weight importance or temporal values: start in the first
  // message, then the values in messages of at most message_values of
  // them (0 = 262144, 1 MiB of float32). progress (optional) is called
  // with the values sent so far. The server stores them all or nothing.
  grpc::Status SetLayerValues(const v1::SetLayerValuesStart& start,
                              const std::vector<float>& values,
                              v1::SetLayerValuesResponse* response, size_t message_values = 0);
  // The same on a context the caller owns (another thread, or progress,
  // may context->TryCancel(): the server then stores nothing of it). The
  // deadline is set here. REQUIRES: context is fresh.
  grpc::Status SetLayerValues(grpc::ClientContext* context, const v1::SetLayerValuesStart& start,
                              const float* values, size_t count,
                              v1::SetLayerValuesResponse* response,
                              const std::function<void(uint64_t sent)>& progress = {},
                              size_t message_values = 0);
  grpc::Status UpdateLayer(const v1::UpdateLayerRequest& request, v1::ModelLayer* layer);
  grpc::Status DeleteLayer(const v1::DeleteLayerRequest& request,
                           v1::DeleteLayerResponse* response);

  // --- InferenceService (inference logs, analytics, cached activations) ---
  grpc::Status LogInference(const v1::LogInferenceRequest& request,
                            v1::LogInferenceResponse* response);
  // Logs every request in one client stream: one transaction, all or nothing.
  grpc::Status LogInferences(const std::vector<v1::LogInferenceRequest>& requests,
                             v1::LogInferencesResponse* response);
  grpc::Status GetInference(uint64_t inference_id, v1::Inference* inference);
  // One page, as the server returns it.
  grpc::Status ListInferencesPage(const v1::ListInferencesRequest& request,
                                  v1::ListInferencesResponse* response);
  // Every matching inference, newest first, page after page; visit returns
  // false to stop early.
  grpc::Status ListInferences(v1::ListInferencesRequest request,
                              const std::function<bool(const v1::Inference&)>& visit);
  grpc::Status GetInferenceAnalytics(const v1::GetInferenceAnalyticsRequest& request,
                                     v1::GetInferenceAnalyticsResponse* response);
  grpc::Status PruneInferences(const v1::PruneInferencesRequest& request,
                               v1::PruneInferencesResponse* response);
  grpc::Status PutActivation(const v1::PutActivationRequest& request,
                             v1::PutActivationResponse* response);
  grpc::Status GetActivation(const v1::GetActivationRequest& request,
                             v1::GetActivationResponse* response);

  // The underlying channel and stub, for calls this class does not wrap.
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::AtomService::Stub& atoms() { return *atoms_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  v1::SearchService::Stub& search() { return *search_; }
  v1::ModelService::Stub& models() { return *models_; }
  v1::InferenceService::Stub& inference() { return *inference_; }

  static constexpr size_t kDefaultMessageBytes = 1 << 20;

 private:
  void SetDeadline(grpc::ClientContext* context) const;

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AtomService::Stub> atoms_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::SearchService::Stub> search_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  std::unique_ptr<v1::InferenceService::Stub> inference_;
};

// Asks IngestAtom / IngestAtoms to apply the named deduplication policy
// (empty = exact SHA-256 matching only) and, when collection or vector is
// given, to store the atom with this embedding (and, for a policy with a
// semantic or spatial threshold, to match it against existing atoms).
void SetDedup(v1::IngestAtomRequest* request, const std::string& policy,
              const std::string& collection, const std::vector<float>& vector);

}  // namespace hartonomous
