// The response byte budget (--max-response-bytes) through the real daemon:
// result sets that would exceed it are RESOURCE_EXHAUSTED naming the limit
// (and the daemon keeps serving), listings end their pages early and paging
// returns every item exactly once, traversals stop and say truncated, and
// streamed documents are not limited by it.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

constexpr size_t kBudget = size_t{5} << 20;  // the smallest allowed with 1M content

Daemon::Options SmallBudget() {
  Daemon::Options options;
  options.extra_args = {"--max-content-bytes", "1M", "--max-response-bytes", "5M"};
  return options;
}

// A JSON object of about `bytes` bytes whose padding is made of `fill`.
std::string PaddedMetadata(char fill, size_t bytes) {
  return "{\"pad\":\"" + std::string(bytes, fill) + "\"}";
}

// n atoms carrying about 1,000,000 bytes of metadata each, with a 4-d
// embedding each in collection "big".
std::vector<uint64_t> AtomsWithBigMetadata(Client& client, int n) {
  std::vector<uint64_t> ids;
  std::vector<v1::EmbeddingInput> embeddings;
  for (int i = 0; i < n; ++i) {
    v1::IngestAtomRequest atom = TextAtom("big metadata " + std::to_string(i));
    atom.set_metadata(PaddedMetadata(static_cast<char>('a' + i), 1000000));
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(atom, &response).ok());
    ids.push_back(response.atom_id());
    v1::EmbeddingInput in;
    in.set_atom_id(response.atom_id());
    for (int d = 0; d < 4; ++d) in.add_vector(static_cast<float>(i * 4 + d));
    embeddings.push_back(in);
  }
  v1::CreateCollectionRequest create;
  create.set_name("big");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_dimension(4);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("big", nullptr, embeddings, &added).ok());
  return ids;
}

v1::SearchRequest Query(uint32_t k, bool with_metadata) {
  v1::SearchRequest q;
  q.set_collection("big");
  for (int d = 0; d < 4; ++d) q.add_vector(0.0f);
  q.set_limit(k);
  q.set_with_metadata(with_metadata);
  return q;
}

void CheckNamesTheLimit(const grpc::Status& status) {
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(),
             Catch::Contains("response: would exceed " + std::to_string(kBudget) + " bytes") &&
                 Catch::Contains("--max-response-bytes"));
}

// Pages through a listing with fetch(request, &page), checking that every
// page fits the budget, and hands each page to on_page. Returns the number
// of pages.
template <typename Response, typename Request, typename Fetch, typename OnPage>
int PageThrough(Request request, Fetch fetch, OnPage on_page) {
  int pages = 0;
  do {
    Response page;
    REQUIRE(fetch(request, &page).ok());
    ++pages;
    CHECK(page.ByteSizeLong() <= kBudget);
    on_page(page);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return pages;
}

}  // namespace

TEST_CASE("search results over the response budget are RESOURCE_EXHAUSTED and the daemon lives on",
          "[budget][search]") {
  Daemon daemon(SmallBudget());
  Client& client = daemon.client();
  const auto ids = AtomsWithBigMetadata(client, 6);

  // The shape: a small BatchSearch (700 searches, k = 3, with
  // metadata) whose answer would be about 2 GB.
  v1::BatchSearchRequest batch;
  for (int i = 0; i < 700; ++i) *batch.add_searches() = Query(3, true);
  REQUIRE(batch.ByteSizeLong() < 64 * 1024);
  v1::BatchSearchResponse batch_response;
  CheckNamesTheLimit(client.BatchSearch(batch, &batch_response));

  // Two searches that fit alone do not fit together.
  v1::BatchSearchRequest two;
  *two.add_searches() = Query(3, true);
  *two.add_searches() = Query(3, true);
  CheckNamesTheLimit(client.BatchSearch(two, &batch_response));

  v1::SearchResponse search_response;
  CheckNamesTheLimit(client.Search(Query(6, true), &search_response));

  v1::HybridSearchRequest hybrid;
  hybrid.set_collection("big");
  for (int d = 0; d < 4; ++d) hybrid.add_vector(0.0f);
  hybrid.set_limit(6);
  hybrid.set_keep_fraction(1.0);
  hybrid.set_with_metadata(true);
  v1::HybridSearchResponse hybrid_response;
  CheckNamesTheLimit(client.HybridSearch(hybrid, &hybrid_response));

  // Still serving, and what fits is answered in full.
  v1::ServerStats stats;
  REQUIRE(client.GetServerStats(&stats).ok());
  REQUIRE(client.Search(Query(3, true), &search_response).ok());
  REQUIRE(search_response.results_size() == 3);
  for (const auto& hit : search_response.results()) {
    const size_t i = std::find(ids.begin(), ids.end(), hit.atom_id()) - ids.begin();
    REQUIRE(i < ids.size());
    CHECK(hit.metadata() == PaddedMetadata(static_cast<char>('a' + i), 1000000));
  }
  CHECK(search_response.ByteSizeLong() <= kBudget);
  hybrid.set_limit(3);
  REQUIRE(client.HybridSearch(hybrid, &hybrid_response).ok());
  CHECK(hybrid_response.results_size() == 3);
  // Without metadata the 700 searches are small.
  for (auto& q : *batch.mutable_searches()) q.set_with_metadata(false);
  REQUIRE(client.BatchSearch(batch, &batch_response).ok());
  CHECK(batch_response.results_size() == 700);
}

TEST_CASE("ListAtoms pages end early at the response budget and paging returns every atom once",
          "[budget][atoms]") {
  Daemon daemon(SmallBudget());
  Client& client = daemon.client();
  // 12 atoms of 700,000 bytes: 8.4 MB of content, more than the budget.
  std::mt19937 rng(7);
  std::map<uint64_t, std::string> contents;
  for (int i = 0; i < 12; ++i) {
    std::string content(700000, '\0');
    for (auto& c : content) c = static_cast<char>(rng());
    v1::IngestAtomRequest atom;
    atom.set_content(content);
    atom.set_modality("binary");
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(atom, &response).ok());
    contents[response.atom_id()] = content;
  }
  // And 6 atoms with 1 MB of metadata and no content to speak of.
  std::set<uint64_t> with_metadata;
  for (int i = 0; i < 6; ++i) {
    v1::IngestAtomRequest atom = TextAtom("metadata only " + std::to_string(i));
    atom.set_metadata(PaddedMetadata(static_cast<char>('a' + i), 1000000));
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(atom, &response).ok());
    with_metadata.insert(response.atom_id());
  }

  SECTION("with content") {
    v1::ListAtomsRequest request;
    request.set_modality("binary");
    request.set_include_content(true);
    request.set_page_size(1000);
    std::map<uint64_t, std::string> seen;
    const int pages = PageThrough<v1::ListAtomsResponse>(
        request, [&](const auto& r, auto* page) { return client.ListAtomsPage(r, page); },
        [&](const v1::ListAtomsResponse& page) {
          CHECK(page.atoms_size() >= 1);
          for (const auto& atom : page.atoms()) {
            CHECK(seen.emplace(atom.atom_id(), atom.content()).second);  // exactly once
          }
        });
    CHECK(pages >= 2);
    CHECK(seen == contents);
  }

  SECTION("without content, metadata alone") {
    v1::ListAtomsRequest request;
    request.set_modality("text");
    request.set_page_size(1000);
    std::set<uint64_t> seen;
    const int pages = PageThrough<v1::ListAtomsResponse>(
        request, [&](const auto& r, auto* page) { return client.ListAtomsPage(r, page); },
        [&](const v1::ListAtomsResponse& page) {
          for (const auto& atom : page.atoms()) CHECK(seen.insert(atom.atom_id()).second);
        });
    CHECK(pages >= 2);
    CHECK(seen == with_metadata);
  }

  SECTION("one maximal atom always fits") {
    v1::IngestAtomRequest atom = TextAtom(std::string(1 << 20, 'm'));
    atom.set_canonical_text(std::string(1 << 20, 'c'));
    atom.set_metadata(PaddedMetadata('z', (1 << 20) - 16));
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(atom, &response).ok());
    v1::Atom got;
    REQUIRE(client.GetAtom(response.atom_id(), true, &got).ok());
    CHECK(got.content() == atom.content());
    CHECK(got.metadata() == atom.metadata());
  }
}

TEST_CASE("ListRelations pages and TraverseRelations stop at the response budget",
          "[budget][relations]") {
  Daemon daemon(SmallBudget());
  Client& client = daemon.client();
  v1::IngestAtomResponse hub;
  REQUIRE(client.IngestAtom(TextAtom("hub"), &hub).ok());
  // 100 edges with 60,000 bytes of metadata each: 6 MB of relations.
  v1::AddRelationsRequest add;
  std::set<uint64_t> targets;
  for (int i = 0; i < 100; ++i) {
    v1::IngestAtomResponse leaf;
    REQUIRE(client.IngestAtom(TextAtom("leaf " + std::to_string(i)), &leaf).ok());
    targets.insert(leaf.atom_id());
    auto* r = add.add_relations();
    r->set_source_atom_id(hub.atom_id());
    r->set_target_atom_id(leaf.atom_id());
    r->set_relation_type("links");
    r->set_metadata(PaddedMetadata(static_cast<char>('a' + i % 26), 60000));
  }
  v1::AddRelationsResponse added;
  REQUIRE(client.AddRelations(add, &added).ok());
  REQUIRE(added.created() == 100);

  v1::ListRelationsRequest list;
  list.set_atom_id(hub.atom_id());
  list.set_page_size(1000);
  std::set<uint64_t> seen;
  const int pages = PageThrough<v1::ListRelationsResponse>(
      list, [&](const auto& r, auto* page) { return client.ListRelationsPage(r, page); },
      [&](const v1::ListRelationsResponse& page) {
        for (const auto& r : page.relations()) CHECK(seen.insert(r.target_atom_id()).second);
      });
  CHECK(pages >= 2);
  CHECK(seen == targets);

  v1::TraverseRelationsRequest traverse;
  traverse.set_atom_id(hub.atom_id());
  traverse.set_max_depth(1);
  v1::TraverseRelationsResponse tree;
  REQUIRE(client.TraverseRelations(traverse, &tree).ok());
  CHECK(tree.truncated());
  CHECK(tree.nodes_size() > 1);
  CHECK(tree.nodes_size() < 101);
  CHECK(tree.ByteSizeLong() <= kBudget);
}

TEST_CASE("a document larger than the response budget streams back whole", "[budget][documents]") {
  Daemon daemon(SmallBudget());
  std::mt19937 rng(3);
  std::string data(6 << 20, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  v1::IngestDocumentRequest header;
  header.set_modality("binary");
  v1::IngestDocumentResponse doc;
  REQUIRE(daemon.client().IngestDocument(header, data, &doc).ok());
  v1::DocumentDescription description;
  std::string back;
  size_t largest_chunk = 0;
  REQUIRE(daemon.client()
              .GetDocument(doc.document_id(), false, &description,
                           [&](std::string_view chunk) {
                             largest_chunk = std::max(largest_chunk, chunk.size());
                             back.append(chunk);
                             return true;
                           })
              .ok());
  CHECK(back == data);
  CHECK(largest_chunk <= kBudget);
}

TEST_CASE("an IngestAtoms stream whose results would exceed the budget stores nothing",
          "[budget][atoms]") {
  Daemon daemon(SmallBudget());
  Client& client = daemon.client();
  // 25,000 one-byte atoms: a small stream whose response (one result with a
  // 64-digit hash per atom) is counted at 272 bytes each, over 5 MiB.
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < 25000; ++i) {
    v1::IngestAtomRequest atom;
    atom.set_content(std::string(1, static_cast<char>(i % 251)));
    atom.set_modality("binary");
    atoms.push_back(atom);
  }
  v1::IngestAtomsResponse response;
  grpc::Status refused = client.IngestAtoms(atoms, &response);
  CheckNamesTheLimit(refused);
  CHECK_THAT(refused.error_message(), Catch::Contains("split it into several streams"));
  v1::DedupStats stats;
  REQUIRE(client.GetDedupStats(0, &stats).ok());
  CHECK(stats.total().unique_atoms() == 0);

  atoms.resize(10000);
  REQUIRE(client.IngestAtoms(atoms, &response).ok());
  CHECK(response.results_size() == 10000);
  CHECK(response.ByteSizeLong() <= kBudget);
  REQUIRE(client.GetDedupStats(0, &stats).ok());
  CHECK(stats.total().unique_atoms() == 251);
}
