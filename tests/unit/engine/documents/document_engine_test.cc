#include "server/engine/documents/document_engine.h"

#include <catch2/catch.hpp>

#include "server/engine/documents/decompose/image_codec.h"
#include "storage/key_codec.h"
#include "storage/tables/relation_table.h"
#include "tests/unit/engine/documents/decompose/decompose_test_util.h"
#include "tests/unit/engine/documents/document_fixture.h"

namespace hartonomous::engine {
namespace {

using storage::Direction;

using Fixture = testing::DocumentFixture;
using testing::Doc;
using testing::Numbered;

const std::string kText = "First sentence. Second one!\n\nNew paragraph.\nFirst sentence. ";

TEST_CASE("a text document round-trips and dedups its sentences", "[document]") {
  Fixture f;
  auto a = f.docs.Ingest(Doc(kText, "text"));
  REQUIRE(a.ok());
  CHECK(a->created);
  CHECK(a->format == "text");
  CHECK(a->parts == 3);  // paragraph, separator, paragraph
  CHECK(a->bytes_received == kText.size());
  auto got = f.docs.Get(a->document_id, false);
  REQUIRE(got.ok());
  CHECK(got->data == kText);
  CHECK(got->media_type == "text/plain; charset=utf-8");
  // "First sentence. " occurs twice: one atom, referenced by two edges.
  const auto top = f.Children(a->document_id, "contains");
  REQUIRE(top.size() == 3);
  CHECK(top[0].ordinal == 0);
  CHECK(top[2].ordinal == 2);
  const auto p1 = f.Children(top[0].target);
  const auto p2 = f.Children(top[2].target);
  REQUIRE(p1.size() == 2);
  REQUIRE(p2.size() == 2);
  CHECK(p1[0].target == p2[1].target);
  CHECK(f.atoms.Get(p1[0].target, false)->record.reference_count() == 2);
  CHECK(f.atoms.Get(p1[0].target, false)->record.subtype() == "sentence");

  // The same document again: one atom, two references, nothing new stored.
  auto b = f.docs.Ingest(Doc(kText, "text"));
  REQUIRE(b.ok());
  CHECK_FALSE(b->created);
  CHECK(b->document_id == a->document_id);
  CHECK(b->reference_count == 2);
  CHECK(b->atoms_created == 0);
  CHECK(b->bytes_stored == 0);
  CHECK(f.atoms.Get(p1[0].target, false)->record.reference_count() == 2);
  CHECK(f.Children(a->document_id).size() == 3);
}

TEST_CASE("deleting documents releases their atoms and purge leaves no edge behind", "[document]") {
  Fixture f;
  auto a = f.docs.Ingest(Doc(kText, "text"));
  auto b = f.docs.Ingest(Doc("Other text. First sentence. ", "text"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto stats = f.atoms.DedupStats(10);
  REQUIRE(stats.ok());
  CHECK(stats->total.documents() == 2);
  CHECK(stats->total.document_bytes() == kText.size() + 28);

  auto released = f.docs.Delete(a->document_id);
  REQUIRE(released.ok());
  CHECK_FALSE(released->root.is_active());
  CHECK(released->atoms_deactivated > 3);
  // The shared sentence is still held by document b.
  auto b_doc = f.docs.Get(b->document_id, false);
  REQUIRE(b_doc.ok());
  CHECK(b_doc->data == "Other text. First sentence. ");
  CHECK(f.docs.Get(a->document_id, false).status().code() == Status::Code::kFailedPrecondition);
  CHECK(f.docs.Delete(a->document_id).status().code() == Status::Code::kFailedPrecondition);

  auto purged = f.atoms.PurgeInactive(0);
  REQUIRE(purged.ok());
  CHECK(purged->atoms_purged == released->atoms_deactivated);
  REQUIRE(f.docs.Delete(b->document_id).ok());
  REQUIRE(f.atoms.PurgeInactive(0).ok());
  CHECK(f.Count(f.env.tables().atoms) == 0);
  CHECK(f.Count(f.env.tables().atom_relations) == 0);
  CHECK(f.Count(f.env.tables().atom_relations_reverse) == 0);
  CHECK(f.atoms.DedupStats(10)->total.documents() == 0);
}

TEST_CASE("a deleted document ingested again is whole again", "[document]") {
  Fixture f;
  auto a = f.docs.Ingest(Doc(kText, "text"));
  REQUIRE(f.docs.Delete(a->document_id).ok());
  auto again = f.docs.Ingest(Doc(kText, "text"));
  REQUIRE(again.ok());
  CHECK(again->document_id == a->document_id);
  CHECK(again->reference_count == 1);
  CHECK(f.docs.Get(a->document_id, false)->data == kText);
  CHECK(f.Children(a->document_id).size() == 3);
}

TEST_CASE("invalid content stores nothing", "[document]") {
  Fixture f;
  REQUIRE(f.docs.Ingest(Doc("seed", "text")).ok());
  const uint64_t atoms = f.Count(f.env.tables().atoms);
  const uint64_t edges = f.Count(f.env.tables().atom_relations);
  for (auto [content, modality] : std::vector<std::pair<std::string, std::string>>{
           {"bad \xff utf8", "text"},
           {"RIFF\x10\x00\x00\x00WAVEfmt ", "audio"},
           {"\x89PNG\r\n\x1a\nbroken", "image"},
           {"YUV4MPEG2 W2 H2 Cmono\nFRAME\nab", "video"}}) {
    auto r = f.docs.Ingest(Doc(content, modality));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
  }
  CHECK(f.Count(f.env.tables().atoms) == atoms);
  CHECK(f.Count(f.env.tables().atom_relations) == edges);
}

TEST_CASE("binary, image and empty documents round-trip through storage", "[document]") {
  Fixture f;
  std::mt19937_64 rng(12);
  const std::string blob = testing::RandomBytes(rng, 100000);
  auto b = f.docs.Ingest(Doc(blob));
  REQUIRE(b.ok());
  CHECK(b->format == "binary");
  CHECK(f.docs.Get(b->document_id, false)->data == blob);

  const Raster r{19, 7, 3, 1, testing::RandomBytes(rng, 19 * 7 * 3)};
  const std::string png = *EncodePng(r);
  DocumentInput in = Doc(png, "image");
  in.options.keep_original = true;
  auto p = f.docs.Ingest(in);
  REQUIRE(p.ok());
  auto original = f.docs.Get(p->document_id, false);
  REQUIRE(original.ok());
  CHECK(original->original);
  CHECK(original->data == png);
  auto decoded = f.docs.Get(p->document_id, true);
  REQUIRE(decoded.ok());
  CHECK_FALSE(decoded->original);
  CHECK(DecodePng(decoded->data, 1 << 20)->pixels == r.pixels);

  auto empty = f.docs.Ingest(Doc("", "text"));
  REQUIRE(empty.ok());
  CHECK(empty->parts == 0);
  CHECK(f.docs.Get(empty->document_id, false)->data.empty());
}

TEST_CASE("relations: add, auto ordinals, list both ways, paging", "[graph]") {
  Fixture f;
  const std::vector<uint64_t> ids = f.IngestAtoms(Numbered("atom", 5));
  const uint64_t a = ids[0], b = ids[1], c = ids[2], d = ids[3];
  std::vector<RelationInput> rels = {{a, b, "next", std::nullopt, 0.5, ""},
                                     {a, c, "next", std::nullopt, 1.0, "{\"k\":1}"},
                                     {a, d, "similar", 7, 0.25, ""},
                                     {b, c, "next", std::nullopt, 1.0, ""}};
  auto added = f.graph.AddRelations(rels);
  REQUIRE(added.ok());
  CHECK((*added)[0].edge.ordinal == 0);
  CHECK((*added)[1].edge.ordinal == 1);
  CHECK((*added)[2].edge.ordinal == 7);
  CHECK((*added)[3].edge.ordinal == 0);
  // Adding an existing edge replaces its weight and is not new.
  auto again = f.graph.AddRelations({{a, d, "similar", 7, 0.75, ""}});
  REQUIRE(again.ok());
  CHECK_FALSE((*again)[0].created);

  auto next = f.graph.ListRelations(a, Direction::kChildren, "next", 1, "");
  REQUIRE(next.ok());
  REQUIRE(next->edges.size() == 1);
  CHECK(next->edges[0].target == b);
  CHECK(next->edges[0].record.weight() == 0.5);
  REQUIRE_FALSE(next->next_page_token.empty());
  auto page2 = f.graph.ListRelations(a, Direction::kChildren, "next", 1, next->next_page_token);
  REQUIRE(page2.ok());
  REQUIRE(page2->edges.size() == 1);
  CHECK(page2->edges[0].target == c);
  CHECK(page2->edges[0].record.metadata() == "{\"k\":1}");
  CHECK(page2->next_page_token.empty());
  // A token with another filter is rejected.
  CHECK(f.graph.ListRelations(a, Direction::kChildren, "similar", 1, next->next_page_token)
            .status()
            .code() == Status::Code::kInvalidArgument);

  auto all = f.graph.ListRelations(a, Direction::kChildren, "", 100, "");
  CHECK(all->edges.size() == 3);
  CHECK(all->edges[2].record.weight() == 0.75);
  auto parents = f.graph.ListRelations(c, Direction::kParents, "", 100, "");
  REQUIRE(parents.ok());
  REQUIRE(parents->edges.size() == 2);
  CHECK(parents->edges[0].source == a);
  CHECK(parents->edges[1].source == b);

  auto missing = f.graph.AddRelations({{a, 999, "next", std::nullopt, 1, ""}});
  CHECK(missing.status().code() == Status::Code::kNotFound);
  CHECK(missing.status().message().find("relations[0].target_atom_id") != std::string::npos);
}

TEST_CASE("traversal is breadth-first and bounded", "[graph]") {
  Fixture f;
  const std::vector<uint64_t> ids = f.IngestAtoms(Numbered("n", 6));
  auto id = [&](int i) { return ids[i]; };
  // A chain 0 -> 1 -> 2 -> 3 -> 4 plus 0 -> 5 and a cycle 4 -> 0.
  std::vector<RelationInput> rels;
  for (int i = 0; i < 4; ++i) rels.push_back({id(i), id(i + 1), "next", std::nullopt, 1, ""});
  rels.push_back({id(0), id(5), "other", std::nullopt, 1, ""});
  rels.push_back({id(4), id(0), "next", std::nullopt, 1, ""});
  REQUIRE(f.graph.AddRelations(rels).ok());
  auto t = f.graph.Traverse(id(0), Direction::kChildren, {}, 2, 100);
  REQUIRE(t.ok());
  REQUIRE(t->nodes.size() == 4);  // 0, 1, 5, 2
  CHECK(t->nodes[0].depth == 0);
  CHECK(t->nodes[3].atom_id == id(2));
  CHECK(t->nodes[3].depth == 2);
  auto only_next = f.graph.Traverse(id(0), Direction::kChildren, {"next"}, 64, 100);
  CHECK(only_next->nodes.size() == 5);  // the cycle does not repeat atoms
  auto capped = f.graph.Traverse(id(0), Direction::kChildren, {}, 64, 3);
  CHECK(capped->nodes.size() == 3);
  CHECK(capped->truncated);
  auto up = f.graph.Traverse(id(2), Direction::kParents, {}, 1, 100);
  CHECK(up->nodes.size() == 2);
}

TEST_CASE("'contains' edges hold references", "[graph]") {
  Fixture f;
  const std::vector<uint64_t> ids = f.IngestAtoms({"box", "item"});
  const uint64_t box = ids[0], item = ids[1];
  REQUIRE(f.graph.AddRelations({{box, item, "contains", std::nullopt, 1, ""}}).ok());
  CHECK(f.atoms.Get(item, false)->record.reference_count() == 2);
  REQUIRE(f.atoms.Release(item).ok());  // the ingest's own reference
  CHECK(f.atoms.Get(item, false)->record.is_active());
  REQUIRE(f.atoms.Release(box).ok());  // box inactive: gives back its edge's reference
  CHECK_FALSE(f.atoms.Get(item, false)->record.is_active());
  CHECK(f.Children(box).empty());
  // 'contains' into an inactive atom, or out of a document root, is refused.
  CHECK(f.graph.AddRelations({{box, item, "contains", std::nullopt, 1, ""}}).status().code() ==
        Status::Code::kFailedPrecondition);
  auto doc = f.docs.Ingest(Doc("x. y.", "text"));
  const uint64_t live = f.IngestAtoms({"live"})[0];
  CHECK(f.graph.AddRelations({{doc->document_id, live, "contains", std::nullopt, 1, ""}})
            .status()
            .code() == Status::Code::kFailedPrecondition);
}

TEST_CASE("purging an atom removes edges in both directions", "[graph]") {
  Fixture f;
  const std::vector<uint64_t> ids = f.IngestAtoms({"p", "q", "r"});
  const uint64_t p = ids[0], q = ids[1], r = ids[2];
  REQUIRE(f.graph
              .AddRelations({{p, q, "next", std::nullopt, 1, ""},
                             {q, r, "next", std::nullopt, 1, ""},
                             {r, p, "likes", std::nullopt, 1, ""}})
              .ok());
  REQUIRE(f.atoms.Delete(q).ok());
  auto purged = f.atoms.PurgeInactive(0);
  REQUIRE(purged.ok());
  CHECK(purged->dependent_rows_removed == 2);
  CHECK(f.Count(f.env.tables().atom_relations) == 1);
  CHECK(f.Count(f.env.tables().atom_relations_reverse) == 1);
  CHECK(f.Children(p).empty());
  CHECK(f.graph.ListRelations(r, Direction::kParents, "", 10, "")->edges.empty());
}

}  // namespace
TEST_CASE("image patches keep their shape metadata in four numbers on disk", "[document]") {
  Fixture f;
  std::string pgm = "P5\n4 4\n255\n";
  for (int i = 0; i < 16; ++i) pgm.push_back(static_cast<char>(i * 13));
  engine::DocumentInput input = Doc(pgm, "image");
  input.options.patch_width = 2;
  input.options.patch_height = 2;
  auto a = f.docs.Ingest(input);
  REQUIRE(a.ok());
  int patches = 0;
  for (const auto& edge : f.Children(a->document_id, "contains")) {
    auto atom = f.atoms.Get(edge.target, false);
    REQUIRE(atom.ok());
    if (atom->record.subtype() != "patch") continue;  // the file's header
    ++patches;
    // What the image decomposer wrote comes back ...
    CHECK(atom->record.metadata() == R"({"bytes_per_sample":1,"channels":1,"height":2,"width":2})");
    // ... from a row that holds it as [bytes per sample, channels, height, width].
    storage::ReadTxn txn(f.env.env());
    std::string_view value;
    REQUIRE(*txn.Get(f.env.tables().atoms, storage::Be64Key(edge.target), &value));
    storage::AtomRecord raw;
    REQUIRE(raw.ParseFromArray(value.data(), static_cast<int>(value.size())));
    CHECK(raw.metadata().empty());
    CHECK(std::vector<uint32_t>(raw.patch_shape().begin(), raw.patch_shape().end()) ==
          std::vector<uint32_t>{1, 1, 2, 2});
  }
  CHECK(patches == 4);
  auto got = f.docs.Get(a->document_id, false);
  REQUIRE(got.ok());
  CHECK(got->data == pgm);
}

}  // namespace hartonomous::engine
