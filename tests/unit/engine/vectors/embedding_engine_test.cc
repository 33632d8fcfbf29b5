#include "server/engine/vectors/embedding_engine.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "index/distance.h"
#include "server/engine/atoms/atom_engine.h"
#include "tests/unit/engine/vectors/embedding_fixture.h"
#include "tests/unit/storage/temp_env.h"

namespace hartonomous::engine {
namespace {

namespace fs = std::filesystem;

using namespace testing_fixture;

TEST_CASE("collections are created, listed, described and deleted") {
  Fixture f;
  auto c = f.embeddings->CreateCollection("docs", Spec(8, "hnsw"));
  REQUIRE(c.ok());
  CHECK(c->record.dimension() == 8);
  CHECK(c->record.metric() == "cosine");
  CHECK(c->record.m() == 16);
  CHECK(c->vector_count == 0);
  auto dup = f.embeddings->CreateCollection("docs", Spec(8, "flat", index::Metric::kL2, "other"));
  CHECK(dup.status().code() == Status::Code::kAlreadyExists);
  auto same_pair = f.embeddings->CreateCollection("docs2", Spec(8, "flat"));
  CHECK(same_pair.status().code() == Status::Code::kAlreadyExists);
  CHECK(same_pair.status().message().find("embedding_type/model_id") != std::string::npos);
  auto bad_kind = f.embeddings->CreateCollection("x", Spec(8, "ivf", index::Metric::kL2, "t2"));
  CHECK(bad_kind.status().code() == Status::Code::kInvalidArgument);
  CHECK(bad_kind.status().message().find("index.kind") != std::string::npos);
  REQUIRE(f.embeddings->CreateCollection("img", Spec(4, "flat", index::Metric::kL2, "image")).ok());
  auto list = f.embeddings->ListCollections();
  REQUIRE(list.size() == 2);
  CHECK(list[0].record.name() == "docs");
  CHECK(list[1].record.name() == "img");
  REQUIRE(f.embeddings->DeleteCollection("docs").ok());
  CHECK(f.embeddings->GetCollection("docs").status().code() == Status::Code::kNotFound);
  CHECK(f.embeddings->DeleteCollection("docs").code() == Status::Code::kNotFound);
  // The pair is free again.
  CHECK(f.embeddings->CreateCollection("docs3", Spec(8, "flat")).ok());
}

TEST_CASE("embeddings are stored at their real dimension and replaced per atom") {
  Fixture f;
  auto atoms = f.MakeAtoms(3);
  EmbeddingInput padded;
  padded.atom_id = atoms[0];
  padded.vector = {1, 2, 3, 4, 5};
  padded.uses_max_dimension_padding = true;
  padded.metadata = "{\"src\":\"legacy\"}";
  auto added = f.embeddings->AddEmbeddings("auto", std::nullopt, {padded});
  REQUIRE(added.ok());
  CHECK(added->collection_created);
  auto info = f.embeddings->GetCollection("auto");
  REQUIRE(info.ok());
  CHECK(info->record.dimension() == 5);
  CHECK(info->record.embedding_type() == "auto");
  CHECK(info->vector_count == 1);
  auto rows = f.embeddings->GetEmbeddings(atoms[0], "");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].dimension() == 5);
  CHECK((*rows)[0].vector().size() == 5 * sizeof(float));
  CHECK((*rows)[0].uses_max_dimension_padding());
  CHECK((*rows)[0].metadata() == "{\"src\":\"legacy\"}");
  CHECK((*rows)[0].atom_id() == atoms[0]);
  CHECK((*rows)[0].created_at_us() > 0);

  EmbeddingInput again{atoms[0], {5, 4, 3, 2, 1}, "", false};
  auto replaced = f.embeddings->AddEmbeddings("auto", std::nullopt, {again});
  REQUIRE(replaced.ok());
  CHECK(replaced->replaced == 1);
  CHECK(replaced->embedding_ids[0] > added->embedding_ids[0]);
  CHECK(f.embeddings->GetCollection("auto")->vector_count == 1);
  auto q = NearestTo("auto", {5, 4, 3, 2, 1}, 5);
  auto found = f.embeddings->Search(q);
  REQUIRE(found.ok());
  REQUIRE(found->hits.size() == 1);
  CHECK(found->hits[0].embedding_id == replaced->embedding_ids[0]);
  CHECK(found->hits[0].distance == Approx(0).margin(1e-5));
}

TEST_CASE("bad embeddings are refused with the field named and nothing stored") {
  Fixture f;
  auto atoms = f.MakeAtoms(2);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(4, "hnsw")).ok());
  EmbeddingInput good{atoms[0], {1, 2, 3, 4}, "", false};
  EmbeddingInput short_one{atoms[1], {1, 2, 3}, "", false};
  auto r = f.embeddings->AddEmbeddings("c", std::nullopt, {good, short_one});
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() ==
        "embeddings[1].vector: 3 components but collection 'c' has dimension 4");
  EmbeddingInput ghost{999999, {1, 2, 3, 4}, "", false};
  r = f.embeddings->AddEmbeddings("c", std::nullopt, {good, ghost});
  CHECK(r.status().code() == Status::Code::kNotFound);
  CHECK(r.status().message().find("embeddings[1].atom_id") != std::string::npos);
  auto mismatch = Spec(4, "hnsw", index::Metric::kL2);
  r = f.embeddings->AddEmbeddings("c", mismatch, {good});
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message().find("create.metric") != std::string::npos);
  auto other_kind = Spec(4, "flat");
  r = f.embeddings->AddEmbeddings("c", other_kind, {good});
  CHECK(r.status().message().find("create.index.kind") != std::string::npos);
  // Nothing of the failed calls was stored or indexed.
  CHECK(f.embeddings->GetEmbeddings(atoms[0], "")->empty());
  CHECK(f.embeddings->GetCollection("c")->vector_count == 0);
  // A failed auto-create leaves no collection.
  r = f.embeddings->AddEmbeddings("new", std::nullopt,
                                  {good, EmbeddingInput{atoms[1], {1, 2}, "", false}});
  CHECK_FALSE(r.ok());
  CHECK(f.embeddings->GetCollection("new").status().code() == Status::Code::kNotFound);

  SearchQuery q;
  q.collection = "nope";
  q.vector = {1, 2, 3, 4};
  CHECK(f.embeddings->Search(q).status().code() == Status::Code::kNotFound);
  q.collection = "c";
  q.vector = {1, 2, 3};
  auto s = f.embeddings->Search(q);
  CHECK(s.status().code() == Status::Code::kInvalidArgument);
  CHECK(s.status().message() == "vector: 3 components but collection 'c' has dimension 4");
  q.vector.clear();
  q.atom_id = atoms[1];
  CHECK(f.embeddings->Search(q).status().code() == Status::Code::kNotFound);
}

TEST_CASE("filtered search equals brute force over the filtered set") {
  Fixture f(false);
  const size_t dim = 16, n = 1500;
  auto atoms = f.MakeAtoms(n);
  std::map<uint64_t, size_t> index_of;
  for (size_t i = 0; i < n; ++i) index_of[atoms[i]] = i;
  for (const char* kind : {"flat", "hnsw"}) {
    CAPTURE(kind);
    const std::string name = std::string("c_") + kind;
    REQUIRE(f.embeddings->CreateCollection(name, Spec(dim, kind, index::Metric::kL2, name)).ok());
    auto rows = AddRandom(f, name, atoms, dim, 42);
    // Soft-delete a few atoms: their embeddings go with them.
    for (size_t i = 0; i < n; i += 50) {
      REQUIRE(f.atom_engine().Delete(atoms[i]).ok());
      rows.erase(atoms[i]);
    }
    std::mt19937 rng(7);
    struct Case {
      AtomFilter filter;
      std::function<bool(size_t)> keep;
    };
    std::vector<Case> cases;
    cases.push_back({AtomFilter{}, [](size_t) { return true; }});
    AtomFilter modality;
    modality.modality = "m1";
    cases.push_back({modality, [](size_t i) { return i % 3 == 1; }});
    AtomFilter both;
    both.modality = "m2";
    both.subtype = "s0";
    cases.push_back({both, [](size_t i) { return i % 3 == 2 && i % 2 == 0; }});
    AtomFilter color;
    color.metadata_equals = {{"color", "c3"}};
    cases.push_back({color, [](size_t i) { return i % 5 == 3; }});
    AtomFilter rare;  // three atoms match
    rare.metadata_equals = {{"n", "7"}};
    cases.push_back({rare, [](size_t i) { return i == 7; }});
    AtomFilter narrow;
    narrow.modality = "m0";
    narrow.metadata_equals = {{"color", "c1"}};  // i % 15 == 6
    cases.push_back({narrow, [](size_t i) { return i % 15 == 6; }});
    AtomFilter none;
    none.source_type = "elsewhere";
    cases.push_back({none, [](size_t) { return false; }});

    for (size_t ci = 0; ci < cases.size(); ++ci) {
      CAPTURE(ci);
      const auto& c = cases[ci];
      for (int trial = 0; trial < 5; ++trial) {
        auto q = NearestTo(name, RandomVector(rng, dim), 10);
        q.filter = c.filter;
        auto expected = BruteForce(index::Metric::kL2, rows, q.vector, q.k,
                                   [&](uint64_t atom) { return c.keep(index_of[atom]); });
        // Exact path: identical to brute force.
        q.exact = true;
        auto exact = f.embeddings->Search(q);
        REQUIRE(exact.ok());
        REQUIRE(exact->hits.size() == expected.size());
        for (size_t i = 0; i < expected.size(); ++i) {
          REQUIRE(exact->hits[i].atom_id == expected[i].first);
          REQUIRE(exact->hits[i].distance == expected[i].second);
        }
        CHECK(exact->path == (c.filter.empty() ? SearchPath::kExact : SearchPath::kExactFiltered));
        // Default path: never fewer than k when k match, every hit matches,
        // nearly the same set.
        q.exact = false;
        auto got = f.embeddings->Search(q);
        REQUIRE(got.ok());
        REQUIRE(got->hits.size() == expected.size());
        std::set<uint64_t> truth;
        for (const auto& e : expected) truth.insert(e.first);
        size_t overlap = 0;
        for (const auto& h : got->hits) {
          REQUIRE(c.keep(index_of[h.atom_id]));
          REQUIRE(rows.count(h.atom_id) == 1);
          overlap += truth.count(h.atom_id);
        }
        CHECK(overlap * 10 >= expected.size() * 8);
      }
    }
  }
}

TEST_CASE("selective filters fall back to an exact scan and say so") {
  Fixture f(false);
  auto atoms = f.MakeAtoms(2000);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(8, "hnsw")).ok());
  AddRandom(f, "c", atoms, 8, 1);
  auto q = NearestTo("c", std::vector<float>(8, 0.5f), 5);
  q.filter.metadata_equals = {{"n", "1234"}};
  auto r = f.embeddings->Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].atom_id == atoms[1234]);
  CHECK(r->path == SearchPath::kExactFiltered);
  q.filter = AtomFilter{};
  q.filter.subtype = "s1";  // half match: 1000 x 1/2 > 64 x ef, the filtered traversal
  q.ef = 5;
  r = f.embeddings->Search(q);
  REQUIRE(r.ok());
  CHECK(r->hits.size() == 5);
  CHECK(r->path == SearchPath::kAnnFilteredTraversal);
  q.ef = 0;
  q.filter = AtomFilter{};
  q.with_canonical_text = true;
  q.with_metadata = true;
  r = f.embeddings->Search(q);
  REQUIRE(r.ok());
  CHECK(r->path == SearchPath::kAnn);
  REQUIRE(r->hits.size() == 5);
  CHECK(r->hits[0].canonical_text.rfind("atom ", 0) == 0);
  CHECK(r->hits[0].metadata.find("\"color\"") != std::string::npos);
  // By atom: its own embedding is the query, the atom itself is left out.
  auto by_atom = NearestToAtom("c", atoms[10], 3);
  r = f.embeddings->Search(by_atom);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 3);
  for (const auto& h : r->hits) CHECK(h.atom_id != atoms[10]);
}

TEST_CASE("deleting and purging atoms cascades to embeddings and out of the index") {
  Fixture f(false);
  auto atoms = f.MakeAtoms(20);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(4, "hnsw", index::Metric::kL2)).ok());
  auto rows = AddRandom(f, "c", atoms, 4, 3);
  REQUIRE(f.atom_engine().Delete(atoms[0]).ok());
  CHECK(f.embeddings->GetEmbeddings(atoms[0], "")->empty());
  CHECK(f.embeddings->GetCollection("c")->vector_count == 19);
  // Purge of an atom that still has embeddings (released to zero).
  REQUIRE(f.atom_engine().Release(atoms[1]).ok());
  CHECK(f.embeddings->GetEmbeddings(atoms[1], "")->size() == 1);
  auto purged = f.atom_engine().PurgeInactive(0);
  REQUIRE(purged.ok());
  CHECK(purged->atoms_purged == 2);
  CHECK(purged->dependent_rows_removed == 1);
  CHECK(f.embeddings->GetCollection("c")->vector_count == 18);
  REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[2]).ok());
  CHECK(f.embeddings->DeleteEmbedding("c", atoms[2]).code() == Status::Code::kNotFound);
  for (int i = 0; i < 3; ++i) {
    auto q = NearestTo("c", rows[atoms[i]], 20);
    auto r = f.embeddings->Search(q);
    REQUIRE(r.ok());
    CHECK(r->hits.size() == 17);
    for (const auto& h : r->hits) CHECK(h.atom_id != atoms[i]);
  }
}

TEST_CASE("restart loads the snapshot and replays only what came after it") {
  Fixture f;
  const size_t dim = 8;
  auto atoms = f.MakeAtoms(600);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  std::vector<uint64_t> first(atoms.begin(), atoms.begin() + 500);
  std::vector<uint64_t> second(atoms.begin() + 500, atoms.end());
  auto rows = AddRandom(f, "c", first, dim, 5);
  auto snap = f.embeddings->Snapshot("c");
  REQUIRE(snap.ok());
  CHECK(snap->snapshot.changes_since_snapshot == 0);
  const uint64_t watermark = snap->snapshot.watermark;
  CHECK(watermark > 0);
  auto more = AddRandom(f, "c", second, dim, 6);
  rows.insert(more.begin(), more.end());
  std::set<uint64_t> deleted;
  for (size_t i = 0; i < 600; i += 20) {  // 25 from the snapshot, 5 after it
    REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
    deleted.insert(atoms[i]);
    rows.erase(atoms[i]);
  }

  f.Reopen(/*clean=*/false);  // as after kill -9: no shutdown snapshot
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->snapshot.loaded_from_snapshot);
  CHECK(info->snapshot.watermark == watermark);
  CHECK(info->snapshot.replayed_at_start == 95);
  CHECK(info->snapshot.removed_at_start == 25);
  CHECK(info->vector_count == rows.size());
  for (const auto& [atom, v] : rows) {
    auto q = NearestTo("c", v, 1);
    q.exact = true;
    auto r = f.embeddings->Search(q);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 1);
    REQUIRE(r->hits[0].atom_id == atom);
  }
  std::mt19937 rng(9);
  for (int i = 0; i < 20; ++i) {
    auto q = NearestTo("c", RandomVector(rng, dim), 50);
    auto r = f.embeddings->Search(q);
    REQUIRE(r.ok());
    CHECK(r->hits.size() == 50);
    for (const auto& h : r->hits) REQUIRE(deleted.count(h.atom_id) == 0);
  }

  // A clean restart snapshots at shutdown: nothing to replay.
  f.Reopen(/*clean=*/true);
  info = f.embeddings->GetCollection("c");
  CHECK(info->snapshot.loaded_from_snapshot);
  CHECK(info->snapshot.replayed_at_start == 0);
  CHECK(info->snapshot.removed_at_start == 0);
  CHECK(info->vector_count == rows.size());
}

TEST_CASE("an unreadable newest snapshot falls back to the previous one") {
  Fixture f;
  auto atoms = f.MakeAtoms(100);
  auto c = f.embeddings->CreateCollection("c", Spec(4, "flat", index::Metric::kL2));
  REQUIRE(c.ok());
  auto rows = AddRandom(f, "c", atoms, 4, 8);
  REQUIRE(f.embeddings->Snapshot("c").ok());
  const std::string dir = f.options.snapshot_dir + "/" + std::to_string(c->record.collection_id());
  // A torn temporary file and a damaged newer snapshot, as a crash might leave.
  std::ofstream(dir + "/flat.tmp") << "partial";
  std::ofstream(dir + "/flat-99999999999999999999.snap") << "garbage";
  f.Reopen(false);
  auto info = f.embeddings->GetCollection("c");
  REQUIRE(info.ok());
  CHECK(info->snapshot.loaded_from_snapshot);
  CHECK(info->snapshot.replayed_at_start == 0);
  CHECK(info->vector_count == 100);
}

TEST_CASE("rebuild drops delete marks, deleting a collection removes its snapshots") {
  Fixture f;
  auto atoms = f.MakeAtoms(300);
  auto c = f.embeddings->CreateCollection("c", Spec(8, "hnsw"));
  REQUIRE(c.ok());
  auto rows = AddRandom(f, "c", atoms, 8, 10);
  for (size_t i = 0; i < 150; ++i) REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
  auto before = f.embeddings->GetCollection("c");
  CHECK(before->deleted_count == 150);
  auto after = f.embeddings->Rebuild("c");
  REQUIRE(after.ok());
  CHECK(after->deleted_count == 0);
  CHECK(after->vector_count == 150);
  auto q = NearestTo("c", rows[atoms[200]], 1);
  auto r = f.embeddings->Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].atom_id == atoms[200]);
  REQUIRE(f.embeddings->Snapshot("c").ok());
  const std::string dir = f.options.snapshot_dir + "/" + std::to_string(c->record.collection_id());
  CHECK(fs::exists(dir));
  REQUIRE(f.embeddings->DeleteCollection("c").ok());
  CHECK_FALSE(fs::exists(dir));
  CHECK(f.embeddings->GetEmbeddings(atoms[200], "")->empty());
}

}  // namespace
}  // namespace hartonomous::engine

namespace hartonomous::engine {
namespace {

TEST_CASE("maintenance rebuilds past the deleted fraction and snapshots busy collections") {
  Fixture f;
  f.options.rebuild_min_deleted = 20;
  f.options.rebuild_deleted_fraction = 0.3;
  f.options.snapshot_after_changes = 1000000;
  f.Reopen(true);
  auto atoms = f.MakeAtoms(100);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(4, "hnsw")).ok());
  AddRandom(f, "c", atoms, 4, 1);
  for (size_t i = 0; i < 25; ++i) REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
  f.embeddings->RunMaintenance(false);  // 25 of 100: below 30 %
  auto info = f.embeddings->GetCollection("c");
  CHECK(info->deleted_count == 25);
  CHECK(info->snapshot.saved_at_us == 0);
  for (size_t i = 25; i < 40; ++i) REQUIRE(f.embeddings->DeleteEmbedding("c", atoms[i]).ok());
  f.embeddings->RunMaintenance(false);  // 40 of 100
  info = f.embeddings->GetCollection("c");
  CHECK(info->deleted_count == 0);
  CHECK(info->vector_count == 60);
  CHECK(info->snapshot.saved_at_us == 0);
  f.embeddings->RunMaintenance(true);  // due: snapshot whatever changed
  info = f.embeddings->GetCollection("c");
  CHECK(info->snapshot.saved_at_us > 0);
  CHECK(info->snapshot.changes_since_snapshot == 0);
}

TEST_CASE("searches during concurrent writes only return committed rows") {
  Fixture f(false);
  const size_t dim = 8;
  auto atoms = f.MakeAtoms(3000);
  REQUIRE(f.embeddings->CreateCollection("c", Spec(dim, "hnsw", index::Metric::kL2)).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> bad{0}, searches{0};
  std::map<uint64_t, std::vector<float>> rows;  // written before being searchable
  std::mutex rows_mu;
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      while (!done.load()) {
        auto q = NearestTo("c", RandomVector(rng, dim), 10);
        auto r = f.embeddings->Search(q);
        if (!r.ok()) {
          ++bad;
          continue;
        }
        std::lock_guard lock(rows_mu);
        for (const auto& h : r->hits) {
          auto it = rows.find(h.atom_id);
          // Vectors are recorded before they are written, so every hit is
          // known, and its distance must be that of its whole vector.
          if (it == rows.end()) {
            ++bad;
            continue;
          }
          double d = 0;
          for (size_t i = 0; i < dim; ++i) d += std::pow(double(q.vector[i]) - it->second[i], 2);
          if (std::abs(d - h.distance) > 1e-3) ++bad;
        }
        ++searches;
      }
    });
  }
  std::mt19937 rng(5);
  for (size_t start = 0; start < atoms.size(); start += 100) {
    std::vector<EmbeddingInput> inputs;
    {
      std::lock_guard lock(rows_mu);
      for (size_t i = start; i < start + 100; ++i) {
        EmbeddingInput in{atoms[i], RandomVector(rng, dim), "", false};
        rows[atoms[i]] = in.vector;
        inputs.push_back(in);
      }
    }
    REQUIRE(f.embeddings->AddEmbeddings("c", std::nullopt, inputs).ok());
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(bad.load() == 0);
  CHECK(f.embeddings->GetCollection("c")->vector_count == 3000);
}

}  // namespace
}  // namespace hartonomous::engine
