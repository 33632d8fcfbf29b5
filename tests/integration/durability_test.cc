// Acknowledged writes survive kill -9: clients ingest concurrently, the
// daemon is killed while writes are in flight, and after a restart every
// acknowledged atom is there with its content and at least its
// acknowledged reference count.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "daemon_harness.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

TEST_CASE("acknowledged atoms survive kill -9 and restart", "[durability]") {
  Daemon daemon;
  constexpr int kClients = 4;
  constexpr int kAcksBeforeKill = 400;

  std::mutex mu;
  std::map<std::string, int64_t> acked_refs;  // content -> highest acknowledged count
  std::map<std::string, uint64_t> acked_ids;

  KillDuringWrites(daemon, kClients, kAcksBeforeKill, [&](int c, Client& client, auto& ack) {
    for (int i = 0;; ++i) {
      // Every fourth atom is shared by all clients, so refcounts matter too.
      const std::string content =
          i % 4 == 0 ? "shared " + std::to_string(i / 4)
                     : "client " + std::to_string(c) + " atom " + std::to_string(i);
      std::vector<v1::IngestAtomRequest> batch = {TextAtom(content)};
      if (i % 3 == 0) batch.push_back(TextAtom(content + " pair"));
      v1::IngestAtomsResponse response;
      if (!client.IngestAtoms(batch, &response).ok()) return;  // the daemon is gone
      {
        std::lock_guard lock(mu);
        for (size_t k = 0; k < batch.size(); ++k) {
          const auto& r = response.results(static_cast<int>(k));
          auto& refs = acked_refs[batch[k].content()];
          refs = std::max(refs, r.reference_count());
          acked_ids[batch[k].content()] = r.atom_id();
        }
      }
      ack();
    }
  });
  REQUIRE(acked_refs.size() > 100);
  for (const auto& [content, refs] : acked_refs) {
    v1::Atom atom;
    grpc::Status status = daemon.client().GetAtomByHash(Sha256Hex(content), true, &atom);
    INFO(content);
    REQUIRE(status.ok());
    CHECK(atom.atom_id() == acked_ids[content]);
    CHECK(atom.content() == content);
    CHECK(atom.reference_count() >= refs);
  }
  // The restarted daemon keeps issuing fresh ids after the recovered ones.
  uint64_t max_id = 0;
  for (const auto& [content, id] : acked_ids) max_id = std::max(max_id, id);
  v1::IngestAtomResponse fresh;
  REQUIRE(daemon.client().IngestAtom(TextAtom("after restart"), &fresh).ok());
  CHECK(fresh.created());
  CHECK(fresh.atom_id() > max_id);
}

TEST_CASE("data written before a clean stop is there after restart", "[durability]") {
  Daemon daemon;
  v1::IngestAtomResponse r;
  REQUIRE(daemon.client().IngestAtom(TextAtom("kept"), &r).ok());
  CHECK(daemon.Stop() == 0);
  daemon.Start();
  v1::Atom atom;
  REQUIRE(daemon.client().GetAtom(r.atom_id(), true, &atom).ok());
  CHECK(atom.content() == "kept");
}
