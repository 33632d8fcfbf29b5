// WaitIdle: blocks until the daemon has no call in flight but the
// GetServerStats call asking (a failed or cancelled stream's handler
// releases what it staged before its call ends), polling up to 100,000
// times; fails the test (REQUIRE) if it never gets there.
#pragma once

#include <catch2/catch.hpp>

#include "hartonomous/client.h"

namespace hartonomous::testing {

inline void WaitIdle(Client& client) {
  bool idle = false;
  for (int i = 0; i < 100000 && !idle; ++i) {
    v1::ServerStats stats;
    REQUIRE(client.GetServerStats(&stats).ok());
    idle = stats.in_flight_calls() == 1;
  }
  REQUIRE(idle);
}

}  // namespace hartonomous::testing
