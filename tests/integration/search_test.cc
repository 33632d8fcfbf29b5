// SearchService through the real daemon: collections, embeddings, search
// with filters, bad input, and index persistence across kill -9.
#include <catch2/catch.hpp>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (auto& x : v) x = dist(rng);
  return v;
}

v1::EmbeddingInput Input(uint64_t atom_id, const std::vector<float>& v) {
  v1::EmbeddingInput in;
  in.set_atom_id(atom_id);
  for (float x : v) in.add_vector(x);
  return in;
}

// n atoms "prefix i", subtype "even"/"odd", metadata {"i": i}.
std::vector<uint64_t> MakeAtoms(Client& client, const std::string& prefix, int n) {
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < n; ++i) {
    auto a = TextAtom(prefix + " " + std::to_string(i), i % 2 == 0 ? "even" : "odd");
    a.set_metadata("{\"i\":" + std::to_string(i) + "}");
    atoms.push_back(a);
  }
  v1::IngestAtomsResponse response;
  REQUIRE(client.IngestAtoms(atoms, &response).ok());
  std::vector<uint64_t> ids;
  for (const auto& r : response.results()) ids.push_back(r.atom_id());
  return ids;
}

v1::SearchRequest Query(const std::string& collection, const std::vector<float>& v, uint32_t k) {
  v1::SearchRequest q;
  q.set_collection(collection);
  for (float x : v) q.add_vector(x);
  q.set_limit(k);
  return q;
}

}  // namespace

TEST_CASE("collections, embeddings and filtered search over gRPC", "[search]") {
  Daemon daemon;
  Client& client = daemon.client();
  auto atoms = MakeAtoms(client, "doc", 200);

  v1::CreateCollectionRequest create;
  create.set_name("docs");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_model_id(7);
  create.mutable_spec()->set_dimension(16);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  create.mutable_spec()->mutable_index()->set_m(8);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  CHECK(collection.spec().index().kind() == "hnsw");
  CHECK(collection.spec().index().m() == 8);
  CHECK(collection.spec().index().ef_search() == 64);
  CHECK(client.CreateCollection(create, &collection).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  std::mt19937 rng(1);
  std::map<uint64_t, std::vector<float>> vectors;
  std::vector<v1::EmbeddingInput> inputs;
  for (uint64_t id : atoms) {
    vectors[id] = RandomVector(rng, 16);
    inputs.push_back(Input(id, vectors[id]));
  }
  v1::AddEmbeddingsResponse added;
  // Small messages: the stream carries many of them, still one transaction.
  REQUIRE(client.AddEmbeddings("docs", nullptr, inputs, &added, 1024).ok());
  CHECK(added.embeddings_added() == 200);
  CHECK(added.embedding_ids_size() == 200);

  REQUIRE(client.GetCollection("docs", &collection).ok());
  CHECK(collection.vector_count() == 200);
  CHECK(collection.memory_bytes() > 0);

  v1::GetEmbeddingsResponse got;
  REQUIRE(client.GetEmbeddings(atoms[3], "", &got).ok());
  REQUIRE(got.embeddings_size() == 1);
  CHECK(got.embeddings(0).collection() == "docs");
  CHECK(got.embeddings(0).model_id() == 7);
  CHECK(got.embeddings(0).embedding_type() == "text");
  CHECK(std::vector<float>(got.embeddings(0).vector().begin(), got.embeddings(0).vector().end()) ==
        vectors[atoms[3]]);

  // Each vector finds its own atom first.
  for (int i : {0, 57, 199}) {
    v1::SearchResponse r;
    REQUIRE(client.Search(Query("docs", vectors[atoms[i]], 3), &r).ok());
    REQUIRE(r.results_size() == 3);
    CHECK(r.results(0).atom_id() == atoms[i]);
    CHECK(r.results(0).distance() == Approx(0).margin(1e-4));
    CHECK(r.path() == v1::SEARCH_PATH_ANN);
    // The index is asked for the k nearest only (ef 64 still searched).
    CHECK(r.candidates_examined() == 3);
  }
  // Filtered and exact: every result is odd and the answer is the exact one.
  auto q = Query("docs", RandomVector(rng, 16), 10);
  q.mutable_filter()->set_subtype("odd");
  q.mutable_params()->set_exact(true);
  q.set_with_canonical_text(true);
  v1::SearchResponse r;
  REQUIRE(client.Search(q, &r).ok());
  CHECK(r.path() == v1::SEARCH_PATH_EXACT_FILTERED);
  REQUIRE(r.results_size() == 10);
  std::vector<std::pair<double, uint64_t>> expected;
  for (size_t i = 1; i < atoms.size(); i += 2) {
    double d = 0;
    for (int j = 0; j < 16; ++j) d += std::pow(double(q.vector(j)) - vectors[atoms[i]][j], 2);
    expected.emplace_back(d, atoms[i]);
  }
  std::sort(expected.begin(), expected.end());
  for (int i = 0; i < 10; ++i) {
    CHECK(r.results(i).atom_id() == expected[i].second);
    CHECK(r.results(i).canonical_text().rfind("doc ", 0) == 0);
  }
  // Metadata equality narrows to one atom.
  auto one = Query("docs", RandomVector(rng, 16), 5);
  (*one.mutable_filter()->mutable_metadata_equals())["i"] = "42";
  REQUIRE(client.Search(one, &r).ok());
  REQUIRE(r.results_size() == 1);
  CHECK(r.results(0).atom_id() == atoms[42]);

  // BatchSearch answers in order; search by atom leaves the atom out.
  v1::BatchSearchRequest batch;
  *batch.add_searches() = Query("docs", vectors[atoms[5]], 1);
  v1::SearchRequest by_atom;
  by_atom.set_collection("docs");
  by_atom.set_atom_id(atoms[5]);
  by_atom.set_limit(4);
  *batch.add_searches() = by_atom;
  v1::BatchSearchResponse br;
  REQUIRE(client.BatchSearch(batch, &br).ok());
  REQUIRE(br.results_size() == 2);
  CHECK(br.results(0).results(0).atom_id() == atoms[5]);
  REQUIRE(br.results(1).results_size() == 4);
  for (const auto& hit : br.results(1).results()) CHECK(hit.atom_id() != atoms[5]);
  *batch.add_searches() = Query("missing", vectors[atoms[5]], 1);
  grpc::Status batch_error = client.BatchSearch(batch, &br);
  CHECK(batch_error.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(batch_error.error_message() == "searches[2].collection: no collection named 'missing'");

  // Deleting the atom takes its embedding out of search.
  v1::Atom deleted;
  REQUIRE(client.DeleteAtom(atoms[57], &deleted).ok());
  REQUIRE(client.Search(Query("docs", vectors[atoms[57]], 3), &r).ok());
  for (const auto& hit : r.results()) CHECK(hit.atom_id() != atoms[57]);
  REQUIRE(client.GetEmbeddings(atoms[57], "", &got).ok());
  CHECK(got.embeddings_size() == 0);

  v1::ListCollectionsResponse list;
  REQUIRE(client.ListCollections(&list).ok());
  REQUIRE(list.collections_size() == 1);
  CHECK(list.collections(0).vector_count() == 199);
  REQUIRE(client.DeleteCollection("docs").ok());
  CHECK(client.GetCollection("docs", &collection).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a batch answers what its searches answer one by one, with scan helpers", "[search]") {
  Daemon::Options options;
  // One helper thread beside the caller, whatever the machine's cores.
  options.extra_args = {"--scan-threads", "2"};
  Daemon daemon(options);
  Client& client = daemon.client();
  auto atoms = MakeAtoms(client, "batch", 1000);
  v1::CreateCollectionRequest create;
  create.set_name("batch");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_dimension(32);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  std::mt19937 rng(5);
  std::vector<v1::EmbeddingInput> inputs;
  for (uint64_t id : atoms) inputs.push_back(Input(id, RandomVector(rng, 32)));
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("batch", nullptr, inputs, &added).ok());

  // Approximate, exact, filtered and by-atom searches, mixed.
  v1::BatchSearchRequest batch;
  for (int i = 0; i < 300; ++i) {
    auto q = Query("batch", RandomVector(rng, 32), 1 + i % 12);
    if (i % 5 == 1) q.mutable_params()->set_exact(true);
    if (i % 7 == 2) {
      // Exact: a filter's path also depends on what earlier searches
      // learned of it, which the batch and the searches after it see
      // differently.
      q.mutable_filter()->set_subtype("odd");
      q.mutable_params()->set_exact(true);
    }
    if (i % 11 == 3) {
      q.clear_vector();
      q.set_atom_id(atoms[static_cast<size_t>(i)]);
    }
    *batch.add_searches() = q;
  }
  v1::BatchSearchResponse br;
  REQUIRE(client.BatchSearch(batch, &br).ok());
  REQUIRE(br.results_size() == batch.searches_size());
  for (int i = 0; i < batch.searches_size(); ++i) {
    v1::SearchResponse one;
    REQUIRE(client.Search(batch.searches(i), &one).ok());
    INFO("search " << i);
    CHECK(br.results(i).path() == one.path());
    REQUIRE(br.results(i).results_size() == one.results_size());
    CHECK(one.results_size() == static_cast<int>(batch.searches(i).limit()));
    for (int j = 0; j < one.results_size(); ++j) {
      CHECK(br.results(i).results(j).atom_id() == one.results(j).atom_id());
      CHECK(br.results(i).results(j).distance() == one.results(j).distance());
    }
  }

  // The first failing search is the one named, though later ones fail too
  // and searches after it ran.
  *batch.mutable_searches(150) = Query("missing", RandomVector(rng, 32), 3);
  *batch.mutable_searches(40) = Query("batch", RandomVector(rng, 31), 3);
  grpc::Status error = client.BatchSearch(batch, &br);
  CHECK(error.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(error.error_message(), Catch::StartsWith("searches[40].vector: "));
  *batch.mutable_searches(40) = Query("batch", RandomVector(rng, 32), 3);
  error = client.BatchSearch(batch, &br);
  CHECK(error.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(error.error_message() == "searches[150].collection: no collection named 'missing'");
}

TEST_CASE("bad vector input is refused with the field named and nothing stored", "[search]") {
  Daemon daemon({"", {"--max-search-k", "50"}});
  Client& client = daemon.client();
  auto atoms = MakeAtoms(client, "x", 2);
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("c", nullptr, {Input(atoms[0], {1, 2, 3, 4})}, &added).ok());
  CHECK(added.collection_created());

  struct Case {
    std::vector<v1::EmbeddingInput> inputs;
    grpc::StatusCode code;
    std::string message_part;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  v1::EmbeddingInput bad_padding = Input(atoms[1], std::vector<float>(1998, 0.0f));
  bad_padding.set_uses_max_dimension_padding(true);
  bad_padding.set_dimension(4);
  bad_padding.set_vector(1000, 1.0f);
  std::vector<Case> cases = {
      {{Input(atoms[1], {1, nan, 3, 4})},
       grpc::StatusCode::INVALID_ARGUMENT,
       "embeddings[0].vector[1]: must be finite, got NaN"},
      {{Input(atoms[1], {1, 2, 3, 4}), Input(atoms[1], {inf, 2, 3, 4})},
       grpc::StatusCode::INVALID_ARGUMENT,
       "embeddings[1].vector[0]: must be finite, got Inf"},
      {{Input(atoms[1], {1, 2, 3})},
       grpc::StatusCode::INVALID_ARGUMENT,
       "embeddings[0].vector: 3 components but collection 'c' has dimension 4"},
      {{Input(999999, {1, 2, 3, 4})},
       grpc::StatusCode::NOT_FOUND,
       "embeddings[0].atom_id: atom 999999 does not exist"},
      {{Input(atoms[1], std::vector<float>(16385, 1.0f))},
       grpc::StatusCode::INVALID_ARGUMENT,
       "embeddings[0].vector: at most 16384"},
      {{bad_padding},
       grpc::StatusCode::INVALID_ARGUMENT,
       "embeddings[0].vector[1000]: padding beyond dimension 4 must be 0"},
  };
  for (const auto& c : cases) {
    INFO(c.message_part);
    grpc::Status s = client.AddEmbeddings("c", nullptr, c.inputs, &added);
    CHECK(s.error_code() == c.code);
    CHECK(s.error_message().find(c.message_part) != std::string::npos);
  }
  v1::Collection collection;
  REQUIRE(client.GetCollection("c", &collection).ok());
  CHECK(collection.vector_count() == 1);
  v1::GetEmbeddingsResponse got;
  REQUIRE(client.GetEmbeddings(atoms[1], "", &got).ok());
  CHECK(got.embeddings_size() == 0);

  // Padded to 1998 with the real dimension: accepted and stored unpadded.
  v1::EmbeddingInput padded = Input(atoms[1], std::vector<float>(1998, 0.0f));
  padded.set_uses_max_dimension_padding(true);
  padded.set_dimension(4);
  for (int i = 0; i < 4; ++i) padded.set_vector(i, float(i + 1));
  REQUIRE(client.AddEmbeddings("c", nullptr, {padded}, &added).ok());
  REQUIRE(client.GetEmbeddings(atoms[1], "c", &got).ok());
  REQUIRE(got.embeddings_size() == 1);
  CHECK(got.embeddings(0).vector_size() == 4);
  CHECK(got.embeddings(0).uses_max_dimension_padding());

  // Metric / kind mismatch against the existing collection.
  v1::CollectionSpec l2;
  l2.set_metric(v1::METRIC_L2);
  l2.set_embedding_type("c");
  grpc::Status s = client.AddEmbeddings("c", &l2, {Input(atoms[0], {1, 2, 3, 4})}, &added);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("create.metric") != std::string::npos);

  struct SearchCase {
    v1::SearchRequest request;
    grpc::StatusCode code;
    std::string message_part;
  };
  auto k0 = Query("c", {1, 2, 3, 4}, 0);
  auto k51 = Query("c", {1, 2, 3, 4}, 51);
  auto unknown = Query("nope", {1, 2, 3, 4}, 5);
  auto wrong_dim = Query("c", {1, 2, 3}, 5);
  auto nan_query = Query("c", {1, nan, 3, 4}, 5);
  auto neither = Query("c", {}, 5);
  std::vector<SearchCase> search_cases = {
      {k0, grpc::StatusCode::INVALID_ARGUMENT, "limit: must be in [1, 50], got 0"},
      {k51, grpc::StatusCode::INVALID_ARGUMENT, "limit: must be in [1, 50], got 51"},
      {unknown, grpc::StatusCode::NOT_FOUND, "collection: no collection named 'nope'"},
      {wrong_dim, grpc::StatusCode::INVALID_ARGUMENT,
       "vector: 3 components but collection 'c' has dimension 4"},
      {nan_query, grpc::StatusCode::INVALID_ARGUMENT, "vector[1]: must be finite"},
      {neither, grpc::StatusCode::INVALID_ARGUMENT, "vector/atom_id: exactly one is required"},
  };
  for (const auto& c : search_cases) {
    INFO(c.message_part);
    v1::SearchResponse r;
    grpc::Status st = client.Search(c.request, &r);
    CHECK(st.error_code() == c.code);
    CHECK(st.error_message().find(c.message_part) != std::string::npos);
  }
  v1::CreateCollectionRequest create;
  create.set_name("bad");
  create.mutable_spec()->set_embedding_type("t");
  create.mutable_spec()->set_dimension(4);
  create.mutable_spec()->mutable_index()->set_kind("ivf");
  s = client.CreateCollection(create, &collection);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message().find("index.kind: unknown kind 'ivf'") != std::string::npos);
  create.mutable_spec()->set_dimension(0);
  s = client.CreateCollection(create, &collection);
  CHECK(s.error_message().find("spec.dimension: must be in [1, 16384], got 0") !=
        std::string::npos);
}

TEST_CASE("acknowledged vectors survive kill -9, deleted ones stay deleted",
          "[search][durability]") {
  Daemon daemon({"", {"--snapshot-interval", "0"}});
  Client& client = daemon.client();
  auto atoms = MakeAtoms(client, "p", 400);
  v1::CollectionSpec spec;
  spec.set_embedding_type("p");
  spec.set_dimension(12);
  spec.set_metric(v1::METRIC_COSINE);
  std::mt19937 rng(3);
  std::map<uint64_t, std::vector<float>> live;
  auto add = [&](size_t from, size_t to) {
    std::vector<v1::EmbeddingInput> inputs;
    for (size_t i = from; i < to; ++i) {
      live[atoms[i]] = RandomVector(rng, 12);
      inputs.push_back(Input(atoms[i], live[atoms[i]]));
    }
    v1::AddEmbeddingsResponse r;
    REQUIRE(client.AddEmbeddings("p", &spec, inputs, &r).ok());
  };
  for (size_t i = 0; i < 200; i += 50) add(i, i + 50);
  v1::Collection snap;
  REQUIRE(client.SnapshotIndex("p", &snap).ok());
  CHECK(snap.snapshot().changes_since_snapshot() == 0);
  for (size_t i = 200; i < 400; i += 50) add(i, i + 50);
  std::set<uint64_t> deleted;
  for (size_t i = 0; i < 400; i += 10) {
    REQUIRE(client.DeleteEmbedding("p", atoms[i]).ok());
    deleted.insert(atoms[i]);
    live.erase(atoms[i]);
  }

  daemon.Kill9();
  daemon.Start();
  Client& after = daemon.client();
  v1::Collection collection;
  REQUIRE(after.GetCollection("p", &collection).ok());
  CHECK(collection.snapshot().loaded_from_snapshot());
  CHECK(collection.snapshot().watermark() == snap.snapshot().watermark());
  CHECK(collection.snapshot().replayed_at_start() == 180);  // rows 200..399 minus 20 deleted
  CHECK(collection.snapshot().removed_at_start() == 20);  // rows 0..199 deleted after the snapshot
  CHECK(collection.vector_count() == live.size());
  for (const auto& [atom, v] : live) {
    auto q = Query("p", v, 1);
    q.mutable_params()->set_exact(true);
    v1::SearchResponse r;
    REQUIRE(after.Search(q, &r).ok());
    REQUIRE(r.results_size() == 1);
    REQUIRE(r.results(0).atom_id() == atom);
  }
  for (int i = 0; i < 20; ++i) {
    v1::SearchResponse r;
    REQUIRE(after.Search(Query("p", RandomVector(rng, 12), 50), &r).ok());
    CHECK(r.results_size() == 50);
    for (const auto& hit : r.results()) REQUIRE(deleted.count(hit.atom_id()) == 0);
  }
  // A clean stop snapshots: the next start replays nothing.
  CHECK(daemon.Stop() == 0);
  daemon.Start();
  REQUIRE(daemon.client().GetCollection("p", &collection).ok());
  CHECK(collection.snapshot().loaded_from_snapshot());
  CHECK(collection.snapshot().replayed_at_start() == 0);
  CHECK(collection.vector_count() == live.size());
}

TEST_CASE("vectors acknowledged while the daemon is killed mid-write are all searchable",
          "[search][durability]") {
  Daemon daemon({"", {"--snapshot-interval", "1"}});
  auto atoms = MakeAtoms(daemon.client(), "k", 3000);
  v1::CollectionSpec spec;
  spec.set_embedding_type("k");
  spec.set_dimension(8);
  spec.set_metric(v1::METRIC_L2);
  constexpr int kWriters = 3;
  constexpr int kAcksBeforeKill = 40;
  std::mutex mu;
  std::map<uint64_t, std::vector<float>> acked;  // atom -> its acknowledged vector
  KillDuringWrites(daemon, kWriters, kAcksBeforeKill, [&](int w, Client& client, auto& ack) {
    std::mt19937 rng(w);
    // Writer w owns atoms w, w + kWriters, ...; batches of 10.
    for (size_t i = w; i + 10 * kWriters <= atoms.size(); i += 10 * kWriters) {
      std::vector<v1::EmbeddingInput> inputs;
      std::vector<std::pair<uint64_t, std::vector<float>>> sent;
      for (size_t j = 0; j < 10; ++j) {
        const uint64_t atom = atoms[i + j * kWriters];
        sent.emplace_back(atom, RandomVector(rng, 8));
        inputs.push_back(Input(atom, sent.back().second));
      }
      v1::AddEmbeddingsResponse r;
      if (!client.AddEmbeddings("k", &spec, inputs, &r).ok()) return;  // killed
      {
        std::lock_guard lock(mu);
        for (auto& [atom, v] : sent) acked[atom] = v;
      }
      ack();
    }
  });
  v1::Collection collection;
  REQUIRE(daemon.client().GetCollection("k", &collection).ok());
  // At least every acknowledged vector (a batch committed but not yet
  // acknowledged when the daemon died may be there too).
  CHECK(collection.vector_count() >= acked.size());
  for (const auto& [atom, v] : acked) {
    auto q = Query("k", v, 1);
    q.mutable_params()->set_exact(true);
    v1::SearchResponse r;
    REQUIRE(daemon.client().Search(q, &r).ok());
    REQUIRE(r.results_size() == 1);
    REQUIRE(r.results(0).atom_id() == atom);
    REQUIRE(r.results(0).distance() == 0.0f);
  }
}

namespace {

// The kernels hartonomousd picks on this CPU when nothing overrides it.
std::string BestKernels() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("fma")) {
    return "avx512";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "baseline";
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Sets an environment variable for the daemons started in its lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// The nearest atoms to q in order, exact search.
std::vector<uint64_t> ExactNearest(Client& client, const std::vector<float>& q) {
  auto req = Query("k", q, 5);
  req.mutable_params()->set_exact(true);
  v1::SearchResponse resp;
  REQUIRE(client.Search(req, &resp).ok());
  std::vector<uint64_t> out;
  for (const auto& r : resp.results()) out.push_back(r.atom_id());
  return out;
}

}  // namespace

TEST_CASE("GetStats and the start-up log name the distance kernels chosen for the CPU",
          "[search]") {
  std::mt19937 rng(41);
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(RandomVector(rng, 37));  // an odd dimension
  const auto q = RandomVector(rng, 37);
  auto load = [&](Daemon& daemon) {
    const auto atoms = MakeAtoms(daemon.client(), "kernel", 40);
    v1::CreateCollectionRequest create;
    create.set_name("k");
    create.mutable_spec()->set_embedding_type("text");
    create.mutable_spec()->set_dimension(37);
    create.mutable_spec()->set_metric(v1::METRIC_L2);
    v1::Collection collection;
    REQUIRE(daemon.client().CreateCollection(create, &collection).ok());
    std::vector<v1::EmbeddingInput> inputs;
    for (int i = 0; i < 40; ++i) inputs.push_back(Input(atoms[i], rows[i]));
    v1::AddEmbeddingsResponse added;
    REQUIRE(daemon.client().AddEmbeddings("k", nullptr, inputs, &added).ok());
    // Compared by row: the two daemons number their atoms independently.
    std::map<uint64_t, int> row_of;
    for (int i = 0; i < 40; ++i) row_of[atoms[i]] = i;
    std::vector<int> order;
    for (uint64_t atom : ExactNearest(daemon.client(), q)) order.push_back(row_of.at(atom));
    return order;
  };

  Daemon best;
  v1::ServerStats stats;
  REQUIRE(best.client().GetServerStats(&stats).ok());
  CHECK(stats.distance_kernels() == BestKernels());
  CHECK(FileText(best.log_path()).find("vector distance kernels: " + BestKernels()) !=
        std::string::npos);
  const std::vector<int> best_order = load(best);
  REQUIRE(best_order.size() == 5);

  ScopedEnv env("HARTONOMOUS_KERNELS", "baseline");
  Daemon baseline;
  REQUIRE(baseline.client().GetServerStats(&stats).ok());
  CHECK(stats.distance_kernels() == "baseline");
  CHECK(FileText(baseline.log_path()).find("vector distance kernels: baseline") !=
        std::string::npos);
  // The same neighbours, in the same order, whichever kernels computed them.
  CHECK(load(baseline) == best_order);
}

namespace {

// The exact nearest atom to v and its distance, or 0 when none.
std::pair<uint64_t, float> ExactFirst(Client& client, const std::string& collection,
                                      const std::vector<float>& v) {
  auto q = Query(collection, v, 1);
  q.mutable_params()->set_exact(true);
  v1::SearchResponse r;
  REQUIRE(client.Search(q, &r).ok());
  if (r.results_size() == 0) return {0, 0};
  return {r.results(0).atom_id(), r.results(0).distance()};
}

}  // namespace

TEST_CASE("batches linked in parallel are searchable when acknowledged, under searches and deletes",
          "[search][parallel]") {
  Daemon daemon;
  constexpr int kBatches = 8, kBatch = 300, kDim = 16;
  auto atoms = MakeAtoms(daemon.client(), "par", kBatches * kBatch);
  v1::CollectionSpec spec;
  spec.set_embedding_type("par");
  spec.set_dimension(kDim);
  spec.set_metric(v1::METRIC_L2);
  std::mt19937 rng(5);
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < atoms.size(); ++i) vectors.push_back(RandomVector(rng, kDim));

  std::mutex mu;
  std::condition_variable cv;
  int batches_acked = 0;  // guarded by mu
  std::atomic<bool> adding{true};
  std::atomic<int> bad_searches{0}, failed_searches{0}, bad_deletes{0};
  std::set<uint64_t> deleted;  // written by the deleter only, read after the joins

  // Searchers: well-formed answers (k hits, nearest first) while batches go in.
  std::vector<std::thread> searchers;
  for (int s = 0; s < 2; ++s) {
    searchers.emplace_back([&, s] {
      ClientOptions options;
      options.target = daemon.address();
      Client client(options);
      std::mt19937 qrng(100 + s);
      while (adding) {
        v1::SearchResponse r;
        if (!client.Search(Query("par", RandomVector(qrng, kDim), 10), &r).ok()) {
          ++failed_searches;  // NOT_FOUND until the first batch creates the collection
          continue;
        }
        for (int i = 1; i < r.results_size(); ++i) {
          if (r.results(i).distance() < r.results(i - 1).distance()) ++bad_searches;
        }
      }
    });
  }
  // Deleter: every 7th atom of each acknowledged batch, each gone when acknowledged.
  // (Catch assertions are for the test's own thread: the others count.)
  std::thread deleter([&] {
    ClientOptions options;
    options.target = daemon.address();
    Client client(options);
    for (int b = 0; b < kBatches; ++b) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return batches_acked > b; });
      }
      for (int i = b * kBatch; i < (b + 1) * kBatch; i += 7) {
        if (!client.DeleteEmbedding("par", atoms[i]).ok()) {
          ++bad_deletes;
          continue;
        }
        deleted.insert(atoms[i]);
        auto q = Query("par", vectors[i], 1);
        q.mutable_params()->set_exact(true);
        v1::SearchResponse r;
        if (!client.Search(q, &r).ok() || r.results_size() != 1 ||
            r.results(0).atom_id() == atoms[i]) {
          ++bad_deletes;
        }
      }
    }
  });
  Client& client = daemon.client();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<v1::EmbeddingInput> inputs;
    for (int i = b * kBatch; i < (b + 1) * kBatch; ++i)
      inputs.push_back(Input(atoms[i], vectors[i]));
    v1::AddEmbeddingsResponse added;
    REQUIRE(client.AddEmbeddings("par", &spec, inputs, &added).ok());
    REQUIRE(added.embeddings_added() == kBatch);
    // Acknowledged: every vector of the batch is in the index.
    for (int i = b * kBatch; i < (b + 1) * kBatch; i += 13) {
      const auto [atom, distance] = ExactFirst(client, "par", vectors[i]);
      REQUIRE(atom == atoms[i]);
      REQUIRE(distance == 0.0f);
    }
    {
      std::lock_guard lock(mu);
      ++batches_acked;
    }
    cv.notify_all();
  }
  deleter.join();
  adding = false;
  for (auto& t : searchers) t.join();
  CHECK(bad_searches == 0);
  CHECK(bad_deletes == 0);
  CHECK(deleted.size() == size_t{kBatches} * ((kBatch + 6) / 7));
  v1::Collection collection;
  REQUIRE(client.GetCollection("par", &collection).ok());
  CHECK(collection.vector_count() == atoms.size() - deleted.size());
  for (size_t i = 0; i < atoms.size(); i += 11) {
    const auto [atom, distance] = ExactFirst(client, "par", vectors[i]);
    if (deleted.count(atoms[i])) {
      CHECK(atom != atoms[i]);
    } else {
      CHECK(atom == atoms[i]);
      CHECK(distance == 0.0f);
    }
  }
  // The ANN index agrees: each live vector finds itself.
  int found = 0, live = 0;
  for (size_t i = 0; i < atoms.size(); i += 17) {
    if (deleted.count(atoms[i])) continue;
    ++live;
    v1::SearchResponse r;
    REQUIRE(client.Search(Query("par", vectors[i], 1), &r).ok());
    found += r.results_size() == 1 && r.results(0).atom_id() == atoms[i];
  }
  CHECK(found >= live * 95 / 100);
}

TEST_CASE("a collection reopened after kill -9 during parallel inserts matches its stored rows",
          "[search][durability][parallel]") {
  Daemon daemon;
  constexpr int kWriters = 2, kBatch = 400, kDim = 16;
  auto atoms = MakeAtoms(daemon.client(), "kp", 12000);
  v1::CollectionSpec spec;
  spec.set_embedding_type("kp");
  spec.set_dimension(kDim);
  spec.set_metric(v1::METRIC_L2);
  std::mutex mu;
  std::map<uint64_t, std::vector<float>> acked;
  KillDuringWrites(daemon, kWriters, 4, [&](int w, Client& client, auto& ack) {
    std::mt19937 rng(w + 1);
    // Writer w owns the atoms w, w + kWriters, ...
    for (size_t first = w; first + kBatch * kWriters <= atoms.size(); first += kBatch * kWriters) {
      std::vector<v1::EmbeddingInput> inputs;
      std::vector<std::pair<uint64_t, std::vector<float>>> sent;
      for (int j = 0; j < kBatch; ++j) {
        const uint64_t atom = atoms[first + j * kWriters];
        sent.emplace_back(atom, RandomVector(rng, kDim));
        inputs.push_back(Input(atom, sent.back().second));
      }
      v1::AddEmbeddingsResponse r;
      if (!client.AddEmbeddings("kp", &spec, inputs, &r).ok()) return;  // killed
      {
        std::lock_guard lock(mu);
        for (auto& [atom, v] : sent) acked[atom] = v;
      }
      ack();
    }
  });
  Client& client = daemon.client();
  // The stored rows: every atom's embedding in LMDB, acknowledged or not.
  size_t stored = 0;
  for (uint64_t atom : atoms) {
    v1::GetEmbeddingsResponse got;
    REQUIRE(client.GetEmbeddings(atom, "kp", &got).ok());
    if (got.embeddings_size() == 0) {
      REQUIRE(acked.count(atom) == 0);
      continue;
    }
    REQUIRE(got.embeddings_size() == 1);
    ++stored;
    const std::vector<float> v(got.embeddings(0).vector().begin(),
                               got.embeddings(0).vector().end());
    if (acked.count(atom)) REQUIRE(v == acked.at(atom));
    if (stored % 7 == 0) {  // every 7th stored row, found exactly
      const auto [nearest, distance] = ExactFirst(client, "kp", v);
      REQUIRE(nearest == atom);
      REQUIRE(distance == 0.0f);
    }
  }
  CHECK(stored >= acked.size());
  v1::Collection collection;
  REQUIRE(client.GetCollection("kp", &collection).ok());
  CHECK(collection.vector_count() == stored);
}
