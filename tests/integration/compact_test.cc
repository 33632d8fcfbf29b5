// AdminService.Compact against a real daemon: the data file shrinks after
// deletes and purges and everything else reads back byte for byte; freed
// pages are reused before the file grows; nothing acknowledged is lost when
// clients write and read during a compaction, nor on a kill -9 right after
// one; HNSW searches keep working after the swap; a second Compact while
// one runs is FAILED_PRECONDITION; too little disk for the copy is
// RESOURCE_EXHAUSTED and changes nothing.
//
// Tests that need a compaction to be running start the daemon with
// --testing-hold-compaction-until FILE: the compaction then waits on the
// writer thread until the test creates FILE.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"
#include "tmpfs_mount.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

v1::IngestAtomRequest BlobAtom(const std::string& content) {
  v1::IngestAtomRequest r;
  r.set_content(content);
  r.set_modality("tensor");
  r.set_source_type("test");
  return r;
}

// About `bytes` of text in paragraphs of sentences, different for each seed.
std::string DocText(uint32_t seed, size_t bytes) {
  static const char* const kWords[] = {"atom",  "page",  "tree",   "disk",  "copy",  "swap",
                                       "free",  "list",  "writer", "read",  "index", "vector",
                                       "space", "bytes", "commit", "merge", "graph", "node"};
  std::mt19937 rng(seed);
  std::string text;
  int sentence = 0;
  while (text.size() < bytes) {
    text += "Sentence " + std::to_string(seed) + "." + std::to_string(sentence++);
    for (int w = 0; w < 12; ++w) {
      text += ' ';
      text += kWords[rng() % 18];
      text += std::to_string(rng() % 1000);
    }
    text += sentence % 5 == 0 ? ".\n\n" : ". ";
  }
  return text;
}

uint64_t DataFileBytes(const Daemon& daemon) {
  return std::filesystem::file_size(std::filesystem::path(daemon.data_dir()) / "data.mdb");
}

v1::ServerStats Stats(Client& client) {
  v1::ServerStats stats;
  REQUIRE(client.GetServerStats(&stats).ok());
  return stats;
}

// Waits until GetStats reports a compaction running (the test holds it).
void WaitUntilCompacting(Client& client) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Stats(client).compacting()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll interval
  }
}

// Waits until the daemon's log contains text.
void WaitForLog(const Daemon& daemon, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadFile(daemon.log_path()).find(text) == std::string::npos) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll interval
  }
}

void Touch(const std::string& path) { std::ofstream(path) << "go"; }

// A count that threads raise and the test waits on.
class Counter {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  uint64_t value() {
    std::lock_guard lock(mu_);
    return n_;
  }
  void WaitFor(uint64_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return n_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t n_ = 0;
};

void RequireAtom(Client& client, uint64_t id, const std::string& content) {
  v1::Atom atom;
  grpc::Status s = client.GetAtom(id, true, &atom);
  INFO("atom " << id << ": " << s.error_message());
  REQUIRE(s.ok());
  REQUIRE(atom.content() == content);
}

void RequireDocument(Client& client, uint64_t id, const std::string& text) {
  v1::DocumentDescription description;
  std::string back;
  grpc::Status s = client.GetDocument(id, false, &description, &back);
  INFO("document " << id << ": " << s.error_message());
  REQUIRE(s.ok());
  REQUIRE(back == text);
}

// A data set to delete half of: atoms and text documents.
struct Corpus {
  std::map<uint64_t, std::string> atoms, documents;  // id -> content
  std::map<uint64_t, std::string> deleted_atoms, deleted_documents;

  void Ingest(Client& client, int atoms_n, size_t atom_bytes, int documents_n) {
    for (int i = 0; i < atoms_n; ++i) {
      const std::string content = BinaryContent(atom_bytes, 1000 + static_cast<uint32_t>(i));
      v1::IngestAtomResponse r;
      REQUIRE(client.IngestAtom(BlobAtom(content), &r).ok());
      atoms[r.atom_id()] = content;
    }
    for (int d = 0; d < documents_n; ++d) {
      const std::string text = DocText(static_cast<uint32_t>(d), 20000);
      v1::IngestDocumentRequest header = DocumentHeader("text");
      header.set_source_uri("test://doc/" + std::to_string(d));
      v1::IngestDocumentResponse r;
      REQUIRE(client.IngestDocument(header, text, &r).ok());
      documents[r.document_id()] = text;
    }
  }

  // Deletes every other atom and document.
  void DeleteHalf(Client& client) {
    bool odd = false;
    for (auto it = atoms.begin(); it != atoms.end(); odd = !odd) {
      if (!odd) {
        ++it;
        continue;
      }
      v1::Atom atom;
      REQUIRE(client.DeleteAtom(it->first, &atom).ok());
      deleted_atoms.insert(*it);
      it = atoms.erase(it);
    }
    odd = false;
    for (auto it = documents.begin(); it != documents.end(); odd = !odd) {
      if (!odd) {
        ++it;
        continue;
      }
      v1::DeleteDocumentResponse r;
      REQUIRE(client.DeleteDocument(it->first, &r).ok());
      deleted_documents.insert(*it);
      it = documents.erase(it);
    }
  }

  // Deleted atoms must be gone when purged, else inactive.
  void RequireIntact(Client& client, bool purged = true) const {
    for (const auto& [id, content] : atoms) RequireAtom(client, id, content);
    for (const auto& [id, text] : documents) RequireDocument(client, id, text);
    for (const auto& [id, content] : deleted_atoms) {
      v1::Atom atom;
      const grpc::Status s = client.GetAtomByHash(Sha256Hex(content), false, &atom);
      if (purged) {
        CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
      } else {
        CHECK((s.ok() && !atom.is_active()));
      }
    }
    for (const auto& [id, text] : deleted_documents) {
      v1::DocumentDescription description;
      std::string back;
      CHECK_FALSE(client.GetDocument(id, false, &description, &back).ok());
    }
  }
};

}  // namespace

TEST_CASE("Compact after deleting and purging shrinks data.mdb and everything else reads back",
          "[compact]") {
  Daemon daemon;
  Client& client = daemon.client();
  Corpus corpus;
  corpus.Ingest(client, 300, 20000, 20);
  corpus.DeleteHalf(client);

  v1::CompactResponse compacted;
  grpc::Status status = client.Compact(true, &compacted);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(compacted.atoms_purged() >= 150);
  CHECK(compacted.file_bytes_after() == DataFileBytes(daemon));
  // Half of the atoms' 6 MB and half of the documents went: the file loses
  // well over a third.
  CHECK(compacted.file_bytes_after() < compacted.file_bytes_before() * 2 / 3);
  corpus.RequireIntact(client);

  const v1::ServerStats stats = Stats(client);
  CHECK_FALSE(stats.compacting());
  CHECK(stats.compactions() == 1);
  const std::string log = ReadFile(daemon.log_path());
  CHECK(log.find("compaction started (purging inactive atoms first)") != std::string::npos);
  CHECK(log.find("compaction finished in") != std::string::npos);

  // Writes go on in the compacted file.
  v1::IngestAtomResponse r;
  REQUIRE(client.IngestAtom(BlobAtom("after compaction"), &r).ok());
  RequireAtom(client, r.atom_id(), "after compaction");
}

namespace {

// Ingests n atoms of `bytes` each (seeds from seed), `per_call` per
// IngestAtoms call (one commit each); returns id -> content.
std::map<uint64_t, std::string> IngestBlobs(Client& client, int n, size_t bytes, int per_call,
                                            uint32_t seed) {
  std::map<uint64_t, std::string> out;
  for (int i = 0; i < n; i += per_call) {
    std::vector<v1::IngestAtomRequest> batch;
    for (int k = i; k < std::min(n, i + per_call); ++k) {
      batch.push_back(BlobAtom(BinaryContent(bytes, seed + static_cast<uint32_t>(k))));
    }
    v1::IngestAtomsResponse r;
    REQUIRE(client.IngestAtoms(batch, &r).ok());
    for (int k = 0; k < r.results_size(); ++k) out[r.results(k).atom_id()] = batch[k].content();
  }
  return out;
}

// Ingests, deletes and purges everything, ingests the same amount of other
// content; returns data_file_bytes after the first ingest and the second.
std::pair<uint64_t, uint64_t> ReuseRound(Client& client, int n, size_t bytes, int per_call) {
  const auto first = IngestBlobs(client, n, bytes, per_call, 1);
  const uint64_t full = Stats(client).data_file_bytes();
  for (const auto& [id, content] : first) {
    v1::Atom atom;
    REQUIRE(client.DeleteAtom(id, &atom).ok());
  }
  v1::PurgeInactiveResponse purge;
  REQUIRE(client.PurgeInactive(0, &purge).ok());
  REQUIRE(purge.atoms_purged() == static_cast<uint64_t>(n));
  // The purged atoms' pages are on LMDB's freelist.
  CHECK(Stats(client).free_bytes() >= n * bytes);
  const auto second = IngestBlobs(client, n, bytes, per_call, 100000);
  for (const auto& [id, content] : second) RequireAtom(client, id, content);
  return {full, Stats(client).data_file_bytes()};
}

}  // namespace

TEST_CASE("compact repacks payload blocks that are mostly dead and keeps every live atom",
          "[compact]") {
  Daemon daemon;
  Client& client = daemon.client();
  // 600 atoms of 2,000 bytes, 100 per stream: about 32 per 64 KiB block.
  const auto atoms = IngestBlobs(client, 600, 2000, 100, 7);
  // Three of every four go, so every block is mostly dead.
  std::map<uint64_t, std::string> kept;
  int i = 0;
  for (const auto& [id, content] : atoms) {
    if (i++ % 4 == 0) {
      kept[id] = content;
      continue;
    }
    v1::Atom atom;
    REQUIRE(client.DeleteAtom(id, &atom).ok());
  }
  v1::CompactResponse compacted;
  REQUIRE(client.Compact(true, &compacted).ok());
  CHECK(compacted.atoms_purged() == atoms.size() - kept.size());
  CHECK(compacted.blocks_repacked() >= 18);  // 600 atoms fill at least 19 blocks
  CHECK(compacted.block_bytes_dropped() == (atoms.size() - kept.size()) * 2000);
  for (const auto& [id, content] : kept) RequireAtom(client, id, content);
  // Nothing is left to repack.
  REQUIRE(client.Compact(false, &compacted).ok());
  CHECK(compacted.blocks_repacked() == 0);
  for (const auto& [id, content] : kept) RequireAtom(client, id, content);
}

// Without reuse the file would double in each case.
TEST_CASE("pages freed by delete and purge are reused: the same amount again barely grows the file",
          "[compact]") {
  SECTION("atoms packed into payload blocks: at most a quarter more") {
    // 6 MB of 3,000-byte atoms, 100 per commit, so about 21 atoms per 64 KiB
    // payload block (incompressible: 16 contiguous pages each). A block is
    // freed with its last member. LMDB reuses a commit's freed pages only
    // from the second commit after it, the freelist takes pages of its own,
    // and a block needs a contiguous run (measured: about 15% more). A
    // quarter still tells reuse from none (2x).
    Daemon daemon;
    const auto [full, again] = ReuseRound(daemon.client(), 2000, 3000, 100);
    INFO("first " << full << " bytes, after purge and the same amount again " << again);
    CHECK(again <= full + full / 4);
  }
  SECTION("100 KB atoms on overflow pages, one per commit: at most half more") {
    // A large value needs a run of 25 contiguous free pages; each commit
    // also takes single pages for the B-tree paths it copies, which LMDB
    // may cut out of freed runs, so some values go to the end of the file
    // (measured: about a quarter more). Half more still tells reuse (1x
    // plus fragmentation) from none (2x).
    Daemon daemon;
    const auto [full, again] = ReuseRound(daemon.client(), 100, 100000, 1);
    INFO("first " << full << " bytes, after purge and the same amount again " << again);
    CHECK(again <= full + full / 2);
  }
}

TEST_CASE("compaction under concurrent reads and writes loses nothing", "[compact][durability]") {
  TempDir hold_dir;
  const std::string release = hold_dir.path() + "/release";
  Daemon daemon({.data_dir = "", .extra_args = {"--testing-hold-compaction-until", release}});
  Client& client = daemon.client();
  Corpus corpus;
  corpus.Ingest(client, 200, 5000, 4);
  corpus.DeleteHalf(client);

  constexpr int kWriters = 3, kReaders = 2;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // every acknowledged write
  std::vector<std::string> failures;
  Counter writes, reads;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      ClientOptions options;
      options.target = daemon.address();
      options.timeout = std::chrono::milliseconds(60000);
      Client own(options);
      for (int i = 0; !stop; ++i) {
        const std::string content = "writer " + std::to_string(w) + " atom " + std::to_string(i) +
                                    " " +
                                    BinaryContent(2000, static_cast<uint32_t>(w * 100000 + i));
        v1::IngestAtomResponse r;
        grpc::Status s = own.IngestAtom(BlobAtom(content), &r);
        std::lock_guard lock(mu);
        if (!s.ok()) {
          failures.push_back("write: " + s.error_message());
          return;
        }
        acked[r.atom_id()] = content;
        writes.Add();
      }
    });
  }
  const std::vector<std::pair<uint64_t, std::string>> readable(corpus.atoms.begin(),
                                                               corpus.atoms.end());
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      ClientOptions options;
      options.target = daemon.address();
      options.timeout = std::chrono::milliseconds(60000);
      Client own(options);
      for (size_t i = static_cast<size_t>(r); !stop; ++i) {
        const auto& [id, content] = readable[i % readable.size()];
        v1::Atom atom;
        grpc::Status s = own.GetAtom(id, true, &atom);
        if (!s.ok() || atom.content() != content) {
          std::lock_guard lock(mu);
          failures.push_back("read of atom " + std::to_string(id) + ": " +
                             (s.ok() ? "wrong content" : s.error_message()));
          return;
        }
        reads.Add();
      }
    });
  }

  writes.WaitFor(100);
  v1::CompactResponse compacted;
  grpc::Status compact_status;
  std::thread compactor([&] { compact_status = client.Compact(true, &compacted); });
  WaitUntilCompacting(client);
  WaitForLog(daemon, "compaction held until");
  // Held on the writer thread, before the copy: reads are still answered.
  const uint64_t reads_during = reads.value();
  reads.WaitFor(reads_during + 200);
  Touch(release);
  compactor.join();
  INFO(compact_status.error_message());
  REQUIRE(compact_status.ok());
  CHECK(compacted.atoms_purged() >= 100);
  // Writes go on after the swap.
  const uint64_t writes_after = writes.value();
  writes.WaitFor(writes_after + 100);
  stop = true;
  for (auto& t : threads) t.join();

  {
    std::lock_guard lock(mu);
    for (const auto& failure : failures) FAIL_CHECK(failure);
  }
  REQUIRE(acked.size() >= 200);
  for (const auto& [id, content] : acked) RequireAtom(client, id, content);
  corpus.RequireIntact(client);
  CHECK(Stats(client).compactions() == 1);
}

TEST_CASE("everything acknowledged survives a kill -9 right after Compact returns",
          "[compact][durability]") {
  Daemon daemon;
  Corpus corpus;
  corpus.Ingest(daemon.client(), 200, 10000, 10);
  corpus.DeleteHalf(daemon.client());
  v1::CompactResponse compacted;
  REQUIRE(daemon.client().Compact(true, &compacted).ok());
  daemon.Kill9();
  daemon.Start();
  CHECK(DataFileBytes(daemon) < compacted.file_bytes_before());
  corpus.RequireIntact(daemon.client());
  CHECK_FALSE(
      std::filesystem::exists(std::filesystem::path(daemon.data_dir()) / "data.mdb.compacting"));
  v1::IngestAtomResponse r;
  REQUIRE(daemon.client().IngestAtom(BlobAtom("after restart"), &r).ok());
  RequireAtom(daemon.client(), r.atom_id(), "after restart");
}

TEST_CASE("HNSW searches keep working after the swap, for old and new vectors",
          "[compact][search]") {
  Daemon daemon;
  Client& client = daemon.client();
  v1::CreateCollectionRequest create;
  create.set_name("c");
  create.mutable_spec()->set_embedding_type("test");
  create.mutable_spec()->set_model_id(1);
  create.mutable_spec()->set_dimension(8);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  REQUIRE(collection.spec().index().kind() == "hnsw");

  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::map<uint64_t, std::vector<float>> vectors;
  auto add = [&](int first, int n) {
    std::vector<v1::EmbeddingInput> inputs;
    for (int i = first; i < first + n; ++i) {
      v1::IngestAtomResponse r;
      REQUIRE(client.IngestAtom(BlobAtom("vector atom " + std::to_string(i)), &r).ok());
      v1::EmbeddingInput in;
      in.set_atom_id(r.atom_id());
      for (int d = 0; d < 8; ++d) in.add_vector(normal(rng));
      vectors[r.atom_id()].assign(in.vector().begin(), in.vector().end());
      inputs.push_back(in);
    }
    v1::AddEmbeddingsResponse added;
    REQUIRE(client.AddEmbeddings("c", nullptr, inputs, &added).ok());
  };
  auto nearest = [&](const std::vector<float>& v) {
    v1::SearchRequest q;
    q.set_collection("c");
    for (float x : v) q.add_vector(x);
    q.set_limit(1);
    v1::SearchResponse response;
    REQUIRE(client.Search(q, &response).ok());
    REQUIRE(response.results_size() == 1);
    return response.results(0).atom_id();
  };
  add(0, 200);
  // Atoms (and their embeddings) deleted and purged: pages to give back.
  std::vector<uint64_t> gone;
  for (auto it = vectors.begin(); gone.size() < 50; ++it) gone.push_back(it->first);
  for (uint64_t id : gone) {
    v1::Atom atom;
    REQUIRE(client.DeleteAtom(id, &atom).ok());
  }
  v1::CompactResponse compacted;
  REQUIRE(client.Compact(true, &compacted).ok());
  CHECK(compacted.atoms_purged() == 50);
  for (uint64_t id : gone) vectors.erase(id);
  for (const auto& [id, v] : vectors) REQUIRE(nearest(v) == id);
  add(1000, 50);  // written into the compacted file and indexed
  for (const auto& [id, v] : vectors) REQUIRE(nearest(v) == id);
  REQUIRE(client.GetCollection("c", &collection).ok());
  CHECK(collection.vector_count() == 200);
}

TEST_CASE("a second Compact while one runs is FAILED_PRECONDITION", "[compact]") {
  TempDir hold_dir;
  const std::string release = hold_dir.path() + "/release";
  Daemon daemon({.data_dir = "", .extra_args = {"--testing-hold-compaction-until", release}});
  Client& client = daemon.client();
  Corpus corpus;
  corpus.Ingest(client, 20, 1000, 1);
  v1::CompactResponse first;
  grpc::Status first_status;
  std::thread running([&] { first_status = client.Compact(false, &first); });
  WaitUntilCompacting(client);
  v1::CompactResponse second;
  grpc::Status refused = client.Compact(false, &second);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message().find("already running") != std::string::npos);
  Touch(release);
  running.join();
  INFO(first_status.error_message());
  REQUIRE(first_status.ok());
  const v1::ServerStats stats = Stats(client);
  CHECK(stats.compactions() == 1);
  CHECK_FALSE(stats.compacting());
  corpus.RequireIntact(client);
}

TEST_CASE("Compact without room for the copy is RESOURCE_EXHAUSTED and changes nothing",
          "[compact][disk]") {
  TmpfsMount fs("size=40m");
  const std::string data_dir = fs.path() + "/data";
  Daemon daemon({.data_dir = data_dir, .extra_args = {"--initial-map-bytes", "1M"}});
  Client& client = daemon.client();
  Corpus corpus;
  corpus.Ingest(client, 60, 200000, 0);  // 12 MB
  corpus.DeleteHalf(client);
  const std::string filler = fs.path() + "/filler";
  FillUntil(filler, uint64_t{2} << 20);
  const uint64_t before = DataFileBytes(daemon);

  v1::CompactResponse compacted;
  grpc::Status refused = client.Compact(false, &compacted);
  INFO(refused.error_message());
  CHECK(CodeName(refused.error_code()) == "RESOURCE_EXHAUSTED");
  CHECK(refused.error_message().find(data_dir) != std::string::npos);
  CHECK(refused.error_message().find("bytes free") != std::string::npos);
  CHECK(DataFileBytes(daemon) == before);
  CHECK_FALSE(std::filesystem::exists(data_dir + "/data.mdb.compacting"));
  CHECK_FALSE(Stats(client).compacting());
  corpus.RequireIntact(client, /*purged=*/false);

  // With room, the same call succeeds.
  REQUIRE(std::remove(filler.c_str()) == 0);
  grpc::Status ok = client.Compact(true, &compacted);
  INFO(ok.error_message());
  REQUIRE(ok.ok());
  CHECK(compacted.file_bytes_after() < before);
  corpus.RequireIntact(client);
}

TEST_CASE("hartonomous compact reports the sizes, in text and JSON", "[compact][cli]") {
  Daemon daemon;
  Corpus corpus;
  corpus.Ingest(daemon.client(), 40, 10000, 0);
  corpus.DeleteHalf(daemon.client());
  ProcessResult text = Cli(daemon, {"compact", "--purge-inactive"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("compacted data.mdb from ") != std::string::npos);
  CHECK(text.out.find("(purged 20 inactive atoms first)") != std::string::npos);
  nlohmann::json json = JsonOf(Cli(daemon, {"--json", "compact"}));
  CHECK(json["file_bytes_after"].get<uint64_t>() == DataFileBytes(daemon));
  CHECK(json["atoms_purged"] == 0);
  CHECK(json["tables_repacked"] == true);
  CHECK(text.out.find("not repacked") == std::string::npos);
  nlohmann::json stats = JsonOf(Cli(daemon, {"--json", "server-stats"}));
  CHECK(stats["compactions"] == 2);
  CHECK(stats["compacting"] == false);
  corpus.RequireIntact(daemon.client());
}
