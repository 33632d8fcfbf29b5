// A temporary LMDB environment with the full schema, for storage and engine
// unit tests. Removed with its directory.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::testing {

class TempEnv {
 public:
  explicit TempEnv(size_t initial_map_size = size_t{64} << 20) {
    storage::EnvOptions options;
    options.path = dir_.dir();
    options.initial_map_size = initial_map_size;
    auto env = storage::Env::Open(options);
    if (!env.ok()) throw std::runtime_error(env.status().ToString());
    env_ = std::move(env).value();
    auto tables = storage::OpenTables(*env_);
    if (!tables.ok()) throw std::runtime_error(tables.status().ToString());
    tables_ = *tables;
  }
  storage::Env& env() { return *env_; }
  const storage::Tables& tables() const { return tables_; }
  const std::string& dir() const { return dir_.dir(); }

 private:
  TempDir dir_;  // declared first: removed after the environment closes
  std::unique_ptr<storage::Env> env_;
  storage::Tables tables_{};
};

// Inserts *record with Table(tables).Insert (which assigns its id) in a
// transaction of its own, committed; returns the id.
template <typename Table, typename Record>
uint64_t InsertCommitted(TempEnv& t, Record* record) {
  storage::WriteTxn txn(t.env(), nullptr);
  auto id = Table(t.tables()).Insert(txn, record);
  if (!id.ok()) throw std::runtime_error(id.status().ToString());
  if (Status commit = txn.Commit(); !commit.ok()) throw std::runtime_error(commit.ToString());
  return *id;
}

}  // namespace hartonomous::testing
