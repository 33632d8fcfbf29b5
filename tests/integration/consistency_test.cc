// AdminService.CheckConsistency against the real hartonomousd: a data dir
// filled through every kind of reference holder checks clean; a data dir
// corrupted in LMDB itself (daemon stopped) reports each corruption with its
// ids, repair fixes the index-only ones and leaves the others reported; the
// CLI's `check` exit status and JSON; a bad limit.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "stopped_store.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/relation_table.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

uint64_t Ingest(Client& client, const std::string& text) {
  v1::IngestAtomResponse response;
  const grpc::Status status = client.IngestAtom(TextAtom(text), &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.atom_id();
}

void Relate(Client& client, uint64_t source, uint64_t target, const std::string& type) {
  v1::AddRelationsRequest request;
  auto* r = request.add_relations();
  r->set_source_atom_id(source);
  r->set_target_atom_id(target);
  r->set_relation_type(type);
  v1::AddRelationsResponse response;
  const grpc::Status status = client.AddRelations(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

uint64_t LogText(Client& client, const std::string& input, const std::string& output) {
  v1::LogInferenceRequest request;
  request.set_input_text(input);
  request.set_output_text(output);
  request.set_duration_ms(12.5);
  v1::LogInferenceResponse response;
  const grpc::Status status = client.LogInference(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response.inference_id();
}

// Ids of what Populate stored, for the corruptions.
struct Stored {
  uint64_t plain = 0;   // a client's atom, nothing else holds it
  uint64_t source = 0;  // source of a 'contains' and a 'related' edge
  uint64_t contained = 0;
  uint64_t related = 0;
  uint64_t prompt = 0;  // input text of two inference logs
};

// Atoms, a document (with a source), relations, a collection with
// embeddings (and their projected points), an imported model and inference
// logs.
Stored Populate(Client& client) {
  Stored s;
  s.plain = Ingest(client, "a plain atom nothing else holds");
  s.source = Ingest(client, "the source of two edges");
  s.contained = Ingest(client, "an atom a contains edge holds");
  s.related = Ingest(client, "an atom a related edge points at");
  Relate(client, s.source, s.contained, "contains");
  Relate(client, s.source, s.related, "related");

  v1::IngestDocumentResponse doc;
  REQUIRE(client
              .IngestDocument(DocumentHeader("text", "test://consistency/doc"),
                              "First sentence here. Second sentence there.\n\n"
                              "Another paragraph. With two sentences.\n",
                              &doc)
              .ok());

  v1::CollectionSpec spec;
  spec.set_embedding_type("text");
  spec.set_dimension(4);
  std::vector<v1::EmbeddingInput> inputs;
  const std::vector<uint64_t> embedded{s.plain, s.source, s.contained, s.related,
                                       doc.document_id()};
  for (size_t i = 0; i < embedded.size(); ++i) {
    v1::EmbeddingInput in;
    in.set_atom_id(embedded[i]);
    for (int d = 0; d < 4; ++d) in.add_vector(static_cast<float>(i + 1) * 0.25f + d);
    inputs.push_back(in);
  }
  v1::AddEmbeddingsResponse added;
  const grpc::Status emb = client.AddEmbeddings("vecs", &spec, inputs, &added);
  INFO(emb.error_message());
  REQUIRE(emb.ok());

  // Two tensors: one of random values, one of equal 4 KiB chunks (one atom
  // that four rows hold).
  std::mt19937 rng(7);
  std::string random(4 * 64 * 64, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  const std::string repeated(4 * 64 * 64, '\x11');
  auto file = engine::models::WriteSafetensors(
      {{"a.weight", "F32", {64, 64}}, {"b.weight", "F32", {64, 64}}},
      {std::string_view(random), std::string_view(repeated)}, {});
  REQUIRE(file.ok());
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name("tiny");
  start.set_chunk_bytes(4096);
  v1::ImportModelResponse imported;
  grpc::ClientContext context;
  const grpc::Status imp = client.ImportModel(&context, start, *file, &imported);
  INFO(imp.error_message());
  REQUIRE(imp.ok());

  LogText(client, "a prompt logged twice", "an answer");
  LogText(client, "a prompt logged twice", "another answer");
  v1::IngestAtomResponse found;
  REQUIRE(client.IngestAtom(TextAtom("a prompt logged twice"), &found).ok());
  s.prompt = found.atom_id();
  // That ingest took a client reference; give it back so that the two logs
  // are the prompt's only holders.
  v1::Atom released;
  REQUIRE(client.ReleaseAtom(s.prompt, &released).ok());
  REQUIRE(released.reference_count() == 2);
  return s;
}

v1::CheckConsistencyResponse Check(Client& client, bool repair = false, int32_t limit = 0) {
  v1::CheckConsistencyResponse response;
  const grpc::Status status = client.CheckConsistency(repair, limit, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

std::string Dump(const v1::CheckConsistencyResponse& r) {
  std::string out;
  for (const auto& m : r.mismatches()) {
    out += m.check() + " " + m.kind() + " [" + m.table() + "]";
    for (uint64_t id : m.ids()) out += " " + std::to_string(id);
    out += ": expected " + m.expected() + "; found " + m.found() +
           (m.repaired() ? " (repaired)" : "") + "\n";
  }
  return out;
}

const v1::ConsistencyMismatch* Find(const v1::CheckConsistencyResponse& r, const std::string& kind,
                                    const std::vector<uint64_t>& ids) {
  for (const auto& m : r.mismatches()) {
    if (m.kind() == kind && std::vector<uint64_t>(m.ids().begin(), m.ids().end()) == ids) {
      return &m;
    }
  }
  return nullptr;
}

// Opens the stopped daemon's LMDB and runs fn in one write transaction.
void Corrupt(const std::string& dir,
             const std::function<void(storage::WriteTxn&, const storage::Tables&)>& fn) {
  const StoppedStore store = OpenStopped(dir);
  storage::WriteTxn txn(*store.env, nullptr);
  REQUIRE(txn.status().ok());
  fn(txn, store.tables);
  REQUIRE(txn.Commit().ok());
}

}  // namespace

TEST_CASE("integration.CheckConsistency finds nothing wrong in a data dir every holder wrote",
          "[consistency]") {
  Daemon daemon;
  Populate(daemon.client());
  const auto report = Check(daemon.client());
  INFO(Dump(report));
  CHECK(report.mismatch_count() == 0);
  CHECK(report.remaining_count() == 0);
  CHECK(report.mismatches_size() == 0);
  CHECK_FALSE(report.truncated());
  REQUIRE(report.checks_size() == 9);
  for (const auto& c : report.checks()) {
    INFO(c.check());
    CHECK(c.checked() > 0);
    CHECK(c.mismatches() == 0);
  }
  // After a restart (indexes loaded from snapshots) it is still clean.
  daemon.Stop();
  daemon.Start();
  const auto again = Check(daemon.client());
  INFO(Dump(again));
  CHECK(again.mismatch_count() == 0);

  // The CLI: the summary, exit 0; --json parses.
  const ProcessResult text = Cli(daemon, {"check"});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("reference_counts") != std::string::npos);
  CHECK(text.out.find("0 mismatches, 0 repaired, 0 remaining") != std::string::npos);
  const nlohmann::json json = JsonOf(Cli(daemon, {"--json", "check"}));
  CHECK(json["mismatch_count"] == 0);
  CHECK(json["checks"].size() == 9);
  CHECK(json["checks"][0]["check"] == "reference_counts");
  CHECK(json["checks"][0]["checked"].get<uint64_t>() > 0);
}

TEST_CASE(
    "integration.CheckConsistency reports corruptions with their ids and repairs the "
    "index-only ones",
    "[consistency]") {
  Daemon daemon;
  const Stored s = Populate(daemon.client());
  REQUIRE(daemon.Stop() == 0);
  constexpr uint64_t kMissingAtom = 987654321;
  constexpr uint64_t kOrphanOrdinal = 77;
  uint64_t related_ordinal = 0;
  Corrupt(daemon.data_dir(), [&](storage::WriteTxn& txn, const storage::Tables& tables) {
    storage::AtomTable atoms(tables);
    storage::RelationTable relations(tables);
    // 1. A wrong reference count: the prompt two logs hold says 1 (its
    //    indexes follow the record, so only the count is wrong).
    auto prompt = atoms.Get(txn, s.prompt);
    REQUIRE(prompt.ok());
    REQUIRE(prompt->has_value());
    REQUIRE((*prompt)->reference_count() == 2);
    storage::AtomRecord after = **prompt;
    after.set_reference_count(1);
    REQUIRE(atoms.Update(txn, **prompt, after).ok());
    REQUIRE(atoms.FlushCounters(txn).ok());
    // 2. A missing hash index entry for the plain atom.
    auto plain = atoms.Get(txn, s.plain);
    REQUIRE(plain.ok());
    REQUIRE(plain->has_value());
    auto deleted = txn.Del(tables.atom_hash, (*plain)->content_hash().substr(0, 8));
    REQUIRE(deleted.ok());
    REQUIRE(*deleted);
    // 3. A forward edge without its reverse row.
    REQUIRE(relations
                .Scan(txn, storage::Direction::kChildren, s.source, "related", "",
                      [&](const storage::Edge& e, std::string_view) {
                        related_ordinal = e.ordinal;
                        return false;
                      })
                .ok());
    auto reverse = txn.Del(
        tables.atom_relations_reverse,
        storage::RelationTable::ReverseKey(s.source, "related", related_ordinal, s.related));
    REQUIRE(reverse.ok());
    REQUIRE(*reverse);
    // 4. An edge whose target does not exist.
    storage::Edge orphan;
    orphan.source = s.source;
    orphan.target = kMissingAtom;
    orphan.type = "related";
    orphan.ordinal = kOrphanOrdinal;
    REQUIRE(relations.Put(txn, orphan).ok());
  });
  daemon.Start();

  const auto report = Check(daemon.client());
  INFO(Dump(report));
  CHECK(report.mismatch_count() == 4);
  CHECK(report.repaired_count() == 0);
  const auto* refcount = Find(report, "refcount_mismatch", {s.prompt});
  REQUIRE(refcount != nullptr);
  CHECK(refcount->check() == "reference_counts");
  CHECK(refcount->expected().find("at least 2") == 0);
  CHECK(refcount->found() == "1");
  const auto* hash = Find(report, "missing_index_entry", {s.plain});
  REQUIRE(hash != nullptr);
  CHECK(hash->check() == "hash_index");
  CHECK(hash->table() == "atom_hash");
  const auto* reverse =
      Find(report, "missing_reverse_edge", {s.source, s.related, related_ordinal});
  REQUIRE(reverse != nullptr);
  CHECK(reverse->check() == "relations");
  const auto* orphan = Find(report, "orphan_relation", {s.source, kMissingAtom, kOrphanOrdinal});
  REQUIRE(orphan != nullptr);
  CHECK(orphan->table() == "atom_relations");

  // The limit caps the entries, not the count.
  const auto capped = Check(daemon.client(), false, 1);
  CHECK(capped.mismatches_size() == 1);
  CHECK(capped.mismatch_count() == 4);
  CHECK(capped.truncated());

  // The CLI exits non-zero while mismatches remain.
  const ProcessResult text = Cli(daemon, {"check"});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("missing_index_entry") != std::string::npos);
  const ProcessResult json_run = Cli(daemon, {"--json", "check"});
  CHECK(json_run.exit_code == 1);
  const nlohmann::json json = nlohmann::json::parse(json_run.out);
  CHECK(json["mismatch_count"] == 4);
  CHECK(json["remaining_count"] == 4);

  // Repair fixes the hash index and the reverse row, nothing else.
  const auto repaired = Check(daemon.client(), true);
  INFO(Dump(repaired));
  CHECK(repaired.mismatch_count() == 4);
  CHECK(repaired.repaired_count() == 2);
  CHECK(repaired.remaining_count() == 2);
  const auto* fixed_hash = Find(repaired, "missing_index_entry", {s.plain});
  REQUIRE(fixed_hash != nullptr);
  CHECK(fixed_hash->repaired());
  const auto* fixed_reverse =
      Find(repaired, "missing_reverse_edge", {s.source, s.related, related_ordinal});
  REQUIRE(fixed_reverse != nullptr);
  CHECK(fixed_reverse->repaired());
  const auto* kept_refcount = Find(repaired, "refcount_mismatch", {s.prompt});
  REQUIRE(kept_refcount != nullptr);
  CHECK_FALSE(kept_refcount->repaired());

  const auto after = Check(daemon.client());
  INFO(Dump(after));
  CHECK(after.mismatch_count() == 2);
  CHECK(Find(after, "refcount_mismatch", {s.prompt}) != nullptr);
  CHECK(Find(after, "orphan_relation", {s.source, kMissingAtom, kOrphanOrdinal}) != nullptr);
  // The repaired index answers again: the plain atom is found by its hash.
  v1::IngestAtomResponse again;
  REQUIRE(daemon.client().IngestAtom(TextAtom("a plain atom nothing else holds"), &again).ok());
  CHECK(again.atom_id() == s.plain);
  CHECK_FALSE(again.created());
  CHECK(Cli(daemon, {"check", "--repair"}).exit_code == 1);
}

TEST_CASE("integration.CheckConsistency rejects a limit out of range", "[consistency]") {
  Daemon daemon;
  for (int32_t limit : {-1, 10001}) {
    v1::CheckConsistencyResponse response;
    const grpc::Status status = daemon.client().CheckConsistency(false, limit, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().find("limit: must be in [0, 10000]") != std::string::npos);
  }
  CHECK(Check(daemon.client(), false, 10000).mismatch_count() == 0);
  const ProcessResult cli = Cli(daemon, {"check", "--limit", "20000"});
  CHECK(cli.exit_code == 1);
  CHECK(cli.err.find("limit: must be in [0, 10000]") != std::string::npos);
}
