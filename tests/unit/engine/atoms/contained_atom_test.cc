// An atom held by 'contains' edges (a sentence of documents, an item of a
// user-made container) cannot be deleted, or released below the references
// those edges hold: FailedPrecondition naming the containers, and nothing
// changes, so the documents stay whole.
#include <catch2/catch.hpp>

#include "tests/unit/engine/documents/document_fixture.h"

namespace hartonomous::engine {
namespace {

using Fixture = testing::DocumentFixture;
using testing::Atom;
using testing::Doc;

const std::string kTextA = "Alpha one. Shared sentence. ";
const std::string kTextB = "Beta two. Shared sentence. ";

TEST_CASE("a sentence shared by documents cannot be deleted or released out from under them",
          "[document][refcount]") {
  Fixture f;
  auto a = f.docs.Ingest(Doc(kTextA));
  auto b = f.docs.Ingest(Doc(kTextB));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto shared = f.atoms.GetByHash(Sha256("Shared sentence. "), false);
  REQUIRE(shared.ok());
  const uint64_t s = shared->record.atom_id();
  REQUIRE(shared->record.reference_count() == 2);  // one per document

  auto deleted = f.atoms.Delete(s);
  CHECK(deleted.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(deleted.status().message(), Catch::StartsWith("atom_id: atom " + std::to_string(s) +
                                                           " is held by 2 'contains' edges") &&
                                             Catch::Contains(std::to_string(a->document_id)) &&
                                             Catch::Contains(std::to_string(b->document_id)) &&
                                             Catch::Contains("delete those documents"));
  auto released = f.atoms.Release(s);
  CHECK(released.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(released.status().message(), Catch::StartsWith("atom_id: atom " + std::to_string(s) +
                                                            "'s 2 references are held by"));
  auto after = f.atoms.Get(s, false);
  CHECK(after->record.is_active());
  CHECK(after->record.reference_count() == 2);

  // Nothing to purge; both documents rebuild byte for byte.
  REQUIRE(f.atoms.PurgeInactive(0).ok());
  CHECK(f.docs.Get(a->document_id, false)->data == kTextA);
  CHECK(f.docs.Get(b->document_id, false)->data == kTextB);

  // A caller's own reference can be released; the documents' cannot.
  REQUIRE(f.atoms.Ingest({Atom("Shared sentence. ")})->atoms[0].reference_count == 3);
  CHECK(f.atoms.Release(s)->reference_count() == 2);
  CHECK(f.atoms.Release(s).status().code() == Status::Code::kFailedPrecondition);

  // Delete the documents first, then the atom goes.
  REQUIRE(f.atoms.Ingest({Atom("Shared sentence. ")}).ok());
  REQUIRE(f.docs.Delete(a->document_id).ok());
  REQUIRE(f.docs.Delete(b->document_id).ok());
  CHECK(f.atoms.Get(s, false)->record.reference_count() == 1);
  auto gone = f.atoms.Delete(s);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->is_active());
  REQUIRE(f.atoms.PurgeInactive(0).ok());
  CHECK(f.atoms.Get(s, false).status().code() == Status::Code::kNotFound);
}

TEST_CASE("an item of a user-made container keeps the container's reference", "[graph][refcount]") {
  Fixture f;
  auto ids = f.atoms.Ingest({Atom("box"), Atom("item")});
  const uint64_t box = ids->atoms[0].atom_id, item = ids->atoms[1].atom_id;
  REQUIRE(f.graph.AddRelations({{box, item, "contains", std::nullopt, 1, ""}}).ok());
  auto deleted = f.atoms.Delete(item);
  CHECK(deleted.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(deleted.status().message(),
             Catch::Contains("1 'contains' edge from atoms " + std::to_string(box)));
  REQUIRE(f.atoms.Release(item).ok());  // the ingest's own reference
  CHECK(f.atoms.Release(item).status().code() == Status::Code::kFailedPrecondition);
  CHECK(f.atoms.Get(item, false)->record.is_active());
  REQUIRE(f.atoms.Delete(box).ok());  // gives back the edge's reference
  CHECK_FALSE(f.atoms.Get(item, false)->record.is_active());
}

TEST_CASE("a document root held by a user-made container keeps that reference",
          "[document][refcount]") {
  Fixture f;
  auto doc = f.docs.Ingest(Doc(kTextA));
  REQUIRE(doc.ok());
  const uint64_t box = f.atoms.Ingest({Atom("shelf")})->atoms[0].atom_id;
  REQUIRE(f.graph.AddRelations({{box, doc->document_id, "contains", std::nullopt, 1, ""}}).ok());
  REQUIRE(f.docs.Delete(doc->document_id).ok());  // the ingest's reference
  auto again = f.docs.Delete(doc->document_id);
  CHECK(again.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(again.status().message(), Catch::Contains("from atoms " + std::to_string(box)));
  CHECK(f.docs.Get(doc->document_id, false)->data == kTextA);
  REQUIRE(f.atoms.Delete(box).ok());
  CHECK(f.docs.Get(doc->document_id, false).status().code() == Status::Code::kFailedPrecondition);
}

}  // namespace
}  // namespace hartonomous::engine
