// Start-up replay of EmbeddingEngine::Load: parallel insertion gives the same
// index content as sequential, progress and cancellation reach the
// observer, and a large replay is snapshotted at once.
#include "tests/unit/engine/vectors/embedding_fixture.h"

namespace hartonomous::engine {
namespace {

using namespace testing_fixture;

// Every row of collection "c" by exact search from a few queries: (atom,
// embedding id, distance) lists that match only if the index holds the same
// labels with the same vectors.
std::vector<std::vector<std::tuple<uint64_t, uint64_t, float>>> Content(Fixture& f, size_t dim,
                                                                        size_t rows) {
  std::mt19937 rng(42);
  std::vector<std::vector<std::tuple<uint64_t, uint64_t, float>>> out;
  for (int i = 0; i < 3; ++i) {
    auto q = NearestTo("c", RandomVector(rng, dim), rows + 10);
    q.exact = true;
    auto r = f.embeddings->Search(q);
    REQUIRE(r.ok());
    auto& hits = out.emplace_back();
    for (const auto& h : r->hits) hits.emplace_back(h.atom_id, h.embedding_id, h.distance);
  }
  return out;
}

// 500 rows snapshotted, then 1,500 more; then 100 of the snapshotted rows
// replaced (new embedding ids) and every 33rd atom's row deleted (61 rows).
// Rows after the snapshot still live: 1,455 + 97 replacements = 1,552; rows
// of the snapshot gone: 13 deleted + 100 replaced = 113. Returns the live
// row count, 1,939.
size_t Populate(Fixture& f, size_t dim) {
  auto atoms = f.MakeAtoms(2000);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin(), atoms.begin() + 500), dim, 1);
  REQUIRE(f.embeddings->Snapshot("c").ok());
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin() + 500, atoms.end()), dim, 2);
  AddRandom(f, "c", std::vector<uint64_t>(atoms.begin() + 400, atoms.begin() + 500), dim, 3);
  for (size_t i = 0; i < 2000; i += 33) REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
  return 2000 - (2000 + 32) / 33;
}

}  // namespace

TEST_CASE("replay with several threads gives the index a sequential replay gives", "[replay]") {
  Fixture f;
  const size_t dim = 12;
  const size_t live = Populate(f, dim);
  f.options.snapshot_after_replay = 0;  // keep replaying the same rows

  f.options.replay_threads = 1;
  f.Reopen(/*clean=*/false);
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  const uint64_t replayed = info->snapshot.replayed_at_start;
  CHECK(replayed == 1552);
  CHECK(info->snapshot.removed_at_start == 113);
  CHECK(info->vector_count == live);
  const auto sequential = Content(f, dim, live);
  REQUIRE(sequential[0].size() == live);

  f.options.replay_threads = 4;
  f.Reopen(/*clean=*/false);
  info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->snapshot.replayed_at_start == replayed);
  CHECK(info->snapshot.removed_at_start == 113);
  CHECK(info->vector_count == live);
  CHECK(Content(f, dim, live) == sequential);
}

TEST_CASE("Load reports replay progress, can be cancelled, and snapshots a large replay",
          "[replay]") {
  Fixture f;
  const size_t dim = 12;
  const size_t live = Populate(f, dim);
  const auto before = Content(f, dim, live);

  // As after kill -9: the snapshot on disk stays the one of the 500 rows.
  const std::string saved = f.t.dir() + "/saved_snapshots";
  fs::copy(f.options.snapshot_dir, saved, fs::copy_options::recursive);
  f.embeddings.reset();
  fs::remove_all(f.options.snapshot_dir);
  fs::rename(saved, f.options.snapshot_dir);
  f.options.snapshot_on_stop = false;

  // Cancelled after the first chunk: Aborted, nothing registered.
  {
    auto engine = EmbeddingEngine::Create(f.t.env(), f.t.tables(), f.writer, f.options);
    LoadObserver observer;
    observer.cancelled = [] { return true; };
    observer.progress = [](const std::string&, uint64_t, uint64_t) {};
    CHECK(engine->Load(observer).code() == Status::Code::kAborted);
  }

  // Progress: starts at 0, grows to the total; then the replay is
  // snapshotted (>= 1,000 rows), so the next load replays nothing.
  f.options.snapshot_after_replay = 1000;
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  {
    auto engine = EmbeddingEngine::Create(f.t.env(), f.t.tables(), f.writer, f.options);
    LoadObserver observer;
    observer.progress = [&](const std::string& name, uint64_t done, uint64_t total) {
      CHECK(name == "c");
      seen.emplace_back(done, total);
    };
    REQUIRE(engine->Load(observer).ok());
    CHECK(engine->load_totals().snapshotted == 1);
    CHECK(engine->load_totals().replayed == 1552);
    CHECK(engine->load_totals().removed == 113);
    f.embeddings = std::move(engine);
  }
  REQUIRE(seen.size() >= 2);
  CHECK(seen.front().first == 0);
  CHECK(seen.back().first == seen.back().second);
  CHECK(seen.back().second == f.embeddings->load_totals().replayed);
  CHECK(Content(f, dim, live) == before);

  f.Reopen(/*clean=*/false);
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->snapshot.replayed_at_start == 0);
  CHECK(info->snapshot.removed_at_start == 0);
  CHECK(Content(f, dim, live) == before);
}

}  // namespace hartonomous::engine
