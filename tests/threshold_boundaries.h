// Deduplication thresholds around a measured value, shared by the engine and
// daemon tests of semantic and spatial matching.
#pragma once

#include <cmath>
#include <vector>

namespace hartonomous::testing {

struct Boundary {
  const char* name;  // usable in collection and policy names
  double threshold;
  bool match;  // whether content at the measured value matches
};

// A threshold exactly at `at`, one step looser (towards `looser`, the way the
// threshold admits more: both match) and one step stricter (no match).
inline std::vector<Boundary> ThresholdBoundaries(double at, double looser) {
  const double stricter = looser < at ? INFINITY : -INFINITY;
  return {{"at", at, true},
          {"one-step-looser", std::nextafter(at, looser), true},
          {"one-step-stricter", std::nextafter(at, stricter), false}};
}

}  // namespace hartonomous::testing
