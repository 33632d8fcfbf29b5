// ApiKeyEngine: the API keys of the server and the authentication of a
// call's "authorization" metadata. Keys live in LMDB (storage/tables/
// api_key_table.h) as the SHA-256 of their token; the engine keeps them in
// memory too, so that authenticating a call reads no table.
//
// Authentication is on when a bootstrap admin token is configured or any
// key was ever created (revoked keys count: revoking the last key never
// opens the server). While it is off, every call is let through.
//
// Errors of Authenticate (all Unauthenticated, naming "authorization"):
// metadata missing, not "Bearer <token>", an unknown or malformed token, a
// revoked key.
//
// Thread-safety: thread-safe; writes go through the WriteBatcher.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/sha256.h"
#include "base/thread_annotations.h"
#include "server/engine/auth/role.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/api_key_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// Who a call comes from. key_id 0 with name "bootstrap" is the bootstrap
// admin token; an unauthenticated server's calls carry role kAdmin and
// key_id 0 with an empty name.
struct Principal {
  uint64_t key_id = 0;
  std::string name;
  Role role = Role::kNone;
};

struct CreatedApiKey {
  storage::ApiKeyRecord record;
  std::string token;  // shown once; never stored
};

class ApiKeyEngine {
 public:
  // Most keys a server holds, revoked ones included.
  static constexpr uint64_t kMaxKeys = 10000;
  // Shortest bootstrap admin token accepted by the daemon's settings.
  static constexpr size_t kMinBootstrapTokenSize = 32;

  // bootstrap_admin_token: an operator-chosen admin token (not stored);
  // empty = none. REQUIRES: env, tables and writer outlive the engine.
  ApiKeyEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
               std::string_view bootstrap_admin_token);
  ApiKeyEngine(const ApiKeyEngine&) = delete;
  ApiKeyEngine& operator=(const ApiKeyEngine&) = delete;

  // Reads every stored key; call once before serving.
  Status Load() EXCLUDES(mu_);

  // True when calls must carry a key (see above).
  bool enabled() const;

  // A new key. REQUIRES: name validated ([A-Za-z0-9_.-]{1,64}), role is
  // kRead, kWrite or kAdmin. AlreadyExists naming "name" when taken;
  // ResourceExhausted past kMaxKeys.
  Result<CreatedApiKey> Create(const std::string& name, Role role) EXCLUDES(mu_);
  // Every key by id, revoked ones included.
  std::vector<storage::ApiKeyRecord> List() const EXCLUDES(mu_);
  // Sets revoked_at_us (kept when already revoked). NotFound naming
  // "key_id".
  Result<storage::ApiKeyRecord> Revoke(uint64_t key_id) EXCLUDES(mu_);
  // Create and Revoke without waiting for the commit: done receives their
  // result on the writer thread after the commit, once the keys in memory
  // have changed (short, must not block).
  using CreateDone = std::function<void(Result<CreatedApiKey>)>;
  using RevokeDone = std::function<void(Result<storage::ApiKeyRecord>)>;
  void CreateAsync(const std::string& name, Role role, CreateDone done) EXCLUDES(mu_);
  void RevokeAsync(uint64_t key_id, RevokeDone done) EXCLUDES(mu_);

  // The principal of a call whose "authorization" metadata is
  // `authorization` (nullopt: absent). When authentication is off every
  // call is an anonymous admin.
  Result<Principal> Authenticate(std::optional<std::string_view> authorization) const EXCLUDES(mu_);

 private:
  storage::Env& env_;
  const storage::ApiKeyTable keys_table_;
  storage::WriteBatcher& writer_;
  const bool has_bootstrap_;
  const Sha256Digest bootstrap_digest_;
  mutable SharedMutex mu_;
  std::unordered_map<uint64_t, storage::ApiKeyRecord> keys_ GUARDED_BY(mu_);
  // !keys_.empty(), readable without mu_: every call asks whether
  // authentication is on. Set once a key exists; keys are never deleted.
  std::atomic<bool> any_keys_{false};
};

}  // namespace hartonomous::engine
