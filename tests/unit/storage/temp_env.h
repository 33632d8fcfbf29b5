// A temporary LMDB environment with the full schema, for storage and engine
// unit tests. Removed with its directory.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "storage/lmdb_env.h"
#include "storage/schema.h"

namespace hartonomous::testing {

class TempEnv {
 public:
  explicit TempEnv(size_t initial_map_size = size_t{64} << 20) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/hartonomous-unit-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    storage::EnvOptions options;
    options.path = dir_;
    options.initial_map_size = initial_map_size;
    auto env = storage::Env::Open(options);
    if (!env.ok()) throw std::runtime_error(env.status().ToString());
    env_ = std::move(env).value();
    auto tables = storage::OpenTables(*env_);
    if (!tables.ok()) throw std::runtime_error(tables.status().ToString());
    tables_ = *tables;
  }
  ~TempEnv() {
    env_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  storage::Env& env() { return *env_; }
  const storage::Tables& tables() const { return tables_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<storage::Env> env_;
  storage::Tables tables_{};
};

}  // namespace hartonomous::testing
