#include "suites.h"

namespace hartonomous::bench {

std::vector<BenchCommand> Suites() {
  return {VectorSuite(),  HybridSuite(), InferenceSuite(),      SpatialSuite(),
          RestartProbe(), IngestSuite(), IngestReferenceSuite()};
}

}  // namespace hartonomous::bench
