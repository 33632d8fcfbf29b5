// Start-up after kill -9 with vectors to replay: the daemon listens at once,
// reports NOT_SERVING and answers UNAVAILABLE with its progress while it
// catches up, then serves the same search results; a large replay is
// snapshotted, so the next crash replays nothing.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "cli_util.h"
#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "test_util.h"

namespace hartonomous::testing {
namespace {

constexpr int kRows = 3000;

// Neither the periodic timer nor the projection fit snapshots anything: the
// rows loaded stay unsnapshotted until a kill -9.
Daemon::Options NoSnapshots() {
  Daemon::Options options;
  options.extra_args = {"--snapshot-interval", "0", "--projection-fit-after", "0"};
  return options;
}

grpc::health::v1::HealthCheckResponse::ServingStatus Health(Daemon& daemon) {
  auto stub = grpc::health::v1::Health::NewStub(daemon.client().channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(stub->Check(&context, request, &response).ok());
  return response.status();
}

v1::ServerStats Stats(Daemon& daemon) {
  v1::ServerStats stats;
  REQUIRE(daemon.client().GetServerStats(&stats).ok());
  return stats;
}

// Exact searches (their results do not depend on how the HNSW graph was
// built) with the vectors of a few stored atoms.
std::vector<std::vector<std::pair<uint64_t, float>>> ExactSearches(Daemon& daemon) {
  std::vector<std::vector<std::pair<uint64_t, float>>> out;
  for (uint64_t atom = 1; atom <= 200; atom += 40) {
    v1::SearchRequest q;
    q.set_collection("fm");
    q.set_atom_id(atom);
    q.set_limit(10);
    q.mutable_params()->set_exact(true);
    v1::SearchResponse response;
    REQUIRE(daemon.client().Search(q, &response).ok());
    REQUIRE(response.results_size() == 10);
    auto& hits = out.emplace_back();
    for (const auto& r : response.results()) hits.emplace_back(r.atom_id(), r.distance());
  }
  return out;
}

// The reason start-up reports once it holds before replaying "fm".
const std::string kHeldReason =
    "starting: replaying collection 'fm': 0 of " + std::to_string(kRows) + " vectors";

// Polls GetStats (each call a round trip, no sleep) until the daemon holds
// before the replay, i.e. reports kHeldReason.
void WaitUntilHeld(Daemon& daemon) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Stats(daemon).state_reason() != kHeldReason) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
  }
}

}  // namespace

TEST_CASE("after kill -9 the daemon listens, reports starting, catches up and snapshots the replay",
          "[startup]") {
  Daemon daemon(NoSnapshots());
  if (!LoadFashion(daemon, kRows)) return;
  const auto before = ExactSearches(daemon);
  CHECK(Stats(daemon).state() == "serving");
  CHECK(Stats(daemon).vectors_replayed_at_start() == 0);
  v1::ServerStats stats_before = Stats(daemon);
  daemon.Kill9();

  TempDir hold_dir;
  const std::string release = hold_dir.path() + "/release";
  daemon.StartListening({"--testing-hold-start-until", release});
  // Listening while starting: health NOT_SERVING, GetStats answers.
  CHECK(Health(daemon) == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  WaitUntilHeld(daemon);
  v1::ServerStats starting = Stats(daemon);
  CHECK(starting.state() == "starting");
  CHECK(Health(daemon) == grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  // Every other RPC, unary or streaming, read or write: UNAVAILABLE with the
  // reason, and nothing is written.
  v1::SearchRequest search;
  search.set_collection("fm");
  search.set_atom_id(1);
  search.set_limit(5);
  v1::SearchResponse search_response;
  grpc::Status refused = daemon.client().Search(search, &search_response);
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.error_message() == kHeldReason);
  v1::IngestAtomResponse ingest_response;
  refused = daemon.client().IngestAtom(TextAtom("written during start-up"), &ingest_response);
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.error_message() == kHeldReason);
  v1::IngestAtomsResponse batch_response;
  refused = daemon.client().IngestAtoms({TextAtom("streamed during start-up")}, &batch_response);
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.error_message() == kHeldReason);
  v1::CreateModelRequest model;
  model.mutable_model()->set_model_name("created-during-start-up");
  v1::Model created;
  refused = daemon.client().CreateModel(model, &created);
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.error_message() == kHeldReason);

  std::ofstream(release).put('\n');
  REQUIRE(daemon.client().WaitUntilServing(std::chrono::seconds(60)).ok());
  CHECK(Health(daemon) == grpc::health::v1::HealthCheckResponse::SERVING);
  v1::ServerStats serving = Stats(daemon);
  CHECK(serving.state() == "serving");
  CHECK(serving.state_reason().empty());
  CHECK(serving.vectors_replayed_at_start() == kRows);
  CHECK(serving.vectors_removed_at_start() == 0);
  auto entries = [](const v1::ServerStats& s, const std::string& table) {
    for (const auto& t : s.tables()) {
      if (t.name() == table) return t.entries();
    }
    return uint64_t{0};
  };
  CHECK(entries(serving, "atoms") == entries(stats_before, "atoms"));
  v1::GetModelRequest refused_model;
  refused_model.set_model_name("created-during-start-up");
  CHECK(daemon.client().GetModel(refused_model, &created).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(ExactSearches(daemon) == before);

  // The replay was snapshotted as soon as it finished: a second crash
  // replays nothing, and the searches still agree.
  daemon.Kill9();
  daemon.Start();
  CHECK(Stats(daemon).vectors_replayed_at_start() == 0);
  CHECK(ExactSearches(daemon) == before);
}

TEST_CASE("SIGTERM during the start-up catch-up stops cleanly", "[startup]") {
  Daemon daemon(NoSnapshots());
  if (!LoadFashion(daemon, kRows)) return;
  const auto before = ExactSearches(daemon);
  daemon.Kill9();

  TempDir hold_dir;
  daemon.StartListening({"--testing-hold-start-until", hold_dir.path() + "/never"});
  WaitUntilHeld(daemon);
  daemon.Signal(SIGTERM);
  CHECK(daemon.Wait() == 0);

  // Nothing was lost: the next start replays every row.
  daemon.Start();
  CHECK(Stats(daemon).vectors_replayed_at_start() == kRows);
  CHECK(ExactSearches(daemon) == before);
}

}  // namespace hartonomous::testing
