#include "hartonomous/client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"

namespace hartonomous {
namespace {

// Adds "authorization: Bearer KEY" to every call's metadata. (gRPC's call
// credentials are not sent over a channel without TLS.)
class ApiKeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ApiKeyInterceptor(const std::string* value) : value_(value) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *value_});
    }
    methods->Proceed();
  }

 private:
  const std::string* value_;  // owned by the factory
};

class ApiKeyInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ApiKeyInterceptorFactory(const std::string& key) : value_("Bearer " + key) {}

  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new ApiKeyInterceptor(&value_);
  }

 private:
  const std::string value_;
};

}  // namespace

std::shared_ptr<grpc::Channel> CreateClientChannel(const ClientOptions& options,
                                                   grpc::ChannelArguments args) {
  // Channels with equal arguments share one connection; a private subchannel
  // pool gives this client its own.
  if (options.own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);  // atoms with content can be large
  args.SetMaxSendMessageSize(-1);
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!options.api_key.empty()) {
    interceptors.push_back(std::make_unique<ApiKeyInterceptorFactory>(options.api_key));
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs;
    ssl.pem_cert_chain = options.tls_cert_chain;
    ssl.pem_private_key = options.tls_private_key;
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(options.target, credentials, args,
                                                                 std::move(interceptors));
}

bool LoadTlsFiles(const std::string& ca_file, const std::string& cert_file,
                  const std::string& key_file, ClientOptions* options, std::string* error) {
  if (cert_file.empty() != key_file.empty()) {
    *error = "a client certificate needs both its file and its key file";
    return false;
  }
  auto read = [&](const std::string& path, std::string* out) {
    if (path.empty()) return true;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || text.str().empty()) {
      *error = path + ": cannot read the file";
      return false;
    }
    *out = text.str();
    return true;
  };
  if (!read(ca_file, &options->tls_root_certs) || !read(cert_file, &options->tls_cert_chain) ||
      !read(key_file, &options->tls_private_key)) {
    return false;
  }
  options->tls = true;
  return true;
}

Client::Client(ClientOptions options) : Client(CreateClientChannel(options), options) {}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      atoms_(v1::AtomService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)),
      search_(v1::SearchService::NewStub(channel_)),
      models_(v1::ModelService::NewStub(channel_)),
      inference_(v1::InferenceService::NewStub(channel_)) {}

void Client::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + options_.timeout);
}

grpc::Status Client::WaitUntilServing(std::chrono::milliseconds timeout) {
  // wait_for_ready holds the call until the server accepts connections (or
  // the deadline passes). hartonomousd listens before it is ready: Watch
  // reports NOT_SERVING while it starts, then SERVING; a stream that ends
  // without SERVING means the server is shutting down.
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  auto reader = stub->Watch(&context, request);
  while (reader->Read(&response)) {
    if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      context.TryCancel();
      (void)reader->Finish();  // CANCELLED: the stream was ours to end
      return grpc::Status::OK;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return status;
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is not SERVING (it is shutting down)");
}

grpc::Status Client::IngestAtom(const v1::IngestAtomRequest& request,
                                v1::IngestAtomResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->IngestAtom(&context, request, response);
}

IngestStream::IngestStream(v1::AtomService::Stub* stub, std::chrono::milliseconds timeout,
                           size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes == 0 ? 1 : max_message_bytes) {
  context_.set_deadline(std::chrono::system_clock::now() + timeout);
  writer_ = stub->IngestAtoms(&context_, &response_);
}

IngestStream::~IngestStream() {
  if (writer_ != nullptr) context_.TryCancel();
}

bool IngestStream::Flush() {
  if (pending_.atoms_size() == 0) return !broken_;
  if (!broken_ && !writer_->Write(pending_)) broken_ = true;
  pending_.Clear();
  pending_bytes_ = 0;
  return !broken_;
}

bool IngestStream::Write(v1::IngestAtomRequest atom) {
  if (broken_) return false;
  const size_t size = atom.ByteSizeLong();
  if (pending_bytes_ > 0 && pending_bytes_ + size > max_message_bytes_ && !Flush()) {
    return false;
  }
  pending_bytes_ += size;
  *pending_.add_atoms() = std::move(atom);
  return true;
}

grpc::Status IngestStream::Finish(v1::IngestAtomsResponse* response) {
  if (writer_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "IngestStream: already finished");
  }
  Flush();
  writer_->WritesDone();
  grpc::Status status = writer_->Finish();
  writer_.reset();
  if (status.ok() && response != nullptr) response->Swap(&response_);
  return status;
}

std::unique_ptr<IngestStream> Client::OpenIngestStream(size_t max_message_bytes) {
  return std::unique_ptr<IngestStream>(
      new IngestStream(atoms_.get(), options_.timeout, max_message_bytes));
}

grpc::Status Client::IngestAtoms(const std::vector<v1::IngestAtomRequest>& atoms,
                                 v1::IngestAtomsResponse* response, size_t max_message_bytes) {
  auto stream = OpenIngestStream(max_message_bytes);
  for (const auto& atom : atoms) {
    if (!stream->Write(atom)) break;
  }
  return stream->Finish(response);
}

grpc::Status Client::GetAtom(uint64_t atom_id, bool include_content, v1::Atom* atom) {
  v1::GetAtomRequest request;
  request.set_atom_id(atom_id);
  request.set_include_content(include_content);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->GetAtom(&context, request, atom);
}

grpc::Status Client::GetAtomByHash(const std::string& content_hash, bool include_content,
                                   v1::Atom* atom) {
  v1::GetAtomRequest request;
  request.set_content_hash(content_hash);
  request.set_include_content(include_content);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->GetAtom(&context, request, atom);
}

grpc::Status Client::ListAtomsPage(const v1::ListAtomsRequest& request,
                                   v1::ListAtomsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->ListAtoms(&context, request, response);
}

grpc::Status Client::ListAtoms(v1::ListAtomsRequest request,
                               const std::function<bool(const v1::Atom&)>& visit) {
  while (true) {
    v1::ListAtomsResponse page;
    grpc::Status status = ListAtomsPage(request, &page);
    if (!status.ok()) return status;
    for (const auto& atom : page.atoms()) {
      if (!visit(atom)) return grpc::Status::OK;
    }
    if (page.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(page.next_page_token());
  }
}

grpc::Status Client::ReleaseAtom(uint64_t atom_id, v1::Atom* atom) {
  v1::ReleaseAtomRequest request;
  request.set_atom_id(atom_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->ReleaseAtom(&context, request, atom);
}

grpc::Status Client::DeleteAtom(uint64_t atom_id, v1::Atom* atom) {
  v1::DeleteAtomRequest request;
  request.set_atom_id(atom_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->DeleteAtom(&context, request, atom);
}

grpc::Status Client::PurgeInactive(uint64_t max_atoms, v1::PurgeInactiveResponse* response) {
  v1::PurgeInactiveRequest request;
  request.set_max_atoms(max_atoms);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->PurgeInactive(&context, request, response);
}

grpc::Status Client::GetDedupStats(int32_t top_n, v1::DedupStats* stats) {
  v1::GetDedupStatsRequest request;
  request.set_top_n(top_n);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->GetDedupStats(&context, request, stats);
}

grpc::Status Client::GetServerStats(v1::ServerStats* stats) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->GetStats(&context, v1::GetStatsRequest(), stats);
}

grpc::Status Client::Compact(bool purge_inactive, v1::CompactResponse* response) {
  v1::CompactRequest request;
  request.set_purge_inactive(purge_inactive);
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->Compact(&context, request, response);
}

grpc::Status Client::CheckConsistency(bool repair, int32_t limit,
                                      v1::CheckConsistencyResponse* response) {
  v1::CheckConsistencyRequest request;
  request.set_repair(repair);
  request.set_limit(limit);
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->CheckConsistency(&context, request, response);
}

grpc::Status Client::Backup(const std::string& path, v1::BackupResponse* response) {
  v1::BackupRequest request;
  request.set_path(path);
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->Backup(&context, request, response);
}

grpc::Status Client::CreateApiKey(const std::string& name, v1::Role role,
                                  v1::CreateApiKeyResponse* response) {
  v1::CreateApiKeyRequest request;
  request.set_name(name);
  request.set_role(role);
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->CreateApiKey(&context, request, response);
}

grpc::Status Client::ListApiKeys(v1::ListApiKeysResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->ListApiKeys(&context, v1::ListApiKeysRequest(), response);
}

grpc::Status Client::RevokeApiKey(uint64_t key_id, v1::ApiKey* key) {
  v1::RevokeApiKeyRequest request;
  request.set_key_id(key_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  return admin_->RevokeApiKey(&context, request, key);
}

grpc::Status Client::CreatePolicy(const v1::DeduplicationPolicy& policy,
                                  v1::DeduplicationPolicy* created) {
  v1::CreatePolicyRequest request;
  *request.mutable_policy() = policy;
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->CreatePolicy(&context, request, created);
}

grpc::Status Client::GetPolicy(const v1::GetPolicyRequest& request,
                               v1::DeduplicationPolicy* policy) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->GetPolicy(&context, request, policy);
}

grpc::Status Client::ListPolicies(const v1::ListPoliciesRequest& request,
                                  v1::ListPoliciesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->ListPolicies(&context, request, response);
}

grpc::Status Client::UpdatePolicy(const v1::UpdatePolicyRequest& request,
                                  v1::DeduplicationPolicy* updated) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->UpdatePolicy(&context, request, updated);
}

grpc::Status Client::DeletePolicy(const v1::DeletePolicyRequest& request,
                                  v1::DeletePolicyResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->DeletePolicy(&context, request, response);
}

// --- SearchService ---

grpc::Status Client::CreateCollection(const v1::CreateCollectionRequest& request,
                                      v1::Collection* collection) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->CreateCollection(&context, request, collection);
}

grpc::Status Client::GetCollection(const std::string& name, v1::Collection* collection) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetCollectionRequest request;
  request.set_name(name);
  return search_->GetCollection(&context, request, collection);
}

grpc::Status Client::ListCollections(v1::ListCollectionsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->ListCollections(&context, v1::ListCollectionsRequest(), response);
}

grpc::Status Client::DeleteCollection(const std::string& name) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::DeleteCollectionRequest request;
  request.set_name(name);
  v1::DeleteCollectionResponse response;
  return search_->DeleteCollection(&context, request, &response);
}

grpc::Status Client::AddEmbeddings(const std::string& collection, const v1::CollectionSpec* create,
                                   const std::vector<v1::EmbeddingInput>& embeddings,
                                   v1::AddEmbeddingsResponse* response, size_t max_message_bytes) {
  grpc::ClientContext context;
  SetDeadline(&context);
  auto writer = search_->AddEmbeddings(&context, response);
  v1::AddEmbeddingsRequest message;
  message.set_collection(collection);
  if (create != nullptr) *message.mutable_create() = *create;
  size_t bytes = 0;
  bool broken = false;
  for (const auto& e : embeddings) {
    const size_t size = e.ByteSizeLong();
    if (message.embeddings_size() > 0 && bytes + size > max_message_bytes) {
      if (!writer->Write(message)) {
        broken = true;
        break;
      }
      message.clear_embeddings();
      message.clear_create();
      bytes = 0;
    }
    *message.add_embeddings() = e;
    bytes += size;
  }
  if (!broken && message.embeddings_size() > 0) writer->Write(message);
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Client::GetEmbeddings(uint64_t atom_id, const std::string& collection,
                                   v1::GetEmbeddingsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::GetEmbeddingsRequest request;
  request.set_atom_id(atom_id);
  request.set_collection(collection);
  return search_->GetEmbeddings(&context, request, response);
}

grpc::Status Client::DeleteEmbedding(const std::string& collection, uint64_t atom_id) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::DeleteEmbeddingRequest request;
  request.set_collection(collection);
  request.set_atom_id(atom_id);
  v1::DeleteEmbeddingResponse response;
  return search_->DeleteEmbedding(&context, request, &response);
}

grpc::Status Client::Search(const v1::SearchRequest& request, v1::SearchResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->Search(&context, request, response);
}

grpc::Status Client::BatchSearch(const v1::BatchSearchRequest& request,
                                 v1::BatchSearchResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->BatchSearch(&context, request, response);
}

grpc::Status Client::RebuildIndex(const std::string& collection, v1::Collection* collection_out) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::RebuildIndexRequest request;
  request.set_collection(collection);
  return search_->RebuildIndex(&context, request, collection_out);
}

grpc::Status Client::SnapshotIndex(const std::string& collection, v1::Collection* collection_out) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::SnapshotIndexRequest request;
  request.set_collection(collection);
  return search_->SnapshotIndex(&context, request, collection_out);
}

grpc::Status Client::RefitProjection(const v1::RefitProjectionRequest& request,
                                     v1::ProjectionInfo* info) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->RefitProjection(&context, request, info);
}

grpc::Status Client::SpatialQuery(const v1::SpatialQueryRequest& request,
                                  v1::SpatialQueryResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->SpatialQuery(&context, request, response);
}

grpc::Status Client::HybridSearch(const v1::HybridSearchRequest& request,
                                  v1::HybridSearchResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return search_->HybridSearch(&context, request, response);
}

// --- documents and relations ---

grpc::Status Client::IngestDocument(const v1::IngestDocumentRequest& header, std::istream& content,
                                    v1::IngestDocumentResponse* response,
                                    const std::function<void(uint64_t)>& progress,
                                    size_t chunk_bytes) {
  if (chunk_bytes == 0) chunk_bytes = kDefaultMessageBytes;
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::IngestDocumentResponse ignored;
  auto writer = atoms_->IngestDocument(&context, response != nullptr ? response : &ignored);
  v1::IngestDocumentRequest message = header;
  message.clear_content();
  std::string buffer(chunk_bytes, '\0');
  uint64_t sent = 0;
  bool first = true;
  while (true) {
    content.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(content.gcount());
    if (n == 0 && !first) break;
    message.set_content(buffer.data(), n);
    if (!writer->Write(message)) break;  // the server failed the call; Finish says why
    sent += n;
    if (progress) progress(sent);
    message.Clear();
    first = false;
    if (n < buffer.size()) break;
  }
  if (content.bad()) {
    context.TryCancel();
    writer->Finish();
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "content: reading the input failed");
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Client::IngestDocument(const v1::IngestDocumentRequest& header,
                                    std::string_view content,
                                    v1::IngestDocumentResponse* response) {
  std::istringstream in{std::string(content)};
  return IngestDocument(header, in, response);
}

grpc::Status Client::IngestDocument(grpc::ClientContext* context,
                                    const v1::IngestDocumentRequest& header,
                                    std::string_view content, v1::IngestDocumentResponse* response,
                                    const std::function<void(uint64_t)>& progress,
                                    size_t chunk_bytes) {
  if (chunk_bytes == 0) chunk_bytes = kDefaultMessageBytes;
  SetDeadline(context);
  v1::IngestDocumentResponse ignored;
  auto writer = atoms_->IngestDocument(context, response != nullptr ? response : &ignored);
  v1::IngestDocumentRequest message = header;
  size_t at = 0;
  do {
    const std::string_view piece = content.substr(at, chunk_bytes);
    message.set_content(piece.data(), piece.size());
    if (!writer->Write(message)) break;  // the server failed the call; Finish says why
    at += piece.size();
    if (progress) progress(at);
    message.Clear();
  } while (at < content.size());
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Client::GetDocument(uint64_t document_id, bool decoded,
                                 v1::DocumentDescription* description,
                                 const std::function<bool(std::string_view)>& sink) {
  v1::GetDocumentRequest request;
  request.set_document_id(document_id);
  request.set_decoded(decoded);
  grpc::ClientContext context;
  SetDeadline(&context);
  auto reader = atoms_->GetDocument(&context, request);
  v1::GetDocumentResponse message;
  while (reader->Read(&message)) {
    if (message.has_description()) {
      if (description != nullptr) description->Swap(message.mutable_description());
    } else if (!sink(message.content())) {
      context.TryCancel();
      reader->Finish();
      return grpc::Status(grpc::StatusCode::CANCELLED, "GetDocument: stopped by the caller");
    }
  }
  return reader->Finish();
}

grpc::Status Client::GetDocument(uint64_t document_id, bool decoded,
                                 v1::DocumentDescription* description, std::string* content) {
  content->clear();
  return GetDocument(document_id, decoded, description, [content](std::string_view chunk) {
    content->append(chunk);
    return true;
  });
}

grpc::Status Client::DeleteDocument(uint64_t document_id, v1::DeleteDocumentResponse* response) {
  v1::DeleteDocumentRequest request;
  request.set_document_id(document_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->DeleteDocument(&context, request, response);
}

grpc::Status Client::DeleteDocumentBySource(const std::string& source_uri,
                                            v1::DeleteDocumentResponse* response) {
  v1::DeleteDocumentRequest request;
  request.set_source_uri(source_uri);
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->DeleteDocument(&context, request, response);
}

grpc::Status Client::AddRelations(const v1::AddRelationsRequest& request,
                                  v1::AddRelationsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->AddRelations(&context, request, response);
}

grpc::Status Client::ListRelationsPage(const v1::ListRelationsRequest& request,
                                       v1::ListRelationsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->ListRelations(&context, request, response);
}

grpc::Status Client::ListRelations(v1::ListRelationsRequest request,
                                   const std::function<bool(const v1::Relation&)>& visit) {
  while (true) {
    v1::ListRelationsResponse page;
    grpc::Status status = ListRelationsPage(request, &page);
    if (!status.ok()) return status;
    for (const auto& relation : page.relations()) {
      if (!visit(relation)) return grpc::Status::OK;
    }
    if (page.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(page.next_page_token());
  }
}

grpc::Status Client::TraverseRelations(const v1::TraverseRelationsRequest& request,
                                       v1::TraverseRelationsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return atoms_->TraverseRelations(&context, request, response);
}

void SetDedup(v1::IngestAtomRequest* request, const std::string& policy,
              const std::string& collection, const std::vector<float>& vector) {
  request->set_policy(policy);
  if (collection.empty() && vector.empty()) {
    request->clear_embedding();
    return;
  }
  auto* embedding = request->mutable_embedding();
  embedding->set_collection(collection);
  embedding->mutable_vector()->Assign(vector.begin(), vector.end());
}

// --- ModelService ---

grpc::Status Client::CreateModel(const v1::CreateModelRequest& request, v1::Model* model) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->CreateModel(&context, request, model);
}

grpc::Status Client::GetModel(const v1::GetModelRequest& request, v1::Model* model) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->GetModel(&context, request, model);
}

grpc::Status Client::ListModelsPage(const v1::ListModelsRequest& request,
                                    v1::ListModelsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->ListModels(&context, request, response);
}

grpc::Status Client::ListModels(v1::ListModelsRequest request,
                                const std::function<bool(const v1::Model&)>& visit) {
  while (true) {
    v1::ListModelsResponse page;
    grpc::Status status = ListModelsPage(request, &page);
    if (!status.ok()) return status;
    for (const auto& model : page.models()) {
      if (!visit(model)) return grpc::Status::OK;
    }
    if (page.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(page.next_page_token());
  }
}

grpc::Status Client::UpdateModel(const v1::UpdateModelRequest& request, v1::Model* model) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->UpdateModel(&context, request, model);
}

grpc::Status Client::DeleteModel(const v1::DeleteModelRequest& request,
                                 v1::DeleteModelResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->DeleteModel(&context, request, response);
}

grpc::Status Client::ListLayersPage(const v1::ListLayersRequest& request,
                                    v1::ListLayersResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->ListLayers(&context, request, response);
}

grpc::Status Client::ListLayers(v1::ListLayersRequest request,
                                const std::function<bool(const v1::ModelLayer&)>& visit) {
  while (true) {
    v1::ListLayersResponse page;
    grpc::Status status = ListLayersPage(request, &page);
    if (!status.ok()) return status;
    for (const auto& layer : page.layers()) {
      if (!visit(layer)) return grpc::Status::OK;
    }
    if (page.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(page.next_page_token());
  }
}

grpc::Status Client::GetLayer(const v1::GetLayerRequest& request, v1::ModelLayer* layer) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->GetLayer(&context, request, layer);
}

namespace {

// Writes the import stream: start with the first piece, then the rest,
// then each external file (its external_file message carrying its first
// bytes). next(buffer) fills the next piece and returns false at the end.
// A stream that cannot be read cancels the call and sets *read_failed.
grpc::Status WriteImport(grpc::ClientContext* context,
                         grpc::ClientWriter<v1::ImportModelRequest>* writer,
                         const v1::ImportModelStart& start,
                         const std::function<bool(std::string* piece)>& next,
                         const std::vector<Client::ImportExternal>& externals,
                         const std::function<void(uint64_t)>& progress, size_t message_bytes,
                         bool* read_failed) {
  v1::ImportModelRequest message;
  *message.mutable_start() = start;
  uint64_t sent = 0;
  bool open = true;
  auto send = [&]() {
    const size_t n = message.data().size();
    if (!writer->Write(message)) {  // the server failed the call; Finish says why
      open = false;
      return false;
    }
    sent += n;
    if (progress) progress(sent);
    return true;
  };
  bool more = next(message.mutable_data());
  while (true) {
    if (!send() || !more) break;
    message.Clear();
    more = next(message.mutable_data());
    if (!more && message.data().empty()) break;
  }
  for (const Client::ImportExternal& ext : externals) {
    if (!open || *read_failed) break;
    message.Clear();
    message.mutable_external_file()->set_location(ext.location);
    message.mutable_external_file()->set_size(ext.size);
    size_t at = 0;
    while (true) {
      std::string* piece = message.mutable_data();
      bool rest = false;
      if (ext.stream != nullptr) {
        piece->resize(message_bytes);
        ext.stream->read(piece->data(), static_cast<std::streamsize>(message_bytes));
        const auto n = static_cast<size_t>(ext.stream->gcount());
        piece->resize(n);
        if (ext.stream->bad()) {
          *read_failed = true;
          context->TryCancel();
          break;
        }
        rest = n == message_bytes;
      } else {
        const std::string_view part = ext.bytes.substr(at, message_bytes);
        piece->assign(part.data(), part.size());
        at += part.size();
        rest = at < ext.bytes.size();
      }
      if (!send() || !rest) break;
      message.Clear();
    }
  }
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace

grpc::Status Client::ImportModel(const v1::ImportModelStart& start, std::istream& file,
                                 v1::ImportModelResponse* response,
                                 const std::function<void(uint64_t)>& progress,
                                 size_t message_bytes) {
  return ImportModel(start, file, {}, response, progress, message_bytes);
}

grpc::Status Client::ImportModel(const v1::ImportModelStart& start, std::istream& file,
                                 const std::vector<ImportExternal>& externals,
                                 v1::ImportModelResponse* response,
                                 const std::function<void(uint64_t)>& progress,
                                 size_t message_bytes) {
  if (message_bytes == 0) message_bytes = kDefaultMessageBytes;
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ImportModelResponse ignored;
  auto writer = models_->ImportModel(&context, response != nullptr ? response : &ignored);
  bool failed = false;
  grpc::Status status = WriteImport(
      &context, writer.get(), start,
      [&](std::string* piece) {
        piece->resize(message_bytes);
        file.read(piece->data(), static_cast<std::streamsize>(message_bytes));
        const auto n = static_cast<size_t>(file.gcount());
        piece->resize(n);
        if (file.bad()) {
          failed = true;
          context.TryCancel();
          return false;
        }
        return n == message_bytes;
      },
      externals, progress, message_bytes, &failed);
  if (failed) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "file: reading the input failed");
  }
  return status;
}

grpc::Status Client::ImportModel(grpc::ClientContext* context, const v1::ImportModelStart& start,
                                 std::string_view file, v1::ImportModelResponse* response,
                                 const std::function<void(uint64_t)>& progress,
                                 size_t message_bytes) {
  return ImportModel(context, start, file, {}, response, progress, message_bytes);
}

grpc::Status Client::ImportModel(grpc::ClientContext* context, const v1::ImportModelStart& start,
                                 std::string_view file,
                                 const std::vector<ImportExternal>& externals,
                                 v1::ImportModelResponse* response,
                                 const std::function<void(uint64_t)>& progress,
                                 size_t message_bytes) {
  if (message_bytes == 0) message_bytes = kDefaultMessageBytes;
  SetDeadline(context);
  v1::ImportModelResponse ignored;
  auto writer = models_->ImportModel(context, response != nullptr ? response : &ignored);
  size_t at = 0;
  bool failed = false;
  grpc::Status status = WriteImport(
      context, writer.get(), start,
      [&](std::string* piece) {
        const std::string_view next = file.substr(at, message_bytes);
        piece->assign(next.data(), next.size());
        at += next.size();
        return at < file.size();
      },
      externals, progress, message_bytes, &failed);
  if (failed) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "file: reading the input failed");
  }
  return status;
}

grpc::Status Client::ExportModel(
    const v1::ExportModelRequest& request, v1::ExportModelHeader* header,
    const std::function<bool(std::string_view)>& sink,
    const std::function<bool(const v1::ExportExternalFile&)>& external) {
  grpc::ClientContext context;
  SetDeadline(&context);
  auto reader = models_->ExportModel(&context, request);
  v1::ExportModelResponse message;
  while (reader->Read(&message)) {
    if (message.has_header() && header != nullptr) header->Swap(message.mutable_header());
    if (message.has_external_file() && !(external && external(message.external_file()))) {
      context.TryCancel();
      reader->Finish();
      if (!external) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "ExportModel: the model's file has external data files (\"" +
                                message.external_file().location() +
                                "\"), which this caller does not receive");
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "ExportModel: stopped by the caller");
    }
    if (!message.data().empty() && !sink(message.data())) {
      context.TryCancel();
      reader->Finish();
      return grpc::Status(grpc::StatusCode::CANCELLED, "ExportModel: stopped by the caller");
    }
  }
  return reader->Finish();
}

grpc::Status Client::QuantizeModel(const v1::QuantizeModelRequest& request,
                                   v1::QuantizeModelResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->QuantizeModel(&context, request, response);
}

grpc::Status Client::ExtractStudent(const v1::ExtractStudentRequest& request,
                                    v1::ExtractStudentResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->ExtractStudent(&context, request, response);
}

grpc::Status Client::ExportLayerGeometry(
    const v1::ExportLayerGeometryRequest& request,
    const std::function<bool(const v1::LayerGeometry&)>& visit) {
  grpc::ClientContext context;
  SetDeadline(&context);
  auto reader = models_->ExportLayerGeometry(&context, request);
  v1::LayerGeometry message;
  while (reader->Read(&message)) {
    if (!visit(message)) {
      context.TryCancel();
      reader->Finish();
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "ExportLayerGeometry: stopped by the caller");
    }
  }
  return reader->Finish();
}

grpc::Status Client::SetLayerValues(const v1::SetLayerValuesStart& start,
                                    const std::vector<float>& values,
                                    v1::SetLayerValuesResponse* response, size_t message_values) {
  grpc::ClientContext context;
  return SetLayerValues(&context, start, values.data(), values.size(), response, {},
                        message_values);
}

grpc::Status Client::SetLayerValues(grpc::ClientContext* context,
                                    const v1::SetLayerValuesStart& start, const float* values,
                                    size_t count, v1::SetLayerValuesResponse* response,
                                    const std::function<void(uint64_t)>& progress,
                                    size_t message_values) {
  if (message_values == 0) message_values = kDefaultMessageBytes / sizeof(float) / 4;
  SetDeadline(context);
  v1::SetLayerValuesResponse ignored;
  auto writer = models_->SetLayerValues(context, response != nullptr ? response : &ignored);
  v1::SetLayerValuesRequest message;
  *message.mutable_start() = start;
  size_t at = 0;
  do {
    const size_t n = std::min(message_values, count - at);
    message.mutable_values()->Reserve(static_cast<int>(n));
    for (size_t i = at; i < at + n; ++i) message.add_values(values[i]);
    if (!writer->Write(message)) break;  // the server failed the call; Finish says why
    at += n;
    if (progress) progress(at);
    message.Clear();
  } while (at < count);
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Client::UpdateLayer(const v1::UpdateLayerRequest& request, v1::ModelLayer* layer) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->UpdateLayer(&context, request, layer);
}

grpc::Status Client::DeleteLayer(const v1::DeleteLayerRequest& request,
                                 v1::DeleteLayerResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return models_->DeleteLayer(&context, request, response);
}

// --- InferenceService ---

grpc::Status Client::LogInference(const v1::LogInferenceRequest& request,
                                  v1::LogInferenceResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->LogInference(&context, request, response);
}

grpc::Status Client::LogInferences(const std::vector<v1::LogInferenceRequest>& requests,
                                   v1::LogInferencesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  auto writer = inference_->LogInferences(&context, response);
  for (const auto& request : requests) {
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status Client::GetInference(uint64_t inference_id, v1::Inference* inference) {
  v1::GetInferenceRequest request;
  request.set_inference_id(inference_id);
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->GetInference(&context, request, inference);
}

grpc::Status Client::ListInferencesPage(const v1::ListInferencesRequest& request,
                                        v1::ListInferencesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->ListInferences(&context, request, response);
}

grpc::Status Client::ListInferences(v1::ListInferencesRequest request,
                                    const std::function<bool(const v1::Inference&)>& visit) {
  while (true) {
    v1::ListInferencesResponse page;
    grpc::Status status = ListInferencesPage(request, &page);
    if (!status.ok()) return status;
    for (const auto& inference : page.inferences()) {
      if (!visit(inference)) return grpc::Status::OK;
    }
    if (page.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(page.next_page_token());
  }
}

grpc::Status Client::GetInferenceAnalytics(const v1::GetInferenceAnalyticsRequest& request,
                                           v1::GetInferenceAnalyticsResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->GetInferenceAnalytics(&context, request, response);
}

grpc::Status Client::PruneInferences(const v1::PruneInferencesRequest& request,
                                     v1::PruneInferencesResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->PruneInferences(&context, request, response);
}

grpc::Status Client::PutActivation(const v1::PutActivationRequest& request,
                                   v1::PutActivationResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->PutActivation(&context, request, response);
}

grpc::Status Client::GetActivation(const v1::GetActivationRequest& request,
                                   v1::GetActivationResponse* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  return inference_->GetActivation(&context, request, response);
}

bool ApplyClientEnvironment(ClientOptions* options, std::string* error) {
  auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  if (options->api_key.empty()) options->api_key = env("HARTONOMOUS_API_KEY");
  if (options->tls) return true;
  const std::string ca = env("HARTONOMOUS_TLS_CA");
  const std::string cert = env("HARTONOMOUS_TLS_CERT");
  const std::string key = env("HARTONOMOUS_TLS_KEY");
  if (ca.empty() && cert.empty() && key.empty()) return true;
  return LoadTlsFiles(ca, cert, key, options, error);
}

}  // namespace hartonomous
