// The crash-loop proof: a real hartonomousd on one data directory, started,
// written to by four concurrent clients (atoms with shared contents,
// documents, embeddings, model imports alternating with inference logs),
// killed with SIGKILL after a seeded random number of acknowledged writes,
// and started again, many times over. After each restart:
//   - every acknowledged write is present with its content (atoms by hash
//     and content, documents byte for byte, embeddings by value and as their
//     own nearest neighbour in a search, models with every layer and a
//     byte-identical export, inference logs with their texts);
//   - every write in flight at the kill (sent, not acknowledged) is entirely
//     present or entirely absent;
//   - shared atoms hold exactly one reference per committed occurrence;
//   - AdminService.CheckConsistency reports no mismatch, and a search
//     answers.
// At the end every write acknowledged in any iteration is checked once
// more. Prints a line per iteration and a final report; exits 1 when
// anything was lost, half present or inconsistent, 2 on bad flags.
//
// Usage: crash_loop [--iterations N] [--seed S] [--max-acks K]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/engine/models/formats/safetensors_writer.h"
#include "tests/integration/daemon_harness.h"
#include "tests/integration/test_util.h"

namespace {

using namespace hartonomous;
using namespace hartonomous::testing;

constexpr int kWriters = 4;
constexpr int kDimension = 16;
constexpr int kSharedContents = 40;
constexpr const char* kCollection = "crashloop";

// ---- what the writers sent ----

// One IngestAtoms call: every content in it is unique to it except the
// shared ones (which writer 0 ingests again and again).
struct AtomWrite {
  int iteration = 0;
  std::vector<std::string> unique;
  std::vector<std::string> shared;
  std::vector<uint64_t> unique_ids;  // acknowledged ids
  bool acked = false;
};

struct DocumentWrite {
  int iteration = 0;
  std::string source_type;  // unique: names the root when the id is unknown
  std::string content;
  uint64_t document_id = 0;
  bool acked = false;
};

// One AddEmbeddings call of atoms that writer 2 ingested just before.
struct EmbeddingWrite {
  int iteration = 0;
  std::vector<uint64_t> atom_ids;
  std::vector<std::vector<float>> vectors;
  bool acked = false;
};

struct ModelWrite {
  int iteration = 0;
  std::string name;
  std::string file;
  size_t layers = 0;
  uint64_t model_id = 0;
  bool acked = false;
};

// One LogInference call, or one LogInferences stream (one transaction).
struct InferenceLog {
  std::string request_id;
  std::string input;
  std::string output;
  uint64_t inference_id = 0;  // acknowledged id
};
struct InferenceWrite {
  int iteration = 0;
  std::string task_type;
  uint64_t model_id = 0;
  std::vector<InferenceLog> logs;
  bool acked = false;
};

// Everything written in every iteration, acknowledged or in flight at a kill.
struct Ledger {
  std::mutex mu;
  std::vector<AtomWrite> atoms;
  std::vector<DocumentWrite> documents;
  std::vector<EmbeddingWrite> embeddings;
  std::vector<ModelWrite> models;
  std::vector<InferenceWrite> inferences;
};

enum Kind { kAtoms, kDocuments, kEmbeddings, kModels, kInferences, kKindCount };
const char* const kKindNames[kKindCount] = {"atoms", "documents", "embeddings", "models",
                                            "inferences"};

// ---- the writers ----

std::string Seq(int iteration, int seq) {
  return "i" + std::to_string(iteration) + ".s" + std::to_string(seq);
}

std::vector<std::string> LicenseTexts() {
  std::vector<std::string> texts;
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/share/common-licenses", ec)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::string text = ReadFile(p.string());
    if (!text.empty()) texts.push_back(std::move(text));
  }
  if (texts.empty()) {
    // A system without them: deterministic prose of our own.
    for (int t = 0; t < 4; ++t) {
      std::string text;
      for (int s = 0; s < 200; ++s) {
        text += "Sentence " + std::to_string(s) + " of text " + std::to_string(t) + " is here. ";
        if (s % 10 == 9) text += "\n\n";
      }
      texts.push_back(text);
    }
  }
  return texts;
}

std::string RandomBytes(size_t n, std::mt19937_64& rng) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// A small safetensors file: two tensors of random F32 values and one that
// every model shares (its chunks are one atom held by many rows).
std::string ModelFile(std::mt19937_64& rng) {
  const std::string a = RandomBytes(4 * 32 * 32, rng);
  const std::string b = RandomBytes(4 * 16 * 64, rng);
  const std::string shared(4 * 64 * 64, '\x2a');
  auto file = engine::models::WriteSafetensors(
      {{"block.0.attn.weight", "F32", {32, 32}},
       {"block.0.mlp.weight", "F32", {16, 64}},
       {"shared.norm.weight", "F32", {64, 64}}},
      {std::string_view(a), std::string_view(b), std::string_view(shared)}, {});
  if (!file.ok()) throw std::runtime_error("safetensors: " + file.status().message());
  return *file;
}

struct WriterContext {
  int iteration;
  Ledger* ledger;
  const std::vector<std::string>* licenses;
  uint64_t* last_model_id;  // writer 3's, across iterations
  const std::atomic<bool>* killed;
  std::mutex* error_mu;
  std::vector<std::string>* errors;
};

// Adds a write to the ledger, acknowledged or not.
template <typename Write>
void Record(const WriterContext& ctx, std::vector<Write> Ledger::*list, const Write& w) {
  std::lock_guard lock(ctx.ledger->mu);
  (ctx.ledger->*list).push_back(w);
}

// A call failed: after the kill that is expected; before it, an error.
void Failed(const WriterContext& ctx, const std::string& what, const grpc::Status& status) {
  if (ctx.killed->load()) return;
  std::lock_guard lock(*ctx.error_mu);
  ctx.errors->push_back(
      what + " failed before the kill: " + std::to_string(static_cast<int>(status.error_code())) +
      " " + status.error_message());
}

void WriteAtoms(const WriterContext& ctx, Client& client, const std::function<void()>& ack) {
  for (int seq = 0;; ++seq) {
    AtomWrite w;
    w.iteration = ctx.iteration;
    const int unique = 1 + seq % 3;
    for (int k = 0; k < unique; ++k) {
      w.unique.push_back("crash-loop atom " + Seq(ctx.iteration, seq) + ".k" + std::to_string(k));
    }
    // Two distinct shared contents per call, cycling through the pool.
    const int first = (ctx.iteration * 7 + seq) % kSharedContents;
    w.shared.push_back("crash-loop shared atom " + std::to_string(first));
    w.shared.push_back("crash-loop shared atom " + std::to_string((first + 13) % kSharedContents));
    std::vector<v1::IngestAtomRequest> batch;
    for (const auto& c : w.unique) batch.push_back(TextAtom(c));
    for (const auto& c : w.shared) batch.push_back(TextAtom(c));
    v1::IngestAtomsResponse response;
    const grpc::Status status = client.IngestAtoms(batch, &response, 64);
    if (status.ok()) {
      w.acked = true;
      for (size_t k = 0; k < w.unique.size(); ++k) {
        w.unique_ids.push_back(response.results(static_cast<int>(k)).atom_id());
      }
    }
    Record(ctx, &Ledger::atoms, w);
    if (!status.ok()) return Failed(ctx, "IngestAtoms", status);
    ack();
  }
}

void WriteDocuments(const WriterContext& ctx, Client& client, const std::function<void()>& ack) {
  for (int seq = 0;; ++seq) {
    DocumentWrite w;
    w.iteration = ctx.iteration;
    w.source_type = "crashloop.doc." + Seq(ctx.iteration, seq);
    const auto& text =
        (*ctx.licenses)[static_cast<size_t>(ctx.iteration + seq) % ctx.licenses->size()];
    w.content = "Crash loop document " + Seq(ctx.iteration, seq) + ".\n\n" + text;
    v1::IngestDocumentRequest header = DocumentHeader("text");
    header.set_source_type(w.source_type);
    v1::IngestDocumentResponse response;
    grpc::ClientContext context;
    // Small messages: a kill often lands in the middle of a stream.
    const grpc::Status status =
        client.IngestDocument(&context, header, w.content, &response, {}, 4096);
    if (status.ok()) {
      w.acked = true;
      w.document_id = response.document_id();
    }
    Record(ctx, &Ledger::documents, w);
    if (!status.ok()) return Failed(ctx, "IngestDocument", status);
    ack();
  }
}

void WriteEmbeddings(const WriterContext& ctx, Client& client, const std::function<void()>& ack) {
  std::mt19937_64 rng(static_cast<uint64_t>(ctx.iteration) * 1000003u + 17);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int seq = 0;; ++seq) {
    AtomWrite atoms;
    atoms.iteration = ctx.iteration;
    for (int k = 0; k < 4; ++k) {
      atoms.unique.push_back("crash-loop vector atom " + Seq(ctx.iteration, seq) + ".k" +
                             std::to_string(k));
    }
    std::vector<v1::IngestAtomRequest> batch;
    for (const auto& c : atoms.unique) batch.push_back(TextAtom(c));
    v1::IngestAtomsResponse ingested;
    const grpc::Status status = client.IngestAtoms(batch, &ingested);
    if (status.ok()) {
      atoms.acked = true;
      for (int k = 0; k < ingested.results_size(); ++k) {
        atoms.unique_ids.push_back(ingested.results(k).atom_id());
      }
    }
    Record(ctx, &Ledger::atoms, atoms);
    if (!status.ok()) return Failed(ctx, "IngestAtoms (vector atoms)", status);
    ack();

    EmbeddingWrite w;
    w.iteration = ctx.iteration;
    w.atom_ids = atoms.unique_ids;
    std::vector<v1::EmbeddingInput> inputs;
    for (uint64_t id : w.atom_ids) {
      std::vector<float> v(kDimension);
      for (float& x : v) x = value(rng);
      v1::EmbeddingInput in;
      in.set_atom_id(id);
      for (float x : v) in.add_vector(x);
      inputs.push_back(in);
      w.vectors.push_back(std::move(v));
    }
    v1::CollectionSpec spec;
    spec.set_embedding_type("text");
    spec.set_dimension(kDimension);
    spec.set_metric(v1::METRIC_L2);
    v1::AddEmbeddingsResponse added;
    const grpc::Status embedded = client.AddEmbeddings(kCollection, &spec, inputs, &added, 256);
    w.acked = embedded.ok();
    Record(ctx, &Ledger::embeddings, w);
    if (!embedded.ok()) return Failed(ctx, "AddEmbeddings", embedded);
    ack();
  }
}

void WriteModelsAndInferences(const WriterContext& ctx, Client& client,
                              const std::function<void()>& ack) {
  std::mt19937_64 rng(static_cast<uint64_t>(ctx.iteration) * 7919u + 3);
  for (int seq = 0;; ++seq) {
    if (seq % 2 == 0) {
      ModelWrite w;
      w.iteration = ctx.iteration;
      w.name = "crashloop-model-" + Seq(ctx.iteration, seq);
      w.file = ModelFile(rng);
      w.layers = 3;
      v1::ImportModelStart start;
      start.mutable_model()->set_model_name(w.name);
      start.set_chunk_bytes(4096);
      v1::ImportModelResponse response;
      grpc::ClientContext context;
      const grpc::Status status = client.ImportModel(&context, start, w.file, &response, {}, 4096);
      if (status.ok()) {
        w.acked = true;
        w.model_id = response.model().model_id();
        *ctx.last_model_id = w.model_id;
      }
      Record(ctx, &Ledger::models, w);
      if (!status.ok()) return Failed(ctx, "ImportModel", status);
    } else {
      InferenceWrite w;
      w.iteration = ctx.iteration;
      w.task_type = "crashloop.i" + std::to_string(ctx.iteration);
      w.model_id = *ctx.last_model_id;
      // Every other call a stream of three logs, two of them sharing a
      // prompt (one text atom, two references in one transaction).
      const int count = seq % 4 == 1 ? 1 : 3;
      std::vector<v1::LogInferenceRequest> requests;
      for (int k = 0; k < count; ++k) {
        InferenceLog log;
        log.request_id = "crashloop-" + Seq(ctx.iteration, seq) + ".k" + std::to_string(k);
        log.input = k == 0 ? "crash loop prompt " + Seq(ctx.iteration, seq)
                           : "crash loop shared prompt " + std::to_string(seq % 5);
        log.output = "crash loop answer " + Seq(ctx.iteration, seq) + ".k" + std::to_string(k);
        v1::LogInferenceRequest request;
        request.set_model_id(w.model_id);
        request.set_task_type(w.task_type);
        request.set_request_id(log.request_id);
        request.set_input_text(log.input);
        request.set_output_text(log.output);
        request.set_duration_ms(1.0 + seq + k);
        request.set_input_tokens(seq);
        requests.push_back(request);
        w.logs.push_back(log);
      }
      grpc::Status status;
      if (count == 1) {
        v1::LogInferenceResponse response;
        status = client.LogInference(requests[0], &response);
        if (status.ok()) w.logs[0].inference_id = response.inference_id();
      } else {
        v1::LogInferencesResponse response;
        status = client.LogInferences(requests, &response);
        for (int k = 0; status.ok() && k < count; ++k) {
          w.logs[k].inference_id = response.inference_ids(k);
        }
      }
      w.acked = status.ok();
      Record(ctx, &Ledger::inferences, w);
      if (!status.ok()) return Failed(ctx, count == 1 ? "LogInference" : "LogInferences", status);
    }
    ack();
  }
}

// Runs the four writers until `acks` writes are acknowledged in all, then
// kill -9s the daemon (the writers' calls in flight fail), joins them and
// starts the daemon again. Returns the acknowledgements counted (fewer than
// `acks` only when every writer stopped on an error first).
int WriteAndKill(Daemon& daemon, int acks, const WriterContext& base) {
  std::atomic<bool> killed{false};
  WriterContext ctx = base;
  ctx.killed = &killed;
  KillDuringWritesOptions options;
  options.writers = kWriters;
  options.acks = acks;
  options.timeout = std::chrono::milliseconds(30000);
  options.own_connection = true;
  options.killed = &killed;
  return KillDuringWrites(daemon, options,
                          [&](int w, Client& client, const std::function<void()>& ack) {
                            try {
                              switch (w) {
                                case 0:
                                  WriteAtoms(ctx, client, ack);
                                  break;
                                case 1:
                                  WriteDocuments(ctx, client, ack);
                                  break;
                                case 2:
                                  WriteEmbeddings(ctx, client, ack);
                                  break;
                                default:
                                  WriteModelsAndInferences(ctx, client, ack);
                                  break;
                              }
                            } catch (const std::exception& e) {
                              std::lock_guard lock(*ctx.error_mu);
                              ctx.errors->push_back(std::string("writer threw: ") + e.what());
                            }
                          });
}

// ---- the checks ----

struct Tally {
  uint64_t checked[kKindCount] = {};  // acknowledged writes verified
  uint64_t in_flight = 0;             // unacknowledged writes examined
  uint64_t in_flight_committed = 0;
  uint64_t lost = 0;
  uint64_t half_present = 0;
  uint64_t mismatches = 0;  // CheckConsistency
  uint64_t other = 0;       // failed reads, refcounts, searches, writer errors
  std::vector<std::string> problems;

  void Problem(uint64_t* counter, const std::string& what) {
    ++*counter;
    if (problems.size() < 50) problems.push_back(what);
  }
  uint64_t Failures() const { return lost + half_present + mismatches + other; }
  void AddFailures(const Tally& t) {
    lost += t.lost;
    half_present += t.half_present;
    mismatches += t.mismatches;
    other += t.other;
  }
  void Add(const Tally& t) {
    for (int k = 0; k < kKindCount; ++k) checked[k] += t.checked[k];
    in_flight += t.in_flight;
    in_flight_committed += t.in_flight_committed;
    AddFailures(t);
  }
  // "atoms A documents D embeddings E models M inferences I"
  std::string Checked() const {
    std::string out;
    for (int k = 0; k < kKindCount; ++k) {
      out += std::string(k == 0 ? "" : " ") + kKindNames[k] + " " + std::to_string(checked[k]);
    }
    return out;
  }
  std::string Outcome() const {
    return "lost " + std::to_string(lost) + ", half present " + std::to_string(half_present) +
           ", consistency mismatches " + std::to_string(mismatches) + ", other failures " +
           std::to_string(other);
  }
  void PrintProblems() const {
    for (const auto& p : problems) std::printf("  problem: %s\n", p.c_str());
  }
};

bool NotFound(const grpc::Status& s) { return s.error_code() == grpc::StatusCode::NOT_FOUND; }

std::string StatusText(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message();
}

// Present (with the right content), absent, or a failed read (a problem).
enum class Presence { kPresent, kAbsent, kWrong };

Presence AtomPresence(Client& client, const std::string& content, uint64_t expected_id,
                      Tally* tally) {
  v1::Atom atom;
  const grpc::Status s = client.GetAtomByHash(Sha256Hex(content), true, &atom);
  if (NotFound(s)) return Presence::kAbsent;
  if (!s.ok()) {
    tally->Problem(&tally->other, "GetAtomByHash '" + content + "': " + StatusText(s));
    return Presence::kWrong;
  }
  if (atom.content() != content || !atom.is_active() ||
      (expected_id != 0 && atom.atom_id() != expected_id)) {
    return Presence::kWrong;
  }
  return Presence::kPresent;
}

// Checks one IngestAtoms call; returns whether it is committed.
bool CheckAtoms(Client& client, const AtomWrite& w, Tally* tally) {
  int present = 0;
  for (size_t k = 0; k < w.unique.size(); ++k) {
    const uint64_t id = w.acked ? w.unique_ids[k] : 0;
    const Presence p = AtomPresence(client, w.unique[k], id, tally);
    if (p == Presence::kPresent) ++present;
    if (w.acked && p != Presence::kPresent) {
      tally->Problem(&tally->lost, "acknowledged atom lost or changed: '" + w.unique[k] + "'");
    }
  }
  for (const auto& c : w.shared) {
    if (w.acked && AtomPresence(client, c, 0, tally) != Presence::kPresent) {
      tally->Problem(&tally->lost, "acknowledged shared atom lost: '" + c + "'");
    }
  }
  if (w.acked) {
    ++tally->checked[kAtoms];
    return true;
  }
  ++tally->in_flight;
  const int n = static_cast<int>(w.unique.size());
  if (present != 0 && present != n) {
    tally->Problem(&tally->half_present,
                   "IngestAtoms in flight half present: " + std::to_string(present) + " of " +
                       std::to_string(n) + " atoms, first '" + w.unique[0] + "'");
  }
  if (present == n) ++tally->in_flight_committed;
  return present == n;
}

bool DocumentIntact(Client& client, uint64_t id, const DocumentWrite& w, std::string* why) {
  v1::DocumentDescription description;
  std::string content;
  const grpc::Status s = client.GetDocument(id, false, &description, &content);
  if (!s.ok()) {
    *why = "GetDocument: " + StatusText(s);
    return false;
  }
  if (content != w.content) {
    *why = "content differs (" + std::to_string(content.size()) + " bytes, expected " +
           std::to_string(w.content.size()) + ")";
    return false;
  }
  if (description.root().source_type() != w.source_type) {
    *why = "root source_type '" + description.root().source_type() + "'";
    return false;
  }
  return true;
}

void CheckDocument(Client& client, const DocumentWrite& w, Tally* tally) {
  std::string why;
  if (w.acked) {
    ++tally->checked[kDocuments];
    if (!DocumentIntact(client, w.document_id, w, &why)) {
      tally->Problem(&tally->lost, "acknowledged document " + w.source_type + " (id " +
                                       std::to_string(w.document_id) + "): " + why);
    }
    return;
  }
  ++tally->in_flight;
  // Only the document's root carries its source_type.
  v1::ListAtomsRequest request;
  request.set_source_type(w.source_type);
  std::vector<uint64_t> roots;
  const grpc::Status s = client.ListAtoms(request, [&](const v1::Atom& a) {
    roots.push_back(a.atom_id());
    return true;
  });
  if (!s.ok()) return tally->Problem(&tally->other, "ListAtoms: " + StatusText(s));
  if (roots.empty()) return;
  if (roots.size() != 1 || !DocumentIntact(client, roots[0], w, &why)) {
    return tally->Problem(&tally->half_present,
                          "document in flight half present: " + w.source_type + ": " + why);
  }
  ++tally->in_flight_committed;
}

bool EmbeddingIntact(Client& client, uint64_t atom_id, const std::vector<float>& vector,
                     bool search, Tally* tally, std::string* why) {
  v1::GetEmbeddingsResponse got;
  const grpc::Status s = client.GetEmbeddings(atom_id, kCollection, &got);
  if (!s.ok() && !NotFound(s)) {
    tally->Problem(&tally->other, "GetEmbeddings: " + StatusText(s));
  }
  if (!s.ok() || got.embeddings_size() != 1) {
    *why = "no embedding";
    return false;
  }
  const auto& e = got.embeddings(0);
  if (e.vector_size() != kDimension ||
      !std::equal(vector.begin(), vector.end(), e.vector().begin())) {
    *why = "vector differs";
    return false;
  }
  if (!search) return true;
  v1::SearchRequest request;
  request.set_collection(kCollection);
  for (float x : vector) request.add_vector(x);
  request.set_limit(5);
  v1::SearchResponse response;
  const grpc::Status searched = client.Search(request, &response);
  if (!searched.ok()) {
    *why = "Search: " + StatusText(searched);
    return false;
  }
  for (const auto& r : response.results()) {
    if (r.atom_id() == atom_id && r.distance() <= 1e-6f) return true;
  }
  *why = "not its own nearest neighbour in a search";
  return false;
}

void CheckEmbeddings(Client& client, const EmbeddingWrite& w, Tally* tally) {
  int present = 0;
  std::string why;
  for (size_t k = 0; k < w.atom_ids.size(); ++k) {
    if (EmbeddingIntact(client, w.atom_ids[k], w.vectors[k], w.acked, tally, &why)) {
      ++present;
    } else if (w.acked) {
      tally->Problem(&tally->lost, "acknowledged embedding of atom " +
                                       std::to_string(w.atom_ids[k]) + ": " + why);
    }
  }
  if (w.acked) {
    ++tally->checked[kEmbeddings];
    return;
  }
  ++tally->in_flight;
  const int n = static_cast<int>(w.atom_ids.size());
  if (present != 0 && present != n) {
    tally->Problem(&tally->half_present, "AddEmbeddings in flight half present: " +
                                             std::to_string(present) + " of " + std::to_string(n));
  }
  if (present == n && n > 0) ++tally->in_flight_committed;
}

bool ModelIntact(Client& client, const ModelWrite& w, std::string* why) {
  v1::GetModelRequest get;
  get.set_model_name(w.name);
  v1::Model model;
  const grpc::Status s = client.GetModel(get, &model);
  if (!s.ok()) {
    *why = "GetModel: " + StatusText(s);
    return false;
  }
  if (w.acked && model.model_id() != w.model_id) {
    *why = "model_id " + std::to_string(model.model_id());
    return false;
  }
  v1::ListLayersRequest layers_request;
  layers_request.set_model_name(w.name);
  size_t layers = 0;
  const grpc::Status listed = client.ListLayers(layers_request, [&](const v1::ModelLayer&) {
    ++layers;
    return true;
  });
  if (!listed.ok() || layers != w.layers) {
    *why = "layers " + std::to_string(layers) + " (" + StatusText(listed) + ")";
    return false;
  }
  v1::ExportModelRequest export_request;
  export_request.set_model_name(w.name);
  v1::ExportModelHeader header;
  std::string file;
  const grpc::Status exported =
      client.ExportModel(export_request, &header, [&](std::string_view bytes) {
        file.append(bytes);
        return true;
      });
  if (!exported.ok() || file != w.file) {
    *why = "export differs (" + StatusText(exported) + ")";
    return false;
  }
  return true;
}

void CheckModel(Client& client, const ModelWrite& w, Tally* tally) {
  std::string why;
  if (w.acked) {
    ++tally->checked[kModels];
    if (!ModelIntact(client, w, &why)) {
      tally->Problem(&tally->lost, "acknowledged model " + w.name + ": " + why);
    }
    return;
  }
  ++tally->in_flight;
  v1::GetModelRequest get;
  get.set_model_name(w.name);
  v1::Model model;
  const grpc::Status s = client.GetModel(get, &model);
  if (NotFound(s)) return;
  if (!ModelIntact(client, w, &why)) {
    return tally->Problem(&tally->half_present,
                          "model in flight half present: " + w.name + ": " + why);
  }
  ++tally->in_flight_committed;
}

bool InferenceIntact(const v1::Inference& got, const InferenceWrite& w, const InferenceLog& log,
                     std::string* why) {
  if (got.request_id() != log.request_id || got.task_type() != w.task_type ||
      got.model_id() != w.model_id || got.input_text() != log.input ||
      got.output_text() != log.output) {
    *why = "fields differ: input '" + got.input_text() + "', output '" + got.output_text() + "'";
    return false;
  }
  return true;
}

void CheckInference(Client& client, const InferenceWrite& w, Tally* tally) {
  std::string why;
  if (w.acked) {
    ++tally->checked[kInferences];
    for (const InferenceLog& log : w.logs) {
      v1::Inference got;
      const grpc::Status s = client.GetInference(log.inference_id, &got);
      if (!s.ok()) {
        why = "GetInference: " + StatusText(s);
      } else if (InferenceIntact(got, w, log, &why)) {
        continue;
      }
      tally->Problem(&tally->lost, "acknowledged inference " + log.request_id + ": " + why);
    }
    return;
  }
  ++tally->in_flight;
  v1::ListInferencesRequest request;
  request.set_task_type(w.task_type);
  request.set_include_text(true);
  std::map<std::string, int> found;  // request_id -> rows
  bool intact = true;
  const grpc::Status s = client.ListInferences(request, [&](const v1::Inference& got) {
    for (const InferenceLog& log : w.logs) {
      if (got.request_id() != log.request_id) continue;
      ++found[log.request_id];
      intact = intact && InferenceIntact(got, w, log, &why);
    }
    return true;
  });
  if (!s.ok()) return tally->Problem(&tally->other, "ListInferences: " + StatusText(s));
  if (found.empty()) return;
  bool whole = intact && found.size() == w.logs.size();
  for (const auto& [id, rows] : found) whole = whole && rows == 1;
  if (!whole) {
    return tally->Problem(&tally->half_present,
                          "inference logs in flight half present: " + std::to_string(found.size()) +
                              " of " + std::to_string(w.logs.size()) + ", first " +
                              w.logs[0].request_id + " " + why);
  }
  ++tally->in_flight_committed;
}

// Checks the writes of `iteration` (or of every iteration when it is -1),
// then the shared atoms' reference counts, a search and CheckConsistency.
// A write in flight at a kill is judged once, in its own iteration: its
// verdict (committed or not) is kept for the reference counts.
void CheckAll(Client& client, Ledger& ledger, int iteration, std::map<size_t, bool>* committed,
              Tally* tally) {
  std::lock_guard lock(ledger.mu);
  auto mine = [&](int it) { return iteration < 0 || it == iteration; };
  for (size_t i = 0; i < ledger.atoms.size(); ++i) {
    const AtomWrite& w = ledger.atoms[i];
    if (!mine(w.iteration)) continue;
    if (!w.acked && iteration < 0) continue;  // judged in its iteration
    const bool is_committed = CheckAtoms(client, w, tally);
    if (!w.acked) (*committed)[i] = is_committed;
  }
  for (const auto& w : ledger.documents) {
    if (mine(w.iteration) && (w.acked || iteration >= 0)) CheckDocument(client, w, tally);
  }
  for (const auto& w : ledger.embeddings) {
    // Its atoms were acknowledged before the embeddings were sent.
    if (mine(w.iteration) && (w.acked || iteration >= 0)) CheckEmbeddings(client, w, tally);
  }
  for (const auto& w : ledger.models) {
    if (mine(w.iteration) && (w.acked || iteration >= 0)) CheckModel(client, w, tally);
  }
  for (const auto& w : ledger.inferences) {
    if (mine(w.iteration) && (w.acked || iteration >= 0)) CheckInference(client, w, tally);
  }

  // Shared atoms: exactly one reference per committed occurrence.
  std::map<std::string, int64_t> expected;
  for (size_t i = 0; i < ledger.atoms.size(); ++i) {
    const AtomWrite& w = ledger.atoms[i];
    const bool in = w.acked || (committed->count(i) != 0 && committed->at(i));
    if (!in) continue;
    for (const auto& c : w.shared) ++expected[c];
  }
  for (const auto& [content, refs] : expected) {
    v1::Atom atom;
    const grpc::Status s = client.GetAtomByHash(Sha256Hex(content), false, &atom);
    if (!s.ok()) {
      tally->Problem(&tally->lost, "shared atom '" + content + "': " + StatusText(s));
    } else if (atom.reference_count() != refs) {
      tally->Problem(&tally->other, "shared atom '" + content + "' holds " +
                                        std::to_string(atom.reference_count()) +
                                        " references, committed occurrences " +
                                        std::to_string(refs));
    }
  }

  // A search answers (the collection exists once any embedding committed).
  v1::Collection collection;
  const grpc::Status got = client.GetCollection(kCollection, &collection);
  if (got.ok()) {
    v1::SearchRequest request;
    request.set_collection(kCollection);
    for (int d = 0; d < kDimension; ++d) request.add_vector(0.0f);
    request.set_limit(10);
    v1::SearchResponse response;
    const grpc::Status s = client.Search(request, &response);
    if (!s.ok() || response.results_size() == 0) {
      tally->Problem(&tally->other, "search did not answer: " + StatusText(s));
    }
  } else if (!NotFound(got)) {
    tally->Problem(&tally->other, "GetCollection: " + StatusText(got));
  }

  v1::CheckConsistencyResponse check;
  const grpc::Status s = client.CheckConsistency(false, 20, &check);
  if (!s.ok()) {
    tally->Problem(&tally->other, "CheckConsistency: " + StatusText(s));
  } else if (check.mismatch_count() != 0) {
    tally->mismatches += check.mismatch_count();
    for (const auto& m : check.mismatches()) {
      std::string ids;
      for (uint64_t id : m.ids()) ids += " " + std::to_string(id);
      if (tally->problems.size() < 50) {
        tally->problems.push_back("consistency: " + m.check() + " " + m.kind() + " in " +
                                  m.table() + " ids" + ids + ": expected " + m.expected() +
                                  ", found " + m.found());
      }
    }
  }
}

struct Flags {
  int iterations = 50;
  uint64_t seed = 1;
  int max_acks = 300;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') return false;
    if (a == "--iterations" && n >= 1 && n <= 100000) {
      flags->iterations = static_cast<int>(n);
    } else if (a == "--seed") {
      flags->seed = n;
    } else if (a == "--max-acks" && n >= 1 && n <= 100000) {
      flags->max_acks = static_cast<int>(n);
    } else {
      return false;
    }
  }
  return true;
}

// The daemon's log (all its starts) is removed with it: show its end.
void PrintLogTail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.erase(tail.begin());
  }
  std::printf("last %zu lines of the daemon's log:\n", tail.size());
  for (const auto& line : tail) std::printf("  %s\n", line.c_str());
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr, "usage: crash_loop [--iterations N] [--seed S] [--max-acks K]\n");
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  std::mt19937_64 rng(flags.seed);
  const std::vector<std::string> licenses = LicenseTexts();
  Ledger ledger;
  std::map<size_t, bool> committed;  // in-flight atom batches -> committed
  Tally total;
  uint64_t last_model_id = 0;
  std::mutex error_mu;
  std::vector<std::string> errors;
  std::printf("crash loop: %d iterations, seed %llu, kill after 1..%d acknowledged writes\n",
              flags.iterations, static_cast<unsigned long long>(flags.seed), flags.max_acks);
  try {
    // Periodic snapshots and an early projection fit, so that kills also
    // land during a snapshot save or a refit.
    Daemon daemon(
        Daemon::Options{"", {"--snapshot-interval", "1", "--projection-fit-after", "200"}, {}});
    for (int it = 0; it < flags.iterations; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      const int acks = 1 + static_cast<int>(rng() % static_cast<uint64_t>(flags.max_acks));
      WriterContext ctx{it, &ledger, &licenses, &last_model_id, nullptr, &error_mu, &errors};
      const int counted = WriteAndKill(daemon, acks, ctx);
      Tally tally;
      {
        std::lock_guard lock(error_mu);
        for (const auto& e : errors) tally.Problem(&tally.other, e);
        errors.clear();
      }
      if (counted < acks) {
        tally.Problem(&tally.other, "writers stopped after " + std::to_string(counted) + " of " +
                                        std::to_string(acks) + " acknowledgements");
      }
      CheckAll(daemon.client(), ledger, it, &committed, &tally);
      std::printf(
          "iteration %d: killed after %d acks; checked %s; in flight %llu (%llu committed); %s; "
          "%.2f s\n",
          it + 1, acks, tally.Checked().c_str(), static_cast<unsigned long long>(tally.in_flight),
          static_cast<unsigned long long>(tally.in_flight_committed), tally.Outcome().c_str(),
          Seconds(t0));
      tally.PrintProblems();
      std::fflush(stdout);
      total.Add(tally);
    }
    // Every acknowledged write of every iteration, once more.
    Tally final_tally;
    CheckAll(daemon.client(), ledger, -1, &committed, &final_tally);
    std::printf("final check of every acknowledged write: %s; %s\n", final_tally.Checked().c_str(),
                final_tally.Outcome().c_str());
    final_tally.PrintProblems();
    total.AddFailures(final_tally);
    if (total.Failures() != 0) PrintLogTail(daemon.log_path(), 60);
  } catch (const std::exception& e) {
    std::printf("crash loop aborted: %s\n", e.what());
    return 1;
  }
  std::printf(
      "crash loop result: iterations %d, seed %llu, acknowledged writes checked: %s; in flight "
      "at kills %llu (%llu committed whole, the rest absent); %s; %.1f s\n",
      flags.iterations, static_cast<unsigned long long>(flags.seed), total.Checked().c_str(),
      static_cast<unsigned long long>(total.in_flight),
      static_cast<unsigned long long>(total.in_flight_committed), total.Outcome().c_str(),
      Seconds(started));
  return total.Failures() == 0 ? 0 : 1;
}
