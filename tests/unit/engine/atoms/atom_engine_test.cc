#include "server/engine/atoms/atom_engine.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

AtomInput Text(const std::string& content) {
  AtomInput in;
  in.content = content;
  in.modality = "text";
  in.canonical_text = content;
  return in;
}

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  AtomEngine engine{t.env(), t.tables(), writer, std::string(32, 'k')};
};

}  // namespace

TEST_CASE("ingest dedups by SHA-256 within and across batches") {
  Fixture f;
  auto first = f.engine.Ingest({Text("a"), Text("b"), Text("a")});
  REQUIRE(first.ok());
  CHECK(first->atoms_created == 2);
  CHECK(first->atoms_reused == 1);
  CHECK(first->bytes_stored == 2);
  CHECK(first->atoms[2].atom_id == first->atoms[0].atom_id);
  CHECK(first->atoms[2].reference_count == 2);
  CHECK(first->atoms[0].content_hash == Sha256("a"));
  auto second = f.engine.Ingest({Text("b")});
  CHECK(second->atoms[0].atom_id == first->atoms[1].atom_id);
  CHECK(second->atoms[0].reference_count == 2);
  CHECK_FALSE(second->atoms[0].created);
}

TEST_CASE("get by id and hash, with and without content") {
  Fixture f;
  auto ingested = f.engine.Ingest({Text("payload")});
  const uint64_t id = ingested->atoms[0].atom_id;
  auto view = f.engine.Get(id, true);
  REQUIRE(view.ok());
  CHECK(*view->content == "payload");
  CHECK(view->record.canonical_text() == "payload");
  auto by_hash = f.engine.GetByHash(Sha256("payload"), false);
  REQUIRE(by_hash.ok());
  CHECK(by_hash->record.atom_id() == id);
  CHECK_FALSE(by_hash->content.has_value());
  CHECK(f.engine.Get(id + 100, false).status().code() == Status::Code::kNotFound);
  CHECK(f.engine.GetByHash(Sha256("missing"), false).status().code() == Status::Code::kNotFound);
}

TEST_CASE("release to zero deactivates, purge removes, stats follow") {
  Fixture f;
  auto ingested = f.engine.Ingest({Text("x"), Text("x"), Text("yy")});
  const uint64_t x = ingested->atoms[0].atom_id;
  const uint64_t yy = ingested->atoms[2].atom_id;
  auto stats = f.engine.DedupStats(10);
  REQUIRE(stats.ok());
  CHECK(stats->total.unique_atoms() == 2);
  CHECK(stats->total.total_references() == 3);
  CHECK(stats->top_atoms.front().atom_id() == x);

  CHECK(f.engine.Release(x)->reference_count() == 1);
  auto released = f.engine.Release(x);
  CHECK_FALSE(released->is_active());
  CHECK(f.engine.Release(x).status().code() == Status::Code::kFailedPrecondition);
  CHECK(f.engine.Delete(yy)->is_active() == false);
  stats = f.engine.DedupStats(10);
  CHECK(stats->total.unique_atoms() == 0);
  CHECK(stats->top_atoms.empty());

  auto purged = f.engine.PurgeInactive(1);
  CHECK(purged->atoms_purged == 1);
  purged = f.engine.PurgeInactive(0);
  CHECK(purged->atoms_purged == 1);
  CHECK(f.engine.Get(x, false).status().code() == Status::Code::kNotFound);
  CHECK(f.engine.Get(yy, false).status().code() == Status::Code::kNotFound);
}

TEST_CASE("list pages in id order under a filter") {
  Fixture f;
  std::vector<AtomInput> batch;
  for (int i = 0; i < 25; ++i) {
    AtomInput in = Text("t" + std::to_string(i));
    in.subtype = i % 5 == 0 ? "title" : "sentence";
    batch.push_back(in);
  }
  REQUIRE(f.engine.Ingest(batch).ok());
  AtomFilter filter;
  filter.subtype = "sentence";
  std::vector<uint64_t> ids;
  std::string token;
  int pages = 0;
  do {
    auto page = f.engine.List(filter, 7, token, false);
    REQUIRE(page.ok());
    for (auto& v : page->atoms) ids.push_back(v.record.atom_id());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  CHECK(ids.size() == 20);
  CHECK(pages == 3);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  AtomFilter other;
  other.subtype = "title";
  auto first = f.engine.List(filter, 7, "", false);
  CHECK(f.engine.List(other, 7, first->next_page_token, false).status().code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("concurrent ingests of the same content count every reference") {
  Fixture f;
  // Catch2 assertions are not thread-safe: the threads count failures and
  // the test thread asserts on the count.
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 6; ++th) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!f.engine.Ingest({Text("same"), Text("other")}).ok()) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(failed == 0);
  auto view = f.engine.GetByHash(Sha256("same"), false);
  CHECK(view->record.reference_count() == 300);
  CHECK(f.engine.DedupStats(1)->total.total_references() == 600);
}
