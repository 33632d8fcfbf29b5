// Online backup (AdminService.Backup, `hartonomous backup`) and restore by
// starting a daemon on the backup: under concurrent writes the backup is one
// consistent state; taken at rest it equals the source table by table and
// answers the same searches; a restore loads the index snapshots instead of
// rebuilding.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

constexpr int kDim = 8;

v1::EmbeddingInput Vector(uint64_t atom_id, std::mt19937& rng) {
  std::normal_distribution<float> dist;
  v1::EmbeddingInput input;
  input.set_atom_id(atom_id);
  for (int d = 0; d < kDim; ++d) input.add_vector(dist(rng));
  return input;
}

// n text atoms "prefix i", each with a vector in collection "b".
void AddAtomsWithVectors(Client& client, const std::string& prefix, int n, std::mt19937& rng) {
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < n; ++i) atoms.push_back(TextAtom(prefix + " " + std::to_string(i)));
  v1::IngestAtomsResponse ingested;
  REQUIRE(client.IngestAtoms(atoms, &ingested).ok());
  std::vector<v1::EmbeddingInput> inputs;
  for (const auto& r : ingested.results()) inputs.push_back(Vector(r.atom_id(), rng));
  v1::CollectionSpec spec;
  spec.set_embedding_type("text");
  spec.set_dimension(kDim);
  spec.set_metric(v1::METRIC_L2);
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("b", &spec, inputs, &added).ok());
}

std::map<std::string, uint64_t> TableEntries(Client& client) {
  v1::ServerStats stats;
  REQUIRE(client.GetServerStats(&stats).ok());
  std::map<std::string, uint64_t> out;
  for (const auto& t : stats.tables()) out[t.name()] = t.entries();
  return out;
}

std::map<uint64_t, std::string> AtomHashes(Client& client) {
  std::map<uint64_t, std::string> out;
  REQUIRE(client
              .ListAtoms(v1::ListAtomsRequest(),
                         [&](const v1::Atom& atom) {
                           out[atom.atom_id()] = atom.content_hash();
                           return true;
                         })
              .ok());
  return out;
}

std::vector<std::pair<uint64_t, float>> Search(Client& client, const v1::EmbeddingInput& query,
                                               bool exact) {
  v1::SearchRequest request;
  request.set_collection("b");
  for (float x : query.vector()) request.add_vector(x);
  request.set_limit(10);
  request.mutable_params()->set_exact(exact);
  v1::SearchResponse response;
  REQUIRE(client.Search(request, &response).ok());
  std::vector<std::pair<uint64_t, float>> hits;
  for (const auto& r : response.results()) hits.emplace_back(r.atom_id(), r.distance());
  return hits;
}

uint64_t VectorCount(Client& client) {
  v1::Collection collection;
  REQUIRE(client.GetCollection("b", &collection).ok());
  return collection.vector_count();
}

}  // namespace

TEST_CASE("a backup at rest restores every table and the same searches without a rebuild",
          "[backup]") {
  Daemon source(Daemon::Options{"", {"--snapshot-interval", "0"}});
  std::mt19937 rng(11);
  AddAtomsWithVectors(source.client(), "rest", 400, rng);
  v1::IngestAtomResponse again;  // a deduplicated reference too
  REQUIRE(source.client().IngestAtom(TextAtom("rest 7"), &again).ok());
  TempDir dir;
  const std::string path = dir.path() + "/backup";
  const ProcessResult made = Cli(source, {"--json", "backup", path});
  const auto report = JsonOf(made);
  CHECK(report["path"] == path);
  CHECK(report["data_file_bytes"].get<uint64_t>() > 0);
  CHECK(report["index_files"].get<uint64_t>() >= 1);
  CHECK(std::filesystem::exists(path + "/data.mdb"));

  Daemon restored(Daemon::Options{path, {}});
  const auto source_tables = TableEntries(source.client());
  const auto restored_tables = TableEntries(restored.client());
  REQUIRE(source_tables.size() == restored_tables.size());
  for (const auto& [table, entries] : source_tables) {
    INFO(table);
    CHECK(restored_tables.at(table) == entries);
  }
  CHECK(AtomHashes(restored.client()) == AtomHashes(source.client()));
  v1::DedupStats source_dedup, restored_dedup;
  REQUIRE(source.client().GetDedupStats(0, &source_dedup).ok());
  REQUIRE(restored.client().GetDedupStats(0, &restored_dedup).ok());
  CHECK(restored_dedup.total().SerializeAsString() == source_dedup.total().SerializeAsString());
  // The snapshot was loaded: nothing replayed, the same index, the same
  // approximate (and exact) results.
  v1::ServerStats stats;
  REQUIRE(restored.client().GetServerStats(&stats).ok());
  CHECK(stats.vectors_replayed_at_start() == 0);
  CHECK(VectorCount(restored.client()) == 400);
  for (int q = 0; q < 5; ++q) {
    const auto query = Vector(0, rng);
    CHECK(Search(restored.client(), query, false) == Search(source.client(), query, false));
    CHECK(Search(restored.client(), query, true) == Search(source.client(), query, true));
  }
}

TEST_CASE("a backup under concurrent writes is one consistent state", "[backup]") {
  Daemon source(Daemon::Options{"", {"--snapshot-interval", "0"}});
  std::mt19937 rng(5);
  AddAtomsWithVectors(source.client(), "base", 300, rng);
  std::atomic<int> writes{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    Client client(ClientOptions{source.address()});
    std::mt19937 wrng(9);
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      v1::IngestAtomResponse atom;
      if (!client.IngestAtom(TextAtom("during " + std::to_string(i)), &atom).ok()) break;
      v1::AddEmbeddingsResponse added;
      if (!client.AddEmbeddings("b", nullptr, {Vector(atom.atom_id(), wrng)}, &added).ok()) break;
      ++writes;
    }
  });
  while (writes.load() < 20) std::this_thread::yield();
  TempDir dir;
  const std::string path = dir.path() + "/backup";
  v1::BackupResponse backup;
  const grpc::Status backed_up = source.client().Backup(path, &backup);
  const int at_backup = writes.load();
  while (writes.load() < at_backup + 20) std::this_thread::yield();
  stop = true;
  writer.join();
  REQUIRE(backed_up.ok());

  Daemon restored(Daemon::Options{path, {}});
  const auto source_atoms = AtomHashes(source.client());
  const auto restored_atoms = AtomHashes(restored.client());
  // A prefix of the source's history: every restored atom is the source's,
  // ids 1..n without a gap, and the writes after the backup are missing.
  REQUIRE(restored_atoms.size() >= 300);
  CHECK(restored_atoms.size() < source_atoms.size());
  CHECK(restored_atoms.rbegin()->first == restored_atoms.size());
  for (const auto& [id, hash] : restored_atoms) {
    INFO(id);
    REQUIRE(source_atoms.count(id) == 1);
    CHECK(source_atoms.at(id) == hash);
  }
  // The index agrees with the embeddings table of the copy, and the
  // snapshot was loaded: at most the writes during the backup replayed.
  const auto tables = TableEntries(restored.client());
  CHECK(VectorCount(restored.client()) == tables.at("embeddings_by_seq"));
  v1::ServerStats stats;
  REQUIRE(restored.client().GetServerStats(&stats).ok());
  CHECK(stats.vectors_replayed_at_start() < 300);
  for (int q = 0; q < 3; ++q) {
    const auto query = Vector(0, rng);
    const auto exact = Search(restored.client(), query, true);
    CHECK(exact.size() == 10);
    for (const auto& [id, distance] : exact) CHECK(restored_atoms.count(id) == 1);
  }
}

TEST_CASE("backup refuses a path that is relative or exists, naming it", "[backup]") {
  Daemon daemon;
  v1::BackupResponse response;
  grpc::Status relative = daemon.client().Backup("relative/dir", &response);
  CHECK(relative.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(relative.error_message(), Catch::StartsWith("path: must be an absolute"));
  TempDir dir;
  grpc::Status exists = daemon.client().Backup(dir.path(), &response);
  CHECK(exists.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(exists.error_message(), Catch::Contains("already exists"));
  grpc::Status orphan = daemon.client().Backup(dir.path() + "/no/such/parent", &response);
  CHECK(orphan.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(orphan.error_message(), Catch::Contains("parent directory"));
}

}  // namespace hartonomous::testing
