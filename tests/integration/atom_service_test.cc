// AtomService through the real daemon and the client library.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <thread>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

TEST_CASE("identical content maps to one atom whose reference count grows", "[atoms]") {
  Daemon daemon;
  v1::IngestAtomResponse first, second, other;
  REQUIRE(daemon.client().IngestAtom(TextAtom("hello atoms"), &first).ok());
  REQUIRE(daemon.client().IngestAtom(TextAtom("hello atoms"), &second).ok());
  REQUIRE(daemon.client().IngestAtom(TextAtom("something else"), &other).ok());
  CHECK(first.created());
  CHECK_FALSE(second.created());
  CHECK(second.atom_id() == first.atom_id());
  CHECK(first.reference_count() == 1);
  CHECK(second.reference_count() == 2);
  CHECK(other.atom_id() != first.atom_id());
  // The identity is SHA-256, computed here independently of the server.
  CHECK(first.content_hash() == Sha256Hex("hello atoms"));
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(first.atom_id(), true, &atom).ok());
  CHECK(atom.reference_count() == 2);
  CHECK(atom.is_active());
  CHECK(atom.content() == "hello atoms");
  CHECK(atom.modality() == "text");
  CHECK(atom.content_size() == 11);
}

TEST_CASE("content of every size comes back byte for byte, by id and by hash", "[atoms]") {
  Daemon daemon;
  for (size_t size : {size_t{1}, size_t{1000}, size_t{1} << 20, (size_t{3} << 20) + 17}) {
    const std::string content = BinaryContent(size, static_cast<uint32_t>(size));
    v1::IngestAtomRequest request;
    request.set_content(content);
    request.set_modality("binary");
    request.set_metadata(R"({"size": )" + std::to_string(size) + "}");
    request.mutable_spatial_key()->set_x(1.5);
    request.mutable_spatial_key()->set_z(-2);
    v1::IngestAtomResponse response;
    REQUIRE(daemon.client().IngestAtom(request, &response).ok());
    v1::Atom by_id, by_hash;
    REQUIRE(daemon.client().GetAtom(response.atom_id(), true, &by_id).ok());
    REQUIRE(daemon.client().GetAtomByHash(response.content_hash(), true, &by_hash).ok());
    CHECK(by_id.content() == content);
    CHECK(by_hash.atom_id() == response.atom_id());
    CHECK(by_hash.content() == content);
    CHECK(by_id.metadata() == request.metadata());
    CHECK(by_id.spatial_key().x() == 1.5);
    CHECK(by_id.spatial_key().z() == -2);
    v1::Atom without;
    REQUIRE(daemon.client().GetAtom(response.atom_id(), false, &without).ok());
    CHECK(without.content().empty());
    CHECK(without.content_size() == size);
  }
}

TEST_CASE("a batch stream commits as one transaction and dedups within itself", "[atoms]") {
  Daemon daemon;
  std::vector<v1::IngestAtomRequest> batch;
  for (int i = 0; i < 300; ++i) batch.push_back(TextAtom("line " + std::to_string(i % 100)));
  v1::IngestAtomsResponse response;
  // Small messages: the stream spans many messages, still one transaction.
  REQUIRE(daemon.client().IngestAtoms(batch, &response, 512).ok());
  REQUIRE(response.results_size() == 300);
  CHECK(response.atoms_created() == 100);
  CHECK(response.atoms_reused() == 200);
  for (int i = 0; i < 300; ++i) {
    CHECK(response.results(i).atom_id() == response.results(i % 100).atom_id());
    CHECK(response.results(i).reference_count() == i / 100 + 1);
  }
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(response.results(5).atom_id(), false, &atom).ok());
  CHECK(atom.reference_count() == 3);
}

TEST_CASE("concurrent clients ingesting overlapping content get exact reference counts",
          "[atoms][concurrency]") {
  Daemon daemon;
  constexpr int kClients = 8;
  constexpr int kRounds = 40;
  // Client c ingests content k for k in [c, c + 20): overlapping windows.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      ClientOptions options;
      options.target = daemon.address();
      Client client(options);
      for (int round = 0; round < kRounds; ++round) {
        if (round % 2 == 0) {
          v1::IngestAtomResponse r;
          if (!client.IngestAtom(TextAtom("shared " + std::to_string(c + round % 20)), &r).ok())
            ++failures;
        } else {
          std::vector<v1::IngestAtomRequest> batch;
          for (int k = 0; k < 20; ++k) batch.push_back(TextAtom("shared " + std::to_string(c + k)));
          v1::IngestAtomsResponse r;
          if (!client.IngestAtoms(batch, &r).ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  std::map<std::string, int64_t> expected;
  for (int c = 0; c < kClients; ++c) {
    for (int round = 0; round < kRounds; ++round) {
      if (round % 2 == 0) {
        ++expected["shared " + std::to_string(c + round % 20)];
      } else {
        for (int k = 0; k < 20; ++k) ++expected["shared " + std::to_string(c + k)];
      }
    }
  }
  std::map<std::string, int64_t> actual;
  v1::ListAtomsRequest all;
  all.set_include_content(true);
  REQUIRE(daemon.client()
              .ListAtoms(all,
                         [&](const v1::Atom& a) {
                           actual[a.content()] = a.reference_count();
                           return true;
                         })
              .ok());
  CHECK(actual == expected);
  v1::DedupStats stats;
  REQUIRE(daemon.client().GetDedupStats(0, &stats).ok());
  int64_t total_refs = 0;
  for (const auto& [content, refs] : expected) total_refs += refs;
  CHECK(stats.total().total_references() == static_cast<uint64_t>(total_refs));
  CHECK(stats.total().unique_atoms() == expected.size());
}

TEST_CASE("release, delete and purge follow reference counting", "[atoms]") {
  Daemon daemon;
  auto& client = daemon.client();
  v1::IngestAtomResponse a, b;
  REQUIRE(client.IngestAtom(TextAtom("to be released"), &a).ok());
  REQUIRE(client.IngestAtom(TextAtom("to be released"), &a).ok());
  REQUIRE(client.IngestAtom(TextAtom("to be deleted"), &b).ok());

  v1::Atom atom;
  REQUIRE(client.ReleaseAtom(a.atom_id(), &atom).ok());
  CHECK(atom.reference_count() == 1);
  CHECK(atom.is_active());
  REQUIRE(client.ReleaseAtom(a.atom_id(), &atom).ok());
  CHECK(atom.reference_count() == 0);
  CHECK_FALSE(atom.is_active());
  grpc::Status again = client.ReleaseAtom(a.atom_id(), &atom);
  CHECK(again.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(again.error_message(), Catch::Contains("atom_id"));

  REQUIRE(client.DeleteAtom(b.atom_id(), &atom).ok());
  CHECK_FALSE(atom.is_active());
  CHECK(atom.reference_count() == 0);

  // Ingesting soft-deleted content revives the same atom with one reference.
  v1::IngestAtomResponse revived;
  REQUIRE(client.IngestAtom(TextAtom("to be deleted"), &revived).ok());
  CHECK(revived.atom_id() == b.atom_id());
  CHECK(revived.reference_count() == 1);
  CHECK_FALSE(revived.created());

  v1::ListAtomsRequest inactive;
  inactive.set_is_active(false);
  std::vector<uint64_t> ids;
  REQUIRE(client
              .ListAtoms(inactive,
                         [&](const v1::Atom& x) {
                           ids.push_back(x.atom_id());
                           return true;
                         })
              .ok());
  CHECK(ids == std::vector<uint64_t>{a.atom_id()});

  v1::PurgeInactiveResponse purged;
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() == 1);
  CHECK(purged.bytes_freed() == std::string("to be released").size());
  CHECK(client.GetAtom(a.atom_id(), false, &atom).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.GetAtomByHash(a.content_hash(), false, &atom).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  REQUIRE(client.GetAtom(b.atom_id(), false, &atom).ok());

  // Purged content is new again: a new atom id.
  v1::IngestAtomResponse fresh;
  REQUIRE(client.IngestAtom(TextAtom("to be released"), &fresh).ok());
  CHECK(fresh.created());
  CHECK(fresh.atom_id() != a.atom_id());
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() == 0);
}

TEST_CASE("ListAtoms filters and pages with tokens", "[atoms][list]") {
  Daemon daemon;
  std::vector<v1::IngestAtomRequest> batch;
  for (int i = 0; i < 120; ++i)
    batch.push_back(TextAtom("para " + std::to_string(i), i % 3 == 0 ? "title" : "para"));
  for (int i = 0; i < 10; ++i) {
    v1::IngestAtomRequest img;
    img.set_content("pixels " + std::to_string(i));
    img.set_modality("image");
    img.set_subtype("patch");
    batch.push_back(img);
  }
  v1::IngestAtomsResponse ingested;
  REQUIRE(daemon.client().IngestAtoms(batch, &ingested).ok());

  v1::ListAtomsRequest request;
  request.set_modality("text");
  request.set_page_size(50);
  v1::ListAtomsResponse page;
  std::vector<uint64_t> ids;
  int pages = 0;
  do {
    REQUIRE(daemon.client().ListAtomsPage(request, &page).ok());
    for (const auto& a : page.atoms()) {
      CHECK(a.modality() == "text");
      ids.push_back(a.atom_id());
    }
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!page.next_page_token().empty());
  CHECK(pages == 3);
  CHECK(ids.size() == 120);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(std::set<uint64_t>(ids.begin(), ids.end()).size() == 120);

  v1::ListAtomsRequest titles;
  titles.set_modality("text");
  titles.set_subtype("title");
  int n = 0;
  REQUIRE(daemon.client()
              .ListAtoms(titles,
                         [&](const v1::Atom& a) {
                           CHECK(a.subtype() == "title");
                           ++n;
                           return true;
                         })
              .ok());
  CHECK(n == 40);

  // A token is bound to its filter.
  v1::ListAtomsRequest first;
  first.set_modality("text");
  first.set_page_size(10);
  REQUIRE(daemon.client().ListAtomsPage(first, &page).ok());
  REQUIRE_FALSE(page.next_page_token().empty());
  v1::ListAtomsRequest changed;
  changed.set_modality("image");
  changed.set_page_token(page.next_page_token());
  grpc::Status status = daemon.client().ListAtomsPage(changed, &page);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("page_token"));

  // Oversized pages are capped at 1000.
  v1::ListAtomsRequest big;
  big.set_page_size(5000);
  REQUIRE(daemon.client().ListAtomsPage(big, &page).ok());
  CHECK(page.atoms_size() == 130);
}

TEST_CASE("GetDedupStats answers top atoms and per-modality savings", "[atoms][stats]") {
  Daemon daemon;
  const std::string a = "the same license paragraph";
  const std::string b = "a unique sentence";
  v1::IngestAtomResponse r;
  for (int i = 0; i < 3; ++i) REQUIRE(daemon.client().IngestAtom(TextAtom(a), &r).ok());
  REQUIRE(daemon.client().IngestAtom(TextAtom(b), &r).ok());
  v1::IngestAtomRequest img;
  img.set_content(std::string(64, 'x'));
  img.set_modality("image");
  REQUIRE(daemon.client().IngestAtom(img, &r).ok());
  REQUIRE(daemon.client().IngestAtom(img, &r).ok());

  v1::DedupStats stats;
  REQUIRE(daemon.client().GetDedupStats(2, &stats).ok());
  REQUIRE(stats.top_atoms_size() == 2);
  CHECK(stats.top_atoms(0).reference_count() == 3);
  CHECK(stats.top_atoms(0).canonical_text() == a);
  CHECK(stats.top_atoms(1).reference_count() == 2);
  CHECK(stats.top_atoms(1).modality() == "image");
  std::map<std::string, v1::ModalityDedupStats> by;
  for (const auto& m : stats.modalities()) by[m.modality()] = m;
  REQUIRE(by.count("text") == 1);
  const auto& text = by["text"];
  CHECK(text.unique_atoms() == 2);
  CHECK(text.total_references() == 4);
  CHECK(text.duplicates_avoided() == 2);
  CHECK(text.unique_bytes() == a.size() + b.size());
  CHECK(text.logical_bytes() == 3 * a.size() + b.size());
  CHECK(text.bytes_saved() == 2 * a.size());
  CHECK(text.savings_percent() == Approx(100.0 * 2 * a.size() / (3 * a.size() + b.size())));
  CHECK(by["image"].duplicates_avoided() == 1);
  CHECK(stats.total().unique_atoms() == 3);
  CHECK(stats.total().total_references() == 6);

  // Releases move the counters too.
  v1::Atom atom;
  REQUIRE(daemon.client().ReleaseAtom(stats.top_atoms(0).atom_id(), &atom).ok());
  REQUIRE(daemon.client().GetDedupStats(0, &stats).ok());
  for (const auto& m : stats.modalities()) {
    if (m.modality() == "text") CHECK(m.total_references() == 3);
  }
}

TEST_CASE("bad input gets a clear status and stores nothing", "[atoms][errors]") {
  Daemon::Options options;
  options.extra_args = {"--max-content-bytes", "1024"};
  Daemon daemon(options);
  auto& client = daemon.client();
  struct Case {
    std::string name;
    v1::IngestAtomRequest request;
    grpc::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  {
    Case c{"empty content", TextAtom(""), grpc::StatusCode::INVALID_ARGUMENT, "content"};
    cases.push_back(c);
  }
  {
    Case c{"bad metadata", TextAtom("x"), grpc::StatusCode::INVALID_ARGUMENT, "metadata"};
    c.request.set_metadata("{not json");
    cases.push_back(c);
  }
  {
    Case c{"metadata not an object", TextAtom("x"), grpc::StatusCode::INVALID_ARGUMENT, "metadata"};
    c.request.set_metadata("[1,2]");
    cases.push_back(c);
  }
  {
    Case c{"oversize", TextAtom(std::string(1025, 'a')), grpc::StatusCode::RESOURCE_EXHAUSTED,
           "content"};
    cases.push_back(c);
  }
  {
    Case c{"missing modality", TextAtom("x"), grpc::StatusCode::INVALID_ARGUMENT, "modality"};
    c.request.clear_modality();
    cases.push_back(c);
  }
  {
    Case c{"NaN spatial key", TextAtom("x"), grpc::StatusCode::INVALID_ARGUMENT, "spatial_key"};
    c.request.mutable_spatial_key()->set_x(std::nan(""));
    cases.push_back(c);
  }
  for (const auto& c : cases) {
    INFO(c.name);
    v1::IngestAtomResponse response;
    grpc::Status status = client.IngestAtom(c.request, &response);
    CHECK(status.error_code() == c.code);
    CHECK_THAT(status.error_message(), Catch::Contains(c.field));
  }

  // A batch with one bad atom stores none of them.
  std::vector<v1::IngestAtomRequest> batch = {TextAtom("ok 1"), TextAtom("ok 2"), TextAtom("ok 3"),
                                              TextAtom("bad")};
  batch[3].set_metadata("nope");
  v1::IngestAtomsResponse batch_response;
  grpc::Status status = client.IngestAtoms(batch, &batch_response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("atoms[3].metadata"));

  v1::Atom atom;
  CHECK(client.GetAtom(424242, false, &atom).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.GetAtom(0, false, &atom).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  status = client.GetAtomByHash("abc123", false, &atom);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("content_hash"));
  CHECK(client.GetAtomByHash(std::string(64, 'f'), false, &atom).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(client.ReleaseAtom(999, &atom).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.DeleteAtom(999, &atom).error_code() == grpc::StatusCode::NOT_FOUND);

  v1::ListAtomsRequest forged;
  forged.set_page_token("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  v1::ListAtomsResponse page;
  status = client.ListAtomsPage(forged, &page);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("page_token"));
  v1::ListAtomsRequest negative;
  negative.set_page_size(-1);
  CHECK(client.ListAtomsPage(negative, &page).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::DedupStats stats;
  CHECK(client.GetDedupStats(-5, &stats).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // Nothing was written by any of the failures, and the server still serves.
  v1::ListAtomsRequest all;
  REQUIRE(client.ListAtomsPage(all, &page).ok());
  CHECK(page.atoms_size() == 0);
  v1::ServerStats server;
  REQUIRE(client.GetServerStats(&server).ok());
  for (const auto& t : server.tables()) {
    if (t.name() == "atoms" || t.name() == "atom_hash" || t.name() == "atom_payload") {
      CHECK(t.entries() == 0);
    }
  }
  v1::IngestAtomResponse ok;
  CHECK(client.IngestAtom(TextAtom("still serving"), &ok).ok());
}

TEST_CASE("an atom of exactly the default 64 MiB limit round-trips, one byte more is refused",
          "[atoms][limits]") {
  Daemon daemon;
  std::string content = BinaryContent(size_t{64} << 20, 64);
  v1::IngestAtomRequest request;
  request.set_content(content);
  request.set_modality("binary");
  v1::IngestAtomResponse response;
  REQUIRE(daemon.client().IngestAtom(request, &response).ok());
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(response.atom_id(), true, &atom).ok());
  CHECK(atom.content_size() == content.size());
  CHECK(atom.content() == content);
  request.mutable_content()->push_back('!');
  grpc::Status status = daemon.client().IngestAtom(request, &response);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Catch::Contains("content"));
}

TEST_CASE("a full LMDB map grows without the client noticing", "[atoms][storage]") {
  Daemon::Options options;
  options.extra_args = {"--initial-map-bytes", "1M"};
  Daemon daemon(options);
  std::vector<v1::IngestAtomRequest> batch;
  for (uint32_t i = 0; i < 40; ++i) {
    v1::IngestAtomRequest request;
    request.set_content(BinaryContent(256 << 10, i + 1000));
    request.set_modality("binary");
    batch.push_back(request);
  }
  v1::IngestAtomsResponse response;
  REQUIRE(daemon.client().IngestAtoms(batch, &response).ok());
  CHECK(response.atoms_created() == 40);
  v1::ServerStats stats;
  REQUIRE(daemon.client().GetServerStats(&stats).ok());
  CHECK(stats.map_resizes() >= 3);
  CHECK(stats.map_size_bytes() >= (size_t{10} << 20));
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(response.results(39).atom_id(), true, &atom).ok());
  CHECK(atom.content() == batch[39].content());
}

TEST_CASE("a cancelled ingest stream stores nothing", "[atoms][errors]") {
  Daemon daemon;
  v1::ServerStats before;
  REQUIRE(daemon.client().GetServerStats(&before).ok());
  {
    auto stream = daemon.client().OpenIngestStream(1);  // one message per atom
    for (int i = 0; i < 20; ++i) REQUIRE(stream->Write(TextAtom("cancelled " + std::to_string(i))));
    // The server holds the stream (in flight next to this stats call).
    v1::ServerStats stats;
    for (int i = 0; i < 10000; ++i) {
      REQUIRE(daemon.client().GetServerStats(&stats).ok());
      if (stats.in_flight_calls() >= 2) break;
    }
    REQUIRE(stats.in_flight_calls() >= 2);
  }  // destroyed without Finish(): the call is cancelled
  v1::ServerStats stats;
  for (int i = 0; i < 10000; ++i) {  // until the server has finished with it
    REQUIRE(daemon.client().GetServerStats(&stats).ok());
    if (stats.in_flight_calls() == 1) break;
  }
  REQUIRE(stats.in_flight_calls() == 1);
  for (const auto& t : stats.tables()) {
    if (t.name() == "atoms") CHECK(t.entries() == 0);
  }
  CHECK(stats.commits() == before.commits());
}

TEST_CASE("compressed storage: content and canonical_text come back unchanged, stats add up",
          "[atoms][stats][compression]") {
  Daemon daemon;
  const std::string license = ReadFile("/usr/share/common-licenses/GPL-3");
  REQUIRE(license.size() > 30000);
  const std::string noise = BinaryContent(20000, 7);
  const std::string summary_text = "a summary that is not the content";
  v1::IngestAtomResponse text_atom, binary_atom, summarized;
  REQUIRE(daemon.client().IngestAtom(TextAtom(license), &text_atom).ok());
  v1::IngestAtomRequest bin;
  bin.set_content(noise);
  bin.set_modality("binary");
  REQUIRE(daemon.client().IngestAtom(bin, &binary_atom).ok());
  v1::IngestAtomRequest other = TextAtom(license.substr(0, 5000));
  other.set_canonical_text(summary_text);
  REQUIRE(daemon.client().IngestAtom(other, &summarized).ok());

  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(text_atom.atom_id(), true, &atom).ok());
  CHECK(atom.content() == license);
  CHECK(atom.canonical_text() == license);
  CHECK(atom.content_size() == license.size());
  REQUIRE(daemon.client().GetAtom(text_atom.atom_id(), false, &atom).ok());
  CHECK(atom.content().empty());
  CHECK(atom.canonical_text() == license);
  REQUIRE(daemon.client().GetAtom(summarized.atom_id(), false, &atom).ok());
  CHECK(atom.canonical_text() == summary_text);
  REQUIRE(daemon.client().GetAtom(binary_atom.atom_id(), true, &atom).ok());
  CHECK(atom.content() == noise);
  CHECK(atom.canonical_text().empty());
  v1::ListAtomsRequest list;
  list.set_modality("text");
  std::map<uint64_t, std::string> listed;
  REQUIRE(daemon.client()
              .ListAtoms(list,
                         [&](const v1::Atom& a) {
                           listed[a.atom_id()] = a.canonical_text();
                           return true;
                         })
              .ok());
  CHECK(listed[text_atom.atom_id()] == license);
  CHECK(listed[summarized.atom_id()] == summary_text);

  v1::DedupStats stats;
  REQUIRE(daemon.client().GetDedupStats(10, &stats).ok());
  std::map<std::string, v1::ModalityDedupStats> by;
  for (const auto& m : stats.modalities()) by[m.modality()] = m;
  const auto& text = by["text"];
  CHECK(text.unique_bytes() == license.size() + 5000);
  CHECK(text.stored_bytes() < text.unique_bytes() / 2);  // prose compresses
  CHECK(text.received_bytes() == text.logical_bytes());
  CHECK(by["binary"].stored_bytes() == noise.size());  // noise is kept raw
  CHECK(stats.total().stored_bytes() == text.stored_bytes() + noise.size());
  CHECK(stats.total().received_bytes() == license.size() + 5000 + noise.size());
  CHECK(stats.data_file_bytes() > 0);
  CHECK(stats.data_used_bytes() > 0);
  CHECK(stats.data_used_bytes() <= stats.data_file_bytes());
  const double received = static_cast<double>(stats.total().received_bytes());
  CHECK(stats.disk_savings_percent() ==
        Approx(100.0 * (received - static_cast<double>(stats.data_file_bytes())) / received));
  bool found = false;
  for (const auto& top : stats.top_atoms()) {
    if (top.atom_id() == text_atom.atom_id()) {
      found = true;
      CHECK(top.canonical_text() == license.substr(0, 120));
    }
  }
  CHECK(found);

  // Release answers the atom with its canonical_text too.
  REQUIRE(daemon.client().ReleaseAtom(text_atom.atom_id(), &atom).ok());
  CHECK(atom.canonical_text() == license);
  CHECK_FALSE(atom.is_active());
}
