// Documents and relations through the real daemon, the client library and
// the CLI.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "daemon_harness.h"
#include "server/engine/documents/decompose/image_codec.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

uint64_t CountAtoms(Client& client) {
  uint64_t n = 0;
  v1::ListAtomsRequest request;
  REQUIRE(client.ListAtoms(request, [&](const v1::Atom&) { return ++n, true; }).ok());
  return n;
}

}  // namespace

TEST_CASE("a license text streamed in small messages comes back byte for byte", "[documents]") {
  Daemon daemon;
  const std::string text = ReadFile("/usr/share/common-licenses/GPL-3");
  REQUIRE(text.size() > 30000);
  std::istringstream in(text);
  v1::IngestDocumentResponse response;
  uint64_t progress_calls = 0;
  REQUIRE(daemon.client()
              .IngestDocument(
                  DocumentHeader("text", "test://doc"), in, &response,
                  [&](uint64_t) { ++progress_calls; }, 4096)
              .ok());
  CHECK(progress_calls >= text.size() / 4096);
  CHECK(response.created());
  CHECK(response.format() == "text");
  CHECK(response.bytes_received() == text.size());
  CHECK(response.atoms_reused() > 0);  // repeated sentences and separators
  v1::DocumentDescription description;
  std::string back;
  REQUIRE(daemon.client().GetDocument(response.document_id(), false, &description, &back).ok());
  CHECK(back == text);
  CHECK(description.size() == text.size());
  CHECK(description.root().subtype() == "document");
  CHECK(description.root().source_uri() == "test://doc");

  // The same file again (without a source) is the same document with a
  // second reference.
  v1::IngestDocumentResponse again;
  REQUIRE(daemon.client().IngestDocument(DocumentHeader("text"), text, &again).ok());
  CHECK_FALSE(again.created());
  CHECK(again.document_id() == response.document_id());
  CHECK(again.reference_count() == 2);
  CHECK(again.bytes_stored() == 0);

  v1::DedupStats stats;
  REQUIRE(daemon.client().GetDedupStats(0, &stats).ok());
  CHECK(stats.total().documents() == 2);
  CHECK(stats.total().document_bytes() == 2 * text.size());
  // Received = the two documents; the paragraphs and sentences compress.
  CHECK(stats.total().received_bytes() == 2 * text.size());
  CHECK(stats.total().stored_bytes() < stats.total().unique_bytes());
  CHECK(stats.data_file_bytes() >= stats.data_used_bytes());
}

TEST_CASE("the document graph is visible through ListRelations and traversal",
          "[documents][relations]") {
  Daemon daemon;
  v1::IngestDocumentResponse doc;
  REQUIRE(daemon.client().IngestDocument(DocumentHeader("text"), "A. B.\n\nC.\n", &doc).ok());
  v1::ListRelationsRequest list;
  list.set_atom_id(doc.document_id());
  list.set_relation_type("contains");
  list.set_page_size(1);
  std::vector<v1::Relation> edges;
  REQUIRE(daemon.client()
              .ListRelations(list,
                             [&](const v1::Relation& r) {
                               edges.push_back(r);
                               return true;
                             })
              .ok());
  REQUIRE(edges.size() == 3);
  for (size_t i = 0; i < edges.size(); ++i) CHECK(edges[i].ordinal() == i);
  v1::TraverseRelationsRequest traverse;
  traverse.set_atom_id(doc.document_id());
  traverse.set_max_depth(2);
  v1::TraverseRelationsResponse tree;
  REQUIRE(daemon.client().TraverseRelations(traverse, &tree).ok());
  // root; 2 paragraphs and a separator; the 2 sentences of "A. B." ("C." is
  // a one-sentence paragraph, a leaf).
  CHECK(tree.nodes_size() == 1 + 3 + 2);
  CHECK(tree.nodes(tree.nodes_size() - 1).depth() == 2);

  // User-defined edges between the sentences.
  v1::AddRelationsRequest add;
  auto* r = add.add_relations();
  r->set_source_atom_id(tree.nodes(4).atom_id());
  r->set_target_atom_id(tree.nodes(5).atom_id());
  r->set_relation_type("next");
  r->set_weight(0.5);
  v1::AddRelationsResponse added;
  REQUIRE(daemon.client().AddRelations(add, &added).ok());
  CHECK(added.created() == 1);
  CHECK(added.relations(0).ordinal() == 0);
  v1::ListRelationsRequest parents;
  parents.set_atom_id(tree.nodes(5).atom_id());
  parents.set_direction(v1::PARENTS);
  parents.set_relation_type("next");
  v1::ListRelationsResponse page;
  REQUIRE(daemon.client().ListRelationsPage(parents, &page).ok());
  REQUIRE(page.relations_size() == 1);
  CHECK(page.relations(0).weight() == 0.5);

  r->set_relation_type("Bad Type");
  grpc::Status bad = daemon.client().AddRelations(add, &added);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message().find("relations[0].relation_type") != std::string::npos);
}

namespace {

std::vector<v1::Relation> Relations(Client& client, uint64_t atom_id,
                                    v1::RelationDirection direction, const std::string& type) {
  v1::ListRelationsRequest list;
  list.set_atom_id(atom_id);
  list.set_direction(direction);
  list.set_relation_type(type);
  list.set_page_size(1);  // every edge on its own page: the page tokens are exercised
  std::vector<v1::Relation> edges;
  REQUIRE(client
              .ListRelations(list,
                             [&](const v1::Relation& r) {
                               edges.push_back(r);
                               return true;
                             })
              .ok());
  return edges;
}

}  // namespace

TEST_CASE("a shared sentence lists every containing paragraph and loses them as documents go",
          "[documents][relations]") {
  Daemon daemon;
  Client& client = daemon.client();
  v1::IngestDocumentResponse doc1, doc2;
  REQUIRE(client.IngestDocument(DocumentHeader("text"), "Shared one. Own one.\n", &doc1).ok());
  REQUIRE(client
              .IngestDocument(DocumentHeader("text"),
                              "Shared one. Own two.\n\nShared one. Own one.\n", &doc2)
              .ok());
  const auto top1 = Relations(client, doc1.document_id(), v1::CHILDREN, "contains");
  const auto top2 = Relations(client, doc2.document_id(), v1::CHILDREN, "contains");
  REQUIRE(top1.size() == 1);
  REQUIRE(top2.size() == 3);
  const uint64_t p1 = top1[0].target_atom_id();
  const uint64_t p2 = top2[0].target_atom_id();
  CHECK(top2[2].target_atom_id() == p1);  // the same paragraph text is one atom
  CHECK(top2[2].ordinal() == 2);
  const auto sentences = Relations(client, p1, v1::CHILDREN, "");
  REQUIRE(sentences.size() == 2);
  const uint64_t shared = sentences[0].target_atom_id();
  CHECK(Relations(client, p2, v1::CHILDREN, "contains")[0].target_atom_id() == shared);

  // A composite's content is its manifest: the header and its children's
  // hashes, whose SHA-256 is its content hash.
  v1::Atom paragraph;
  REQUIRE(client.GetAtom(p1, true, &paragraph).ok());
  CHECK(paragraph.content().rfind("hartonomous-composite/1 paragraph\n", 0) == 0);
  CHECK(paragraph.content().size() == 34 + 2 * 32);
  CHECK(Sha256Hex(paragraph.content()) == paragraph.content_hash());
  CHECK(paragraph.reference_count() == 2);

  // A user-made 'contains' edge into the sentence sorts among the listed ones.
  v1::IngestAtomResponse holder;
  REQUIRE(client.IngestAtom(TextAtom("a user collection"), &holder).ok());
  v1::AddRelationsRequest add;
  auto* r = add.add_relations();
  r->set_source_atom_id(holder.atom_id());
  r->set_target_atom_id(shared);
  r->set_relation_type("contains");
  r->set_weight(1);
  v1::AddRelationsResponse added;
  REQUIRE(client.AddRelations(add, &added).ok());
  auto parents = Relations(client, shared, v1::PARENTS, "contains");
  REQUIRE(parents.size() == 3);
  CHECK(parents[0].source_atom_id() == std::min(p1, p2));
  CHECK(parents[1].source_atom_id() == std::max(p1, p2));
  CHECK(parents[2].source_atom_id() == holder.atom_id());
  v1::Atom sentence;
  REQUIRE(client.GetAtom(shared, false, &sentence).ok());
  CHECK(sentence.reference_count() == 3);

  // Held by its containers: deleting the sentence is refused, naming them.
  grpc::Status refused = client.DeleteAtom(shared, &sentence);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message().find(std::to_string(p1)) != std::string::npos);

  // Deleting both documents releases the paragraphs and their hold on the
  // sentence; the user's edge still holds it.
  v1::DeleteDocumentResponse deleted;
  REQUIRE(client.DeleteDocument(doc1.document_id(), &deleted).ok());
  CHECK(Relations(client, shared, v1::PARENTS, "contains").size() == 3);  // p1 still in doc2
  REQUIRE(client.DeleteDocument(doc2.document_id(), &deleted).ok());
  parents = Relations(client, shared, v1::PARENTS, "");
  REQUIRE(parents.size() == 1);
  CHECK(parents[0].source_atom_id() == holder.atom_id());
  REQUIRE(client.GetAtom(shared, false, &sentence).ok());
  CHECK(sentence.is_active());
  CHECK(sentence.reference_count() == 1);
  REQUIRE(client.GetAtom(p1, true, &paragraph).ok());
  CHECK_FALSE(paragraph.is_active());
  CHECK(Relations(client, p1, v1::CHILDREN, "").empty());
  // The released paragraph's content still reads as its manifest.
  CHECK(Sha256Hex(paragraph.content()) == paragraph.content_hash());

  // Ingesting it again revives the paragraph and lists its sentences again.
  REQUIRE(client.IngestDocument(DocumentHeader("text"), "Shared one. Own one.\n", &doc1).ok());
  CHECK(Relations(client, p1, v1::CHILDREN, "contains").size() == 2);
  std::string back;
  v1::DocumentDescription description;
  REQUIRE(client.GetDocument(doc1.document_id(), false, &description, &back).ok());
  CHECK(back == "Shared one. Own one.\n");
}

TEST_CASE("bad content is INVALID_ARGUMENT and stores nothing", "[documents]") {
  Daemon daemon;
  std::mt19937_64 rng(3);
  engine::Raster raster{20, 20, 3, 1, std::string(1200, 'x')};
  const std::string png = *engine::EncodePng(raster);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"text", "caf\xc3"},
      {"image", png.substr(0, png.size() - 20)},
      {"audio", "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"},
      {"video", "YUV4MPEG2 W4 H4 Cmono\nFRAME\nshort"},
      {"image", "P5 100000 100000 255\n"}};
  for (const auto& [modality, content] : cases) {
    v1::IngestDocumentResponse response;
    grpc::Status status =
        daemon.client().IngestDocument(DocumentHeader(modality), content, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind("content:", 0) == 0);
  }
  CHECK(CountAtoms(daemon.client()) == 0);
  v1::IngestDocumentRequest bad_options = DocumentHeader("image");
  bad_options.mutable_options()->set_patch_width(5000);
  v1::IngestDocumentResponse response;
  grpc::Status status = daemon.client().IngestDocument(bad_options, png, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("options.patch_width") != std::string::npos);
}

TEST_CASE("PNG: pixels exactly, original on request, delete and purge", "[documents]") {
  Daemon daemon;
  std::mt19937_64 rng(5);
  engine::Raster raster{37, 21, 4, 1, std::string(37 * 21 * 4, '\0')};
  for (auto& c : raster.pixels) c = static_cast<char>(rng());
  const std::string png = *engine::EncodePng(raster);
  v1::IngestDocumentRequest header = DocumentHeader("");
  header.mutable_options()->set_keep_original(true);
  v1::IngestDocumentResponse doc;
  REQUIRE(daemon.client().IngestDocument(header, png, &doc).ok());
  CHECK(doc.modality() == "image");
  CHECK(doc.format() == "png");
  std::string original, decoded;
  v1::DocumentDescription d1, d2;
  REQUIRE(daemon.client().GetDocument(doc.document_id(), false, &d1, &original).ok());
  REQUIRE(daemon.client().GetDocument(doc.document_id(), true, &d2, &decoded).ok());
  CHECK(original == png);
  CHECK(d1.original());
  CHECK_FALSE(d2.original());
  CHECK(engine::DecodePng(decoded, 1 << 20)->pixels == raster.pixels);

  v1::DeleteDocumentResponse deleted;
  REQUIRE(daemon.client().DeleteDocument(doc.document_id(), &deleted).ok());
  CHECK_FALSE(deleted.root().is_active());
  CHECK(deleted.atoms_deactivated() > 1);
  v1::PurgeInactiveResponse purged;
  REQUIRE(daemon.client().PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() == deleted.atoms_deactivated());
  CHECK(CountAtoms(daemon.client()) == 0);
  std::string gone;
  CHECK(daemon.client().GetDocument(doc.document_id(), false, &d1, &gone).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("documents survive a kill -9 and restart", "[documents][durability]") {
  Daemon daemon;
  const std::string text = ReadFile("/usr/share/common-licenses/Apache-2.0");
  v1::IngestDocumentResponse doc;
  REQUIRE(daemon.client().IngestDocument(DocumentHeader("text"), text, &doc).ok());
  daemon.Kill9();
  daemon.Start();
  std::string back;
  v1::DocumentDescription description;
  REQUIRE(daemon.client().GetDocument(doc.document_id(), false, &description, &back).ok());
  CHECK(back == text);
}

TEST_CASE("CLI ingest-doc and get-doc round-trip files", "[documents][cli]") {
  Daemon daemon;
  TempDir dir;
  const std::string wav_path = dir.path() + "/tone.wav";
  {
    std::string wav = "RIFF";
    std::string body =
        std::string("WAVEfmt ") +
        std::string(
            "\x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00", 20);
    std::string data(8000, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    body += "data" + std::string("\x40\x1f\x00\x00", 4) + data;
    const uint32_t size = static_cast<uint32_t>(body.size());
    wav += std::string{static_cast<char>(size), static_cast<char>(size >> 8),
                       static_cast<char>(size >> 16), 0};
    std::ofstream(wav_path, std::ios::binary) << wav + body;
  }
  const std::string license = "/usr/share/common-licenses/MPL-2.0";
  ProcessResult ingest = RunProcess(
      {CliPath(), "--server", daemon.address(), "--json", "ingest-doc", license, wav_path});
  REQUIRE(ingest.exit_code == 0);
  const auto json = nlohmann::json::parse(ingest.out);
  REQUIRE(json["results"].size() == 2);
  CHECK(json["results"][0]["format"] == "text");
  CHECK(json["results"][1]["format"] == "wav");
  CHECK(json["results"][1]["modality"] == "audio");
  const std::vector<std::string> sources = {license, wav_path};
  for (size_t i = 0; i < 2; ++i) {
    const std::string out = dir.path() + "/back" + std::to_string(i);
    const std::string id = std::to_string(json["results"][i]["document_id"].get<uint64_t>());
    ProcessResult get =
        RunProcess({CliPath(), "--server", daemon.address(), "get-doc", id, "-o", out});
    REQUIRE(get.exit_code == 0);
    CHECK(ReadFile(out) == ReadFile(sources[i]));
  }
  ProcessResult missing = RunProcess(
      {CliPath(), "--server", daemon.address(), "get-doc", "999", "-o", dir.path() + "/x"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("NOT_FOUND") != std::string::npos);
  ProcessResult no_output = RunProcess({CliPath(), "--server", daemon.address(), "get-doc", "1"});
  CHECK(no_output.exit_code == 2);
}

TEST_CASE("concurrent documents sharing sentences are each committed whole",
          "[documents][concurrency]") {
  Daemon daemon;
  constexpr int kThreads = 4;
  constexpr int kDocsPerThread = 5;
  std::vector<std::string> texts;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kDocsPerThread; ++i) {
      texts.push_back("Shared opening sentence. Document " + std::to_string(t) + "-" +
                      std::to_string(i) + " says hello.\n\nShared closing paragraph.\n");
    }
  }
  std::vector<v1::IngestDocumentResponse> responses(texts.size());
  std::vector<grpc::Status> statuses(texts.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client client(ClientOptions{.target = daemon.address()});
      for (int i = 0; i < kDocsPerThread; ++i) {
        const size_t k = static_cast<size_t>(t * kDocsPerThread + i);
        statuses[k] = client.IngestDocument(DocumentHeader("text"), texts[k], &responses[k]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t k = 0; k < texts.size(); ++k) {
    REQUIRE(statuses[k].ok());
    std::string back;
    v1::DocumentDescription description;
    REQUIRE(
        daemon.client().GetDocument(responses[k].document_id(), false, &description, &back).ok());
    CHECK(back == texts[k]);
  }
  // The shared closing paragraph is one atom held by every document.
  v1::ListRelationsRequest list;
  list.set_atom_id(responses[0].document_id());
  list.set_relation_type("contains");
  v1::ListRelationsResponse parts;
  REQUIRE(daemon.client().ListRelationsPage(list, &parts).ok());
  REQUIRE(parts.relations_size() == 3);
  v1::Atom closing;
  REQUIRE(daemon.client().GetAtom(parts.relations(2).target_atom_id(), false, &closing).ok());
  CHECK(closing.subtype() == "paragraph");
  CHECK(closing.reference_count() == static_cast<int64_t>(texts.size()));
}
