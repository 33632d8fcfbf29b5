// A stopped daemon's LMDB environment and tables, opened directly by a test
// (to audit or to set up a state the API cannot reach). REQUIREs that both
// open. The daemon must not be running on the directory.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>

#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::testing {

struct StoppedStore {
  std::unique_ptr<storage::Env> env;
  storage::Tables tables;
};

inline StoppedStore OpenStopped(const std::string& data_dir) {
  storage::EnvOptions options;
  options.path = data_dir;
  auto env = storage::Env::Open(options);
  REQUIRE(env.ok());
  auto tables = storage::OpenTables(**env);
  REQUIRE(tables.ok());
  return StoppedStore{std::move(*env), *tables};
}

}  // namespace hartonomous::testing
