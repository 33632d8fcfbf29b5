// DeleteAtom / ReleaseAtom on an atom that documents contain: refused with
// FAILED_PRECONDITION naming the containers, so the documents stay whole
// through PurgeInactive; deleting the documents first lets the atom go.
#include <catch2/catch.hpp>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

TEST_CASE("a sentence shared by two documents survives DeleteAtom and PurgeInactive",
          "[documents][refcount]") {
  Daemon daemon;
  Client& client = daemon.client();
  const std::string text_a = "Alpha opens here. The shared sentence. Alpha closes.\n";
  const std::string text_b = "Beta opens there. The shared sentence. Beta closes.\n";
  v1::IngestDocumentResponse a, b;
  REQUIRE(client.IngestDocument(DocumentHeader("text"), text_a, &a).ok());
  REQUIRE(client.IngestDocument(DocumentHeader("text"), text_b, &b).ok());
  v1::Atom shared;
  REQUIRE(client.GetAtomByHash(Sha256Hex("The shared sentence. "), true, &shared).ok());
  REQUIRE(shared.reference_count() == 2);

  v1::Atom out;
  grpc::Status deleted = client.DeleteAtom(shared.atom_id(), &out);
  CHECK(deleted.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(deleted.error_message(),
             Catch::StartsWith("atom_id: atom " + std::to_string(shared.atom_id()) +
                               " is held by 2 'contains' edges") &&
                 Catch::Contains(std::to_string(a.document_id())) &&
                 Catch::Contains(std::to_string(b.document_id())) &&
                 Catch::Contains("delete those documents"));
  grpc::Status released = client.ReleaseAtom(shared.atom_id(), &out);
  CHECK(released.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(released.error_message(), Catch::Contains("references are held by"));

  v1::PurgeInactiveResponse purged;
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() == 0);
  for (const auto& [doc, text] : {std::pair{a.document_id(), text_a}, {b.document_id(), text_b}}) {
    v1::DocumentDescription description;
    std::string back;
    REQUIRE(client.GetDocument(doc, false, &description, &back).ok());
    CHECK(back == text);
  }

  // A caller's own reference is the caller's to release.
  v1::IngestAtomResponse own;
  v1::IngestAtomRequest again;
  again.set_content(shared.content());
  again.set_modality("text");
  REQUIRE(client.IngestAtom(again, &own).ok());
  REQUIRE(own.atom_id() == shared.atom_id());
  REQUIRE(client.ReleaseAtom(shared.atom_id(), &out).ok());
  CHECK(out.reference_count() == 2);
  CHECK(client.ReleaseAtom(shared.atom_id(), &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  // Documents first, then the atom (which holds a caller's reference again).
  REQUIRE(client.IngestAtom(again, &own).ok());
  REQUIRE(own.reference_count() == 3);
  v1::DeleteDocumentResponse gone;
  REQUIRE(client.DeleteDocument(a.document_id(), &gone).ok());
  CHECK(client.DeleteAtom(shared.atom_id(), &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(client.DeleteDocument(b.document_id(), &gone).ok());
  REQUIRE(client.GetAtom(shared.atom_id(), false, &out).ok());
  REQUIRE(out.is_active());
  REQUIRE(out.reference_count() == 1);
  REQUIRE(client.DeleteAtom(shared.atom_id(), &out).ok());
  CHECK_FALSE(out.is_active());
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() > 0);
  CHECK(client.GetAtom(shared.atom_id(), false, &out).error_code() == grpc::StatusCode::NOT_FOUND);
}
