// The registry of spatial index kinds: a name -> factory table. A new kind
// adds one row here.
#include <functional>
#include <utility>

#include "index/spatial/rtree_index.h"
#include "index/spatial/scan_index.h"
#include "index/spatial/spatial_index.h"

namespace hartonomous::index {
namespace {

using Factory = std::function<std::unique_ptr<SpatialIndex>()>;

const std::vector<std::pair<std::string, Factory>>& Kinds() {
  static const std::vector<std::pair<std::string, Factory>> kKinds = {
      {"rtree", [] { return std::make_unique<RTreeIndex>(); }},
      {"scan", [] { return std::make_unique<ScanIndex>(); }},
  };
  return kKinds;
}

}  // namespace

Result<std::unique_ptr<SpatialIndex>> MakeSpatialIndex(std::string_view kind) {
  for (const auto& [name, make] : Kinds()) {
    if (name == kind) return make();
  }
  std::string known;
  for (const auto& name : SpatialIndexKinds()) known += (known.empty() ? "" : ", ") + name;
  return Status::InvalidArgument("spatial index kind: unknown '" + std::string(kind) +
                                 "' (known: " + known + ")");
}

std::vector<std::string> SpatialIndexKinds() {
  std::vector<std::string> out;
  for (const auto& [name, make] : Kinds()) out.push_back(name);
  return out;
}

}  // namespace hartonomous::index
