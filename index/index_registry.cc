#include "index/index_registry.h"

#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/sq8_index.h"

namespace hartonomous::index {

IndexRegistry& IndexRegistry::Default() {
  static IndexRegistry* registry = [] {
    auto* r = new IndexRegistry();
    r->Register("hnsw", &HnswIndex::Create, &HnswIndex::Load);
    r->Register("hnsw_sq8", &Sq8Index::Create, &Sq8Index::Load);
    r->Register(
        "flat",
        [](const IndexSpec& spec) -> Result<std::unique_ptr<VectorIndex>> {
          return std::unique_ptr<VectorIndex>(std::make_unique<FlatIndex>(spec));
        },
        &FlatIndex::Load);
    return r;
  }();
  return *registry;
}

void IndexRegistry::Register(const std::string& kind, Factory factory, Loader loader) {
  kinds_[kind] = Kind{std::move(factory), std::move(loader)};
}

std::vector<std::string> IndexRegistry::Kinds() const {
  std::vector<std::string> out;
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

Status IndexRegistry::Check(const IndexSpec& spec) const {
  if (!Has(spec.kind)) {
    std::string known;
    for (const auto& name : Kinds()) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument("index.kind: unknown kind '" + spec.kind + "'; known: " + known);
  }
  if (spec.dimension < 1 || spec.dimension > kMaxDimension) {
    return Status::InvalidArgument("dimension: must be in [1, " + std::to_string(kMaxDimension) +
                                   "], got " + std::to_string(spec.dimension));
  }
  if (spec.params.m < 2 || spec.params.m > 128) {
    return Status::InvalidArgument("index.m: must be in [2, 128], got " +
                                   std::to_string(spec.params.m));
  }
  if (spec.params.ef_construction < 1 || spec.params.ef_construction > 4096) {
    return Status::InvalidArgument("index.ef_construction: must be in [1, 4096], got " +
                                   std::to_string(spec.params.ef_construction));
  }
  if (spec.params.ef_search < 1 || spec.params.ef_search > 4096) {
    return Status::InvalidArgument("index.ef_search: must be in [1, 4096], got " +
                                   std::to_string(spec.params.ef_search));
  }
  return Status::Ok();
}

Result<std::unique_ptr<VectorIndex>> IndexRegistry::Create(const IndexSpec& spec) const {
  HT_RETURN_IF_ERROR(Check(spec));
  return kinds_.at(spec.kind).factory(spec);
}

Result<std::unique_ptr<VectorIndex>> IndexRegistry::Load(const IndexSpec& spec,
                                                         const std::string& path) const {
  HT_RETURN_IF_ERROR(Check(spec));
  return kinds_.at(spec.kind).loader(spec, path);
}

}  // namespace hartonomous::index
