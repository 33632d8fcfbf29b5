// ConsistencyChecker over a real LMDB environment: the holder tally gives the
// same verdict whatever the window size (one atom per window up to all in
// one), and finds a count below its holders and an orphaned holder in any
// window.
#include "server/engine/admin/consistency_checker.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "storage/tables/atom_table.h"
#include "storage/tables/relation_table.h"
#include "tests/unit/engine/documents/document_fixture.h"

namespace hartonomous::testing {
namespace {

engine::ConsistencyReport Run(DocumentFixture& f, size_t window) {
  engine::ConsistencyChecker checker(f.env.env(), f.env.tables(), f.writer, nullptr);
  engine::ConsistencyOptions options;
  options.window_atoms = window;
  auto report = checker.CheckConsistency(options);
  REQUIRE(report.ok());
  return *report;
}

bool Has(const engine::ConsistencyReport& r, const std::string& kind,
         const std::vector<uint64_t>& ids) {
  for (const auto& m : r.mismatches) {
    if (m.kind == kind && m.ids == ids) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("ConsistencyChecker tallies references the same in windows of any size",
          "[consistency]") {
  DocumentFixture f;
  const std::vector<uint64_t> ids = f.IngestAtoms(Numbered("atom ", 6));
  REQUIRE(
      f.docs.Ingest(Doc("One sentence. Two sentences.\n\nThree here. Four there.\n", "text")).ok());
  engine::RelationInput edge;
  edge.source_atom_id = ids[0];
  edge.target_atom_id = ids[5];
  edge.relation_type = "contains";
  engine::RelationInput second = edge;
  second.source_atom_id = ids[2];
  REQUIRE(f.graph.AddRelations({edge, second}).ok());

  uint64_t atoms = 0;
  for (size_t window : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    INFO("window " << window);
    const auto report = Run(f, window);
    CHECK(report.mismatch_count == 0);
    atoms = report.checks[0].checked;
    CHECK(atoms > ids.size());
    // ceil(atoms / window) windows, and one more when the last one is full.
    CHECK(report.windows == atoms / window + 1);
  }

  // ids[5]: one client reference and two 'contains' edges; say 1 (below
  // its two holders). And ids[1]'s listed_references set to 2 with no
  // composite list naming it.
  REQUIRE(f.writer
              .Write([&](storage::WriteTxn& txn) -> Status {
                storage::AtomTable table(f.env.tables());
                HT_ASSIGN_OR_RETURN(auto before, table.Get(txn, ids[5]));
                storage::AtomRecord after = *before;
                after.set_reference_count(1);
                HT_RETURN_IF_ERROR(table.Update(txn, *before, after));
                HT_ASSIGN_OR_RETURN(auto other, table.Get(txn, ids[1]));
                storage::AtomRecord listed = *other;
                listed.set_listed_references(2);
                HT_RETURN_IF_ERROR(table.Update(txn, *other, listed));
                return table.FlushCounters(txn);
              })
              .ok());
  for (size_t window : {size_t{1}, size_t{3}, size_t{1} << 20}) {
    INFO("window " << window);
    const auto report = Run(f, window);
    CHECK(report.mismatch_count == 2);
    CHECK(Has(report, "refcount_mismatch", {ids[5]}));
    CHECK(Has(report, "listed_references_mismatch", {ids[1]}));
  }
}

}  // namespace hartonomous::testing
