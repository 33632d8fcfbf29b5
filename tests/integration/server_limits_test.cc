// No thread waits for a call: GetDocument streams that the client does not
// read (their next write held back by flow control) stay open, more of them
// than --max-threads, with no thread each, and end when cancelled; while
// they are open the writes answered from their commit (the atom, document
// deletion, relation, policy, collection, model, layer, inference,
// activation and API key writes) and the client streams (IngestAtoms,
// IngestDocument, AddEmbeddings, ImportModel, SetLayerValues,
// LogInferences) are served (docs/architecture.md, "Serving path").
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "raw_rpc.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

int ThreadsOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  throw std::runtime_error("no Threads line for pid " + std::to_string(pid));
}

// A document far larger than a stream's flow-control window (Fashion-MNIST's
// test images, 4.4 MB compressed, stored as a binary document): a
// GetDocument of it that the client does not read keeps its handler in a
// write until the client reads or cancels.
uint64_t IngestLargeDocument(Daemon& daemon) {
  const std::string images =
      ReadFile("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  REQUIRE(images.size() > (size_t{4} << 20));
  v1::IngestDocumentResponse ingested;
  const grpc::Status status =
      daemon.client().IngestDocument(DocumentHeader("binary"), images, &ingested);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return ingested.document_id();
}

// Tags: 2*i = stream i started, 2*i+1 = stream i finished.
void* Tag(size_t i, bool finish) { return reinterpret_cast<void*>(2 * i + (finish ? 1 : 0)); }

struct IdleStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReader<v1::GetDocumentResponse>> reader;
  grpc::Status status;
  bool finished = false;
};

// Starts a GetDocument of document_id on cq (never read: it stays open until
// cancelled), and asks for its status.
void StartIdleStream(v1::AtomService::Stub& stub, grpc::CompletionQueue& cq, uint64_t document_id,
                     size_t i, IdleStream* s) {
  s->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::GetDocumentRequest request;
  request.set_document_id(document_id);
  s->reader = stub.AsyncGetDocument(&s->context, request, &cq, Tag(i, false));
  s->reader->Finish(&s->status, Tag(i, true));
}

// `streams` idle GetDocument streams on one completion queue, never
// cancelled until the end.
class IdleStreams {
 public:
  IdleStreams(Daemon& daemon, uint64_t document_id, size_t streams)
      : stub_(v1::AtomService::NewStub(daemon.client().channel())) {
    for (size_t i = 0; i < streams; ++i) {
      auto s = std::make_unique<IdleStream>();
      StartIdleStream(*stub_, cq_, document_id, i, s.get());
      streams_.push_back(std::move(s));
    }
  }
  ~IdleStreams() {
    CancelAll();
    if (!WaitFinished(streams_.size())) return;
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  // Waits until `count` streams have finished; false on a 60 s timeout.
  bool WaitFinished(size_t count) {
    while (finished_ < count) {
      if (!NextEvent(std::chrono::system_clock::now() + std::chrono::seconds(60))) return false;
    }
    return true;
  }
  // The streams finished so far (the events already delivered, no wait).
  size_t FinishedNow() {
    while (NextEvent(std::chrono::system_clock::now())) {
    }
    return finished_;
  }
  void CancelAll() {
    for (auto& s : streams_) {
      if (!s->finished) s->context.TryCancel();
    }
  }
  const std::vector<std::unique_ptr<IdleStream>>& streams() const { return streams_; }

 private:
  bool NextEvent(std::chrono::system_clock::time_point deadline) {
    void* tag = nullptr;
    bool ok = false;
    if (cq_.AsyncNext(&tag, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) {
      return false;
    }
    const auto value = reinterpret_cast<uintptr_t>(tag);
    if (value % 2 == 1) {
      streams_[value / 2]->finished = true;
      ++finished_;
    }
    return true;
  }

  std::unique_ptr<v1::AtomService::Stub> stub_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<IdleStream>> streams_;
  size_t finished_ = 0;
};

// In-flight calls as the server counts them (the GetStats call included).
uint64_t InFlight(Daemon& daemon) {
  grpc::ClientContext context;
  v1::ServerStats stats;
  const grpc::Status status =
      daemon.client().admin().GetStats(&context, v1::GetStatsRequest(), &stats);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return stats.in_flight_calls();
}

// Waits until the server counts `calls` calls in flight (the GetStats call
// included); fails after 60 s.
void WaitInFlight(Daemon& daemon, uint64_t calls) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (InFlight(daemon) != calls) REQUIRE(std::chrono::steady_clock::now() < deadline);
}

}  // namespace

TEST_CASE("idle streams hold no thread: more than --max-threads stay open and end when cancelled",
          "[limits]") {
  constexpr size_t kMaxThreads = 4;
  constexpr size_t kStreams = 24;
  Daemon::Options options;
  options.extra_args = {"--max-threads", std::to_string(kMaxThreads), "--work-threads", "2"};
  Daemon daemon(options);
  const uint64_t document_id = IngestLargeDocument(daemon);
  const int baseline = ThreadsOf(daemon.pid());
  {
    // Never cancelled until the checks are done: a call ends only if the
    // server ends it.
    IdleStreams idle(daemon, document_id, kStreams);
    WaitInFlight(daemon, kStreams + 1);
    CHECK(idle.FinishedNow() == 0);
    // No thread per stream (a synchronous server stream would take one
    // each, kStreams in all); a few that gRPC's own pools may start as
    // calls arrive.
    constexpr int kGrpcThreads = 4;
    CHECK(ThreadsOf(daemon.pid()) <= baseline + kGrpcThreads);
    // The same document is served whole meanwhile, and health answers.
    grpc::Status status;
    const std::string content = ReadDocumentContent(daemon.client(), document_id, &status);
    CHECK(status.ok());
    CHECK(content.size() > (size_t{4} << 20));
    auto health = grpc::health::v1::Health::NewStub(daemon.client().channel());
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse checked;
    REQUIRE(health->Check(&context, grpc::health::v1::HealthCheckRequest(), &checked).ok());
    CHECK(checked.status() == grpc::health::v1::HealthCheckResponse::SERVING);
    CHECK(idle.FinishedNow() == 0);
    // Cancelled, every stream ends CANCELLED.
    idle.CancelAll();
    REQUIRE(idle.WaitFinished(kStreams));
    for (const auto& s : idle.streams()) {
      INFO(s->status.error_message());
      CHECK(s->status.error_code() == grpc::StatusCode::CANCELLED);
    }
  }
  WaitInFlight(daemon, 1);
  v1::IngestAtomResponse ingested;
  CHECK(daemon.client().IngestAtom(TextAtom("served after"), &ingested).ok());
}

TEST_CASE(
    "writes and client streams are served while more idle streams are open than "
    "--max-threads",
    "[limits]") {
  constexpr size_t kMaxThreads = 8;
  constexpr size_t kStreams = 24;
  constexpr size_t kWrites = 32;
  Daemon daemon(Daemon::Options{{}, {"--max-threads", std::to_string(kMaxThreads)}});
  // A model with one layer, for the activation cache.
  v1::CreateModelRequest create;
  create.mutable_model()->set_model_name("held-threads");
  auto* layer_spec = create.add_layers();
  layer_spec->set_layer_idx(0);
  layer_spec->set_layer_name("blk.0.attn.weight");
  layer_spec->add_tensor_shape(2);
  layer_spec->set_tensor_dtype("F32");
  v1::Model model;
  REQUIRE(daemon.client().CreateModel(create, &model).ok());
  v1::GetLayerRequest get_layer;
  get_layer.set_model_id(model.model_id());
  get_layer.set_layer_idx(0);
  v1::ModelLayer layer;
  REQUIRE(daemon.client().GetLayer(get_layer, &layer).ok());

  IdleStreams idle(daemon, IngestLargeDocument(daemon), kStreams);
  WaitInFlight(daemon, kStreams + 1);

  // A GetDocument of a missing document is answered NOT_FOUND, and
  // DeleteDocument, answered from its commit, is served.
  {
    grpc::ClientContext context;
    v1::GetDocumentRequest missing;
    missing.set_document_id(999999);
    auto reader = daemon.client().atoms().GetDocument(&context, missing);
    v1::GetDocumentResponse part;
    while (reader->Read(&part)) {
    }
    CHECK(reader->Finish().error_code() == grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    v1::DeleteDocumentRequest no_thread_needed;
    no_thread_needed.set_document_id(999999);
    v1::DeleteDocumentResponse response;
    const grpc::Status status =
        daemon.client().atoms().DeleteDocument(&context, no_thread_needed, &response);
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  }
  // IngestAtoms and LogInferences streams, more of them open at once than
  // the server has threads, each answered from its commit.
  {
    constexpr size_t kOpen = 2 * kMaxThreads;
    auto atom_stub = v1::AtomService::NewStub(daemon.client().channel());
    auto log_stub = v1::InferenceService::NewStub(daemon.client().channel());
    struct OpenStreams {
      grpc::ClientContext atom_context, log_context;
      v1::IngestAtomsResponse atoms;
      v1::LogInferencesResponse logs;
      std::unique_ptr<grpc::ClientWriter<v1::IngestAtomsRequest>> atom_writer;
      std::unique_ptr<grpc::ClientWriter<v1::LogInferenceRequest>> log_writer;
    };
    std::vector<std::unique_ptr<OpenStreams>> open;
    for (size_t i = 0; i < kOpen; ++i) {
      auto s = std::make_unique<OpenStreams>();
      s->atom_writer = atom_stub->IngestAtoms(&s->atom_context, &s->atoms);
      v1::IngestAtomsRequest atoms;
      *atoms.add_atoms() = TextAtom("streamed while streams idle " + std::to_string(i));
      CHECK(s->atom_writer->Write(atoms));
      s->log_writer = log_stub->LogInferences(&s->log_context, &s->logs);
      v1::LogInferenceRequest log;
      log.set_task_type("classification");
      log.set_duration_ms(1.5);
      log.set_input_text("streamed log " + std::to_string(i));
      CHECK(s->log_writer->Write(log));
      open.push_back(std::move(s));
    }
    for (size_t i = 0; i < kOpen; ++i) {
      OpenStreams& s = *open[i];
      s.atom_writer->WritesDone();
      grpc::Status status = s.atom_writer->Finish();
      INFO(i << ": " << status.error_message());
      REQUIRE(status.ok());
      REQUIRE(s.atoms.results_size() == 1);
      CHECK(s.atoms.results(0).created());
      s.log_writer->WritesDone();
      status = s.log_writer->Finish();
      INFO(i << ": " << status.error_message());
      REQUIRE(status.ok());
      REQUIRE(s.logs.inference_ids_size() == 1);
      CHECK(s.logs.inference_ids(0) != 0);
      CHECK(s.logs.logged() == 1);
    }
    grpc::ClientContext context;
    v1::GetAtomRequest get;
    get.set_atom_id(open.back()->atoms.results(0).atom_id());
    get.set_include_content(true);
    v1::Atom atom;
    REQUIRE(daemon.client().atoms().GetAtom(&context, get, &atom).ok());
    CHECK(atom.content() == "streamed while streams idle " + std::to_string(kOpen - 1));
  }
  // The other client streams while the idle streams are open: kOpen documents
  // streamed at once (the license texts Debian ships), embeddings, a real
  // ONNX model (Debian's libonnx-testdata) and the layer's values, each
  // stored.
  {
    constexpr size_t kOpen = 2 * kMaxThreads;
    const std::string text = ReadFile("/usr/share/common-licenses/Apache-2.0");
    auto atom_stub = v1::AtomService::NewStub(daemon.client().channel());
    struct OpenDocument {
      grpc::ClientContext context;
      v1::IngestDocumentResponse response;
      std::unique_ptr<grpc::ClientWriter<v1::IngestDocumentRequest>> writer;
    };
    std::vector<std::unique_ptr<OpenDocument>> open;
    for (size_t i = 0; i < kOpen; ++i) {
      auto d = std::make_unique<OpenDocument>();
      d->writer = atom_stub->IngestDocument(&d->context, &d->response);
      v1::IngestDocumentRequest first;
      first.set_modality("text");
      first.set_source_uri("held-threads/" + std::to_string(i));
      first.set_content(text + "\nCopy " + std::to_string(i) + ".\n");
      CHECK(d->writer->Write(first));
      open.push_back(std::move(d));
    }
    for (size_t i = 0; i < kOpen; ++i) {
      OpenDocument& d = *open[i];
      d.writer->WritesDone();
      const grpc::Status status = d.writer->Finish();
      INFO(i << ": " << status.error_message());
      REQUIRE(status.ok());
      CHECK(d.response.document_id() != 0);
      CHECK(d.response.bytes_received() == text.size() + 8 + std::to_string(i).size());
    }

    v1::CollectionSpec spec;
    spec.set_embedding_type("held-threads");
    spec.set_dimension(3);
    spec.set_metric(v1::METRIC_COSINE);
    std::vector<v1::EmbeddingInput> embeddings(2);
    for (size_t i = 0; i < embeddings.size(); ++i) {
      embeddings[i].set_atom_id(open[i]->response.document_id());
      for (float x : {1.0f, static_cast<float>(i), 0.5f}) embeddings[i].add_vector(x);
    }
    v1::AddEmbeddingsResponse added;
    grpc::Status status = daemon.client().AddEmbeddings("held-threads", &spec, embeddings, &added);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(added.embedding_ids_size() == 2);

    v1::ImportModelStart start;
    start.mutable_model()->set_model_name("imported-while-held");
    std::istringstream file(
        ReadFile("/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx"));
    v1::ImportModelResponse imported;
    status = daemon.client().ImportModel(start, file, &imported);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(imported.model().model_name() == "imported-while-held");
    CHECK(imported.layers_size() == 2);  // the weight and the bias

    v1::SetLayerValuesStart values_start;
    values_start.set_layer_id(layer.layer_id());
    values_start.set_kind(v1::LAYER_VALUE_KIND_IMPORTANCE);
    v1::SetLayerValuesResponse values;
    status = daemon.client().SetLayerValues(values_start, {0.25f, 0.75f}, &values);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(values.values() == 2);
  }

  // A model created and deleted, each answered from its commit.
  {
    v1::CreateModelRequest create_model;
    create_model.mutable_model()->set_model_name("no-thread-needed");
    v1::Model made;
    grpc::Status status = daemon.client().CreateModel(create_model, &made);
    INFO(status.error_message());
    REQUIRE(status.ok());
    grpc::ClientContext context;
    v1::DeleteModelRequest remove;
    remove.set_model_id(made.model_id());
    v1::DeleteModelResponse removed;
    status = daemon.client().models().DeleteModel(&context, remove, &removed);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(removed.model_id() == made.model_id());
  }

  // A collection created and deleted, each answered from its commit.
  {
    v1::CreateCollectionRequest collection;
    collection.set_name("no-thread-needed");
    collection.mutable_spec()->set_embedding_type("text");
    collection.mutable_spec()->set_dimension(4);
    collection.mutable_spec()->set_metric(v1::METRIC_L2);
    v1::Collection made;
    grpc::Status status = daemon.client().CreateCollection(collection, &made);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(made.name() == "no-thread-needed");
    grpc::ClientContext context;
    v1::DeleteCollectionRequest remove;
    remove.set_name("no-thread-needed");
    v1::DeleteCollectionResponse removed;
    status = daemon.client().search().DeleteCollection(&context, remove, &removed);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }

  // A policy's life: created, updated, deleted, each answered from its commit.
  {
    grpc::ClientContext context;
    v1::CreatePolicyRequest create_policy;
    create_policy.mutable_policy()->set_policy_name("no-thread-needed");
    create_policy.mutable_policy()->set_hash_enabled(true);
    v1::DeduplicationPolicy created;
    grpc::Status status = daemon.client().atoms().CreatePolicy(&context, create_policy, &created);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(created.policy_id() != 0);
    grpc::ClientContext update_context;
    v1::UpdatePolicyRequest update;
    update.mutable_policy()->set_policy_id(created.policy_id());
    update.mutable_policy()->set_policy_name("renamed-without-a-thread");
    update.mutable_update_mask()->add_paths("policy_name");
    v1::DeduplicationPolicy updated;
    status = daemon.client().atoms().UpdatePolicy(&update_context, update, &updated);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(updated.policy_name() == "renamed-without-a-thread");
    grpc::ClientContext delete_context;
    v1::DeletePolicyRequest remove;
    remove.set_policy_name("renamed-without-a-thread");
    v1::DeletePolicyResponse removed;
    status = daemon.client().atoms().DeletePolicy(&delete_context, remove, &removed);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(removed.policy_id() == created.policy_id());
  }

  // kWrites IngestAtom calls in flight at once, each committed and answered.
  auto stub = v1::AtomService::NewStub(daemon.client().channel());
  grpc::CompletionQueue cq;
  struct Write {
    grpc::ClientContext context;
    v1::IngestAtomResponse response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::IngestAtomResponse>> call;
  };
  std::vector<std::unique_ptr<Write>> writes;
  for (size_t i = 0; i < kWrites; ++i) {
    auto w = std::make_unique<Write>();
    w->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    w->call = stub->AsyncIngestAtom(
        &w->context, TextAtom("written while streams idle " + std::to_string(i)), &cq);
    w->call->Finish(&w->response, &w->status, w.get());
    writes.push_back(std::move(w));
  }
  for (size_t i = 0; i < kWrites; ++i) {
    void* tag = nullptr;
    bool ok = false;
    REQUIRE(cq.Next(&tag, &ok));
    CHECK(ok);
  }
  for (size_t i = 0; i < kWrites; ++i) {
    INFO(i << ": " << writes[i]->status.error_message());
    REQUIRE(writes[i]->status.ok());
    CHECK(writes[i]->response.created());
    grpc::ClientContext context;
    v1::GetAtomRequest get;
    get.set_atom_id(writes[i]->response.atom_id());
    get.set_include_content(true);
    v1::Atom atom;
    REQUIRE(daemon.client().atoms().GetAtom(&context, get, &atom).ok());
    CHECK(atom.content() == "written while streams idle " + std::to_string(i));
  }

  // Release and Delete: also answered from their commit.
  {
    grpc::ClientContext context;
    v1::ReleaseAtomRequest release;
    release.set_atom_id(writes[0]->response.atom_id());
    v1::Atom released;
    grpc::Status status = daemon.client().atoms().ReleaseAtom(&context, release, &released);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(released.reference_count() == 0);
    CHECK_FALSE(released.is_active());
  }
  {
    grpc::ClientContext context;
    v1::DeleteAtomRequest remove;
    remove.set_atom_id(writes[1]->response.atom_id());
    v1::Atom deleted;
    grpc::Status status = daemon.client().atoms().DeleteAtom(&context, remove, &deleted);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK_FALSE(deleted.is_active());
    // Released again: the atom is already inactive.
    grpc::ClientContext again_context;
    v1::ReleaseAtomRequest again;
    again.set_atom_id(writes[1]->response.atom_id());
    CHECK(daemon.client().atoms().ReleaseAtom(&again_context, again, &deleted).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
  }

  // AddRelations: a 'contains' edge takes a reference on its target.
  {
    grpc::ClientContext context;
    v1::AddRelationsRequest add;
    auto* edge = add.add_relations();
    edge->set_source_atom_id(writes[2]->response.atom_id());
    edge->set_target_atom_id(writes[3]->response.atom_id());
    edge->set_relation_type("contains");
    v1::AddRelationsResponse added;
    grpc::Status status = daemon.client().atoms().AddRelations(&context, add, &added);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(added.created() == 1);
    grpc::ClientContext get_context;
    v1::GetAtomRequest get;
    get.set_atom_id(writes[3]->response.atom_id());
    v1::Atom target;
    REQUIRE(daemon.client().atoms().GetAtom(&get_context, get, &target).ok());
    CHECK(target.reference_count() == 2);
  }

  // The activation cache: a put, then a lookup that finds it.
  v1::PutActivationRequest put;
  put.set_layer_id(layer.layer_id());
  put.set_input_hash(std::string(32, '\x11'));
  put.add_shape(2);
  put.set_dtype("F32");
  put.set_data(std::string(8, 'a'));
  put.set_compute_time_ms(2);
  v1::PutActivationResponse put_response;
  grpc::Status put_status = daemon.client().PutActivation(put, &put_response);
  INFO(put_status.error_message());
  REQUIRE(put_status.ok());
  v1::GetActivationRequest lookup;
  lookup.set_layer_id(layer.layer_id());
  lookup.set_input_hash(std::string(32, '\x11'));
  v1::GetActivationResponse found;
  REQUIRE(daemon.client().GetActivation(lookup, &found).ok());
  CHECK(found.found());
  CHECK(found.data() == std::string(8, 'a'));

  v1::LogInferenceRequest log;
  log.set_task_type("classification");
  log.set_duration_ms(3.5);
  log.set_input_text("logged while streams idle");
  v1::LogInferenceResponse logged;
  grpc::Status log_status = daemon.client().LogInference(log, &logged);
  INFO(log_status.error_message());
  REQUIRE(log_status.ok());
  CHECK(logged.inference_id() != 0);
  CHECK_FALSE(logged.already_logged());

  // The layer writes: renamed, then deleted, each answered from its commit.
  {
    grpc::ClientContext context;
    v1::UpdateLayerRequest update;
    update.set_layer_id(layer.layer_id());
    update.mutable_layer()->set_layer_name("blk.0.attn.renamed");
    update.mutable_update_mask()->add_paths("layer_name");
    v1::ModelLayer updated;
    grpc::Status status = daemon.client().models().UpdateLayer(&context, update, &updated);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(updated.layer_name() == "blk.0.attn.renamed");
    grpc::ClientContext delete_context;
    v1::DeleteLayerRequest remove;
    remove.set_layer_id(layer.layer_id());
    v1::DeleteLayerResponse removed;
    status = daemon.client().models().DeleteLayer(&delete_context, remove, &removed);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(removed.layer_id() == layer.layer_id());
    // The activation put above goes with it.
    CHECK(removed.dependent_rows_removed() == 1);
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_CASE(
    "the work pool has the threads --work-threads sets, and a document stream is served with them",
    "[limits]") {
  Daemon daemon(Daemon::Options{{}, {"--work-threads", "3"}});
  auto work_threads = [&] {
    int n = 0;
    for (const auto& task :
         std::filesystem::directory_iterator("/proc/" + std::to_string(daemon.pid()) + "/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name.rfind("ht-work-", 0) == 0) ++n;
    }
    return n;
  };
  CHECK(work_threads() == 3);
  // A document stream's end runs there and is answered.
  v1::IngestDocumentRequest header;
  header.set_modality("text");
  v1::IngestDocumentResponse response;
  REQUIRE(daemon.client()
              .IngestDocument(header, ReadFile("/usr/share/common-licenses/BSD"), &response)
              .ok());
  CHECK(response.document_id() != 0);
  CHECK(work_threads() == 3);
}
