// ResponseBudget and the engine reads that charge it: listings end their
// page early and page through every item once, a single item larger than
// the budget is ResourceExhausted naming the limit, traversals truncate.
#include "server/engine/common/response_budget.h"

#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "tests/unit/storage/temp_env.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {
namespace {

TEST_CASE("a budget charges what fits and refuses the rest", "[budget]") {
  ResponseBudget budget(100);
  CHECK(budget.TryCharge(60));
  CHECK_FALSE(budget.TryCharge(41));
  CHECK(budget.used() == 60);
  CHECK(budget.TryChargeItem(40 - ResponseBudget::kItemFraming));
  CHECK(budget.used() == 100);
  CHECK_FALSE(budget.TryCharge(1));
  Status s = budget.ChargeItem(0, "ask for less");
  CHECK(s.code() == Status::Code::kResourceExhausted);
  CHECK(s.message() == "response: would exceed 100 bytes (--max-response-bytes); ask for less");
  ResponseBudget unlimited;
  CHECK(unlimited.TryChargeItem(size_t{1} << 62));
  CHECK(unlimited.TryChargeItem(size_t{1} << 62));
}

struct Fixture {
  testing::TempEnv env;
  storage::WriteBatcher writer{env.env()};
  AtomEngine atoms{env.env(), env.tables(), writer, std::string(32, 'k')};
  GraphEngine graph{env.env(), env.tables(), writer, std::string(32, 'k')};
};

AtomInput Blob(char fill) {
  AtomInput in;
  in.content = std::string(1000, fill);
  in.modality = "binary";
  return in;
}

TEST_CASE("ListAtoms ends its page at the budget and paging returns every atom once", "[budget]") {
  Fixture f;
  std::set<uint64_t> ids;
  for (char c = 'a'; c < 'a' + 9; ++c) ids.insert(f.atoms.Ingest({Blob(c)})->atoms[0].atom_id);
  std::set<uint64_t> seen;
  std::string token;
  std::vector<size_t> sizes;
  do {
    ResponseBudget budget(2500);
    auto page = f.atoms.List(AtomFilter{}, 1000, token, true, &budget);
    REQUIRE(page.ok());
    sizes.push_back(page->atoms.size());  // three would not fit in 2500 bytes
    CHECK(budget.used() <= 2500);
    for (const auto& view : page->atoms) {
      CHECK(view.content->size() == 1000);
      CHECK(seen.insert(view.record.atom_id()).second);
    }
    token = page->next_page_token;
  } while (!token.empty() && sizes.size() < 20);
  CHECK(sizes == std::vector<size_t>{2, 2, 2, 2, 1});
  CHECK(seen == ids);

  // Without content they all fit.
  ResponseBudget roomy(2500);
  CHECK(f.atoms.List(AtomFilter{}, 1000, "", false, &roomy)->atoms.size() == 9);

  // One atom larger than the budget: named, not an empty page.
  ResponseBudget tiny(500);
  auto refused = f.atoms.List(AtomFilter{}, 1000, "", true, &tiny);
  CHECK(refused.status().code() == Status::Code::kResourceExhausted);
  CHECK_THAT(refused.status().message(),
             Catch::StartsWith("response: would exceed 500 bytes (--max-response-bytes); atom " +
                               std::to_string(*ids.begin()) + " alone is larger"));
  ResponseBudget tiny_get(500);
  CHECK(f.atoms.Get(*ids.begin(), true, &tiny_get).status().code() ==
        Status::Code::kResourceExhausted);
  ResponseBudget small_get(500);
  CHECK(f.atoms.Get(*ids.begin(), false, &small_get).ok());
}

TEST_CASE("relations page and traverse within the budget", "[budget][graph]") {
  Fixture f;
  AtomInput hub_input = Blob('h');
  const uint64_t hub = f.atoms.Ingest({hub_input})->atoms[0].atom_id;
  std::vector<RelationInput> edges;
  for (char c = 'a'; c < 'a' + 6; ++c) {
    const uint64_t leaf = f.atoms.Ingest({Blob(c)})->atoms[0].atom_id;
    edges.push_back(
        {hub, leaf, "links", std::nullopt, 1, "{\"pad\":\"" + std::string(900, c) + "\"}"});
  }
  REQUIRE(f.graph.AddRelations(edges).ok());
  std::set<uint64_t> seen;
  std::string token;
  std::vector<size_t> sizes;
  do {
    ResponseBudget budget(2200);
    auto page = f.graph.ListRelations(hub, storage::Direction::kChildren, "", 1000, token, &budget);
    REQUIRE(page.ok());
    sizes.push_back(page->edges.size());
    for (const auto& e : page->edges) CHECK(seen.insert(e.target).second);
    token = page->next_page_token;
  } while (!token.empty() && sizes.size() < 10);
  CHECK(sizes == std::vector<size_t>{2, 2, 2});
  CHECK(seen.size() == 6);
  ResponseBudget tiny(500);
  CHECK(f.graph.ListRelations(hub, storage::Direction::kChildren, "", 1000, "", &tiny)
            .status()
            .code() == Status::Code::kResourceExhausted);

  ResponseBudget budget(2200);
  auto tree = f.graph.Traverse(hub, storage::Direction::kChildren, {}, 1, 1000, &budget);
  REQUIRE(tree.ok());
  CHECK(tree->truncated);
  CHECK(tree->nodes.size() == 3);  // the hub and two leaves
  auto whole = f.graph.Traverse(hub, storage::Direction::kChildren, {}, 1, 1000);
  CHECK_FALSE(whole->truncated);
  CHECK(whole->nodes.size() == 7);
}

}  // namespace
}  // namespace hartonomous::engine
