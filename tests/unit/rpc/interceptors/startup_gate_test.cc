// StartupGate: the start-up state reported to gated calls and GetStats.
#include "server/rpc/interceptors/startup_gate.h"

#include <catch2/catch.hpp>

#include "hartonomous/v1/atom_service.grpc.pb.h"

namespace hartonomous::rpc {

TEST_CASE("the start-up gate opens once, reports its reason while closed", "[startup]") {
  StartupGate gate;
  CHECK(gate.state() == StartupGate::State::kStarting);
  CHECK_FALSE(gate.open());
  CHECK(gate.reason() == "starting");
  gate.SetReason("starting: replaying collection 'c': 0 of 10 vectors");
  CHECK(gate.reason() == "starting: replaying collection 'c': 0 of 10 vectors");
  CHECK(std::string(StartupStateName(gate.state())) == "starting");

  gate.Open(10, 2);
  CHECK(gate.open());
  CHECK(gate.state() == StartupGate::State::kServing);
  CHECK(gate.reason().empty());
  CHECK(gate.rows_replayed() == 10);
  CHECK(gate.rows_removed() == 2);

  // Shutdown after start-up: calls still pass (the drain), state says so.
  gate.Stop();
  CHECK(gate.open());
  CHECK(gate.state() == StartupGate::State::kStopping);
}

TEST_CASE("a gate stopped during start-up never opens", "[startup]") {
  StartupGate gate;
  gate.Stop();
  gate.Open(5, 0);
  CHECK_FALSE(gate.open());
  CHECK(gate.state() == StartupGate::State::kStopping);
  CHECK(gate.reason() == "stopping: shut down during start-up");
  CHECK(gate.rows_replayed() == 0);
}

TEST_CASE("Gate wraps a generated service by its proto name", "[startup]") {
  StartupGate gate;
  v1::AtomService::Service inner;
  auto gated = gate.Gate(inner, "hartonomous.v1.AtomService");
  REQUIRE(gated != nullptr);
  CHECK(gated->has_synchronous_methods());
  CHECK(gate.Gate(inner, "hartonomous.v1.NoSuchService") == nullptr);
}

}  // namespace hartonomous::rpc
