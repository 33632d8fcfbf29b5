#include "server/engine/auth/api_key_engine.h"

#include <algorithm>

#include "base/clock.h"
#include "server/engine/auth/api_key_token.h"
#include "server/engine/common/await_result.h"

namespace hartonomous::engine {
namespace {

constexpr std::string_view kBearer = "Bearer ";

std::string DigestBytes(const Sha256Digest& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace

ApiKeyEngine::ApiKeyEngine(storage::Env& env, const storage::Tables& tables,
                           storage::WriteBatcher& writer, std::string_view bootstrap_admin_token)
    : env_(env),
      keys_table_(tables),
      writer_(writer),
      has_bootstrap_(!bootstrap_admin_token.empty()),
      bootstrap_digest_(Sha256(bootstrap_admin_token)) {}

Status ApiKeyEngine::Load() {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  std::unordered_map<uint64_t, storage::ApiKeyRecord> loaded;
  HT_RETURN_IF_ERROR(
      keys_table_.records().ScanAfter(txn, 0, [&](uint64_t id, storage::ApiKeyRecord&& record) {
        loaded.emplace(id, std::move(record));
        return true;
      }));
  WriterLock lock(&mu_);
  keys_ = std::move(loaded);
  any_keys_.store(!keys_.empty(), std::memory_order_release);
  return Status::Ok();
}

bool ApiKeyEngine::enabled() const {
  return has_bootstrap_ || any_keys_.load(std::memory_order_acquire);
}

Result<CreatedApiKey> ApiKeyEngine::Create(const std::string& name, Role role) {
  return AwaitResult<CreatedApiKey>(
      [&](CreateDone done) { CreateAsync(name, role, std::move(done)); });
}

void ApiKeyEngine::CreateAsync(const std::string& name, Role role, CreateDone done) {
  storage::ApiKeyRecord record;
  record.set_name(name);
  record.set_role(static_cast<uint32_t>(role));
  record.set_created_at_us(NowMicros());
  WriteThen<CreatedApiKey>(
      writer_,
      [this, record = std::move(record)](storage::WriteTxn& txn, CreatedApiKey& created) -> Status {
        created.record = record;
        HT_ASSIGN_OR_RETURN(uint64_t last, keys_table_.records().LastId(txn));
        if (last >= kMaxKeys) {
          return Status::ResourceExhausted("API keys: this server holds the most keys it keeps (" +
                                           std::to_string(kMaxKeys) + ", revoked ones included)");
        }
        HT_ASSIGN_OR_RETURN(uint64_t id, keys_table_.Insert(txn, &created.record));
        HT_ASSIGN_OR_RETURN(created.token, NewApiKeyToken(id));
        created.record.set_token_sha256(DigestBytes(Sha256(created.token)));
        return keys_table_.records().Put(txn, id, created.record);
      },
      // The mirror changes on the writer thread, in commit order, before
      // the caller hears of the key.
      [this, done = std::move(done)](Result<CreatedApiKey> created) {
        if (created.ok()) {
          WriterLock lock(&mu_);
          keys_[created->record.key_id()] = created->record;
          any_keys_.store(true, std::memory_order_release);
        }
        done(std::move(created));
      });
}

std::vector<storage::ApiKeyRecord> ApiKeyEngine::List() const {
  std::vector<storage::ApiKeyRecord> keys;
  {
    ReaderLock lock(&mu_);
    keys.reserve(keys_.size());
    for (const auto& [id, record] : keys_) keys.push_back(record);
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.key_id() < b.key_id(); });
  return keys;
}

Result<storage::ApiKeyRecord> ApiKeyEngine::Revoke(uint64_t key_id) {
  return AwaitResult<storage::ApiKeyRecord>(
      [&](RevokeDone done) { RevokeAsync(key_id, std::move(done)); });
}

void ApiKeyEngine::RevokeAsync(uint64_t key_id, RevokeDone done) {
  WriteThen<storage::ApiKeyRecord>(
      writer_,
      [this, key_id](storage::WriteTxn& txn, storage::ApiKeyRecord& record) -> Status {
        HT_ASSIGN_OR_RETURN(std::optional<storage::ApiKeyRecord> found,
                            keys_table_.Find(txn, key_id));
        if (!found) return Status::NotFound("key_id: no API key " + std::to_string(key_id));
        record = std::move(*found);
        if (record.revoked_at_us() != 0) return Status::Ok();
        record.set_revoked_at_us(NowMicros());
        return keys_table_.records().Put(txn, key_id, record);
      },
      // A revoked key stops working before the caller hears of it.
      [this, key_id, done = std::move(done)](Result<storage::ApiKeyRecord> record) {
        if (record.ok()) {
          WriterLock lock(&mu_);
          keys_[key_id] = *record;
        }
        done(std::move(record));
      });
}

Result<Principal> ApiKeyEngine::Authenticate(std::optional<std::string_view> authorization) const {
  if (!enabled()) return Principal{0, "", Role::kAdmin};
  if (!authorization) {
    return Status::Unauthenticated(
        "authorization: missing; this server requires an API key, sent as 'authorization: "
        "Bearer <token>' metadata");
  }
  if (authorization->substr(0, kBearer.size()) != kBearer) {
    return Status::Unauthenticated("authorization: expected 'Bearer <token>'");
  }
  const std::string_view token = authorization->substr(kBearer.size());
  const Sha256Digest digest = Sha256(token);
  if (has_bootstrap_ && DigestsEqual(bootstrap_digest_, DigestBytes(digest))) {
    return Principal{0, "bootstrap", Role::kAdmin};
  }
  const std::optional<uint64_t> id = ApiKeyTokenId(token);
  if (id) {
    ReaderLock lock(&mu_);
    const auto it = keys_.find(*id);
    if (it != keys_.end() && DigestsEqual(digest, it->second.token_sha256())) {
      if (it->second.revoked_at_us() != 0) {
        return Status::Unauthenticated("authorization: API key " + std::to_string(*id) + " ('" +
                                       it->second.name() + "') is revoked");
      }
      const std::optional<Role> role = RoleFromValue(it->second.role());
      if (!role) {
        return Status::DataLoss("api_keys: record " + std::to_string(*id) + " has no valid role");
      }
      return Principal{*id, it->second.name(), *role};
    }
  }
  return Status::Unauthenticated("authorization: unknown API key");
}

}  // namespace hartonomous::engine
