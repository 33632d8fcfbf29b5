// Start-up that talks: while a replay holds the daemon, `hartonomous health`
// reports NOT_SERVING with the reason and exits 1; the log shows the
// replay's progress (collection, done/total, rate); then health is SERVING.
#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "cli_util.h"
#include "daemon_harness.h"
#include "test_util.h"

namespace hartonomous::testing {

TEST_CASE("start-up reports NOT_SERVING with a reason and logs its progress", "[startup]") {
  constexpr int kRows = 500;
  Daemon daemon(Daemon::Options{"", {"--snapshot-interval", "0", "--projection-fit-after", "0"}});
  std::vector<v1::IngestAtomRequest> atoms;
  for (int i = 0; i < kRows; ++i) atoms.push_back(TextAtom("progress atom " + std::to_string(i)));
  v1::IngestAtomsResponse ingested;
  REQUIRE(daemon.client().IngestAtoms(atoms, &ingested).ok());
  std::mt19937 rng(3);
  std::normal_distribution<float> dist;
  std::vector<v1::EmbeddingInput> inputs;
  for (const auto& r : ingested.results()) {
    v1::EmbeddingInput input;
    input.set_atom_id(r.atom_id());
    for (int d = 0; d < 8; ++d) input.add_vector(dist(rng));
    inputs.push_back(input);
  }
  v1::CollectionSpec spec;
  spec.set_embedding_type("text");
  spec.set_dimension(8);
  spec.set_metric(v1::METRIC_L2);
  v1::AddEmbeddingsResponse added;
  REQUIRE(daemon.client().AddEmbeddings("progress", &spec, inputs, &added).ok());
  CHECK(Cli(daemon, {"health"}).exit_code == 0);
  daemon.Kill9();  // no snapshot: the next start replays every row

  TempDir hold;
  const std::string release = hold.path() + "/release";
  daemon.StartListening({"--testing-hold-start-until", release});
  const std::string held =
      "starting: replaying collection 'progress': 0 of " + std::to_string(kRows) + " vectors";
  ProcessResult health;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    health = Cli(daemon, {"health"});
    REQUIRE(std::chrono::steady_clock::now() < deadline);
  } while (health.out != "NOT_SERVING: " + held + "\n");
  CHECK(health.exit_code == 1);
  CHECK_THAT(health.err, Catch::Contains("NOT_SERVING"));
  const ProcessResult json = Cli(daemon, {"--json", "health"});
  CHECK(json.exit_code == 1);
  const auto parsed = nlohmann::json::parse(json.out);
  CHECK(parsed["status"] == "NOT_SERVING");
  CHECK(parsed["reason"] == held);

  std::ofstream(release).put('\n');
  const ProcessResult waited = Cli(daemon, {"health", "--wait"});
  CHECK(waited.exit_code == 0);
  CHECK(waited.out == "SERVING\n");
  const std::string log = ReadFile(daemon.log_path());
  CHECK_THAT(log, Catch::Contains("start-up: replaying vectors collection=progress done=0 total=" +
                                  std::to_string(kRows)));
  CHECK_THAT(log, Catch::Contains("start-up: replaying vectors collection=progress done=" +
                                  std::to_string(kRows) + " total=" + std::to_string(kRows) +
                                  " rate_per_s="));
}

}  // namespace hartonomous::testing
