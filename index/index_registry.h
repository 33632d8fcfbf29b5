// IndexRegistry: index kinds by name. A kind registers a factory (empty
// index for a spec) and a loader (index saved by VectorIndex::Save); the
// engine and the server only ever name a kind, so a new kind plugs in here.
//
// Thread-safety: Register before concurrent use; lookups are then read-only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "index/vector_index.h"

namespace hartonomous::index {

class IndexRegistry {
 public:
  using Factory = std::function<Result<std::unique_ptr<VectorIndex>>(const IndexSpec&)>;
  using Loader =
      std::function<Result<std::unique_ptr<VectorIndex>>(const IndexSpec&, const std::string&)>;

  // The registry with the built-in kinds "hnsw", "hnsw_sq8" and "flat".
  static IndexRegistry& Default();

  void Register(const std::string& kind, Factory factory, Loader loader);
  bool Has(const std::string& kind) const { return kinds_.count(kind) != 0; }
  std::vector<std::string> Kinds() const;

  // InvalidArgument naming index.kind when the kind is unknown.
  Result<std::unique_ptr<VectorIndex>> Create(const IndexSpec& spec) const;
  Result<std::unique_ptr<VectorIndex>> Load(const IndexSpec& spec, const std::string& path) const;
  // InvalidArgument naming the field when spec's kind or parameters are unusable.
  Status Check(const IndexSpec& spec) const;

 private:
  struct Kind {
    Factory factory;
    Loader loader;
  };
  std::map<std::string, Kind> kinds_;
};

}  // namespace hartonomous::index
