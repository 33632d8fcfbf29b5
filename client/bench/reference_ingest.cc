#include "reference_ingest.h"

#include <lmdb.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

namespace hartonomous::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The atom's small record: refcount, content size, flags.
struct Record {
  int64_t refcount;
  uint64_t content_size;
  uint64_t flags;
};

void BigEndian64(uint64_t value, unsigned char out[8]) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
}

std::string LmdbError(const char* what, int rc) {
  return std::string(what) + ": " + mdb_strerror(rc);
}

// Owns an environment and its write-side DBIs.
class RefStore {
 public:
  RefStore() = default;
  RefStore(const RefStore&) = delete;
  RefStore& operator=(const RefStore&) = delete;
  ~RefStore() {
    if (env_ != nullptr) mdb_env_close(env_);
  }

  std::string Open(const std::string& path, size_t map_size, unsigned flags) {
    int rc = mdb_env_create(&env_);
    if (rc == 0) rc = mdb_env_set_maxdbs(env_, 8);
    if (rc == 0) rc = mdb_env_set_mapsize(env_, map_size);
    if (rc == 0) rc = mdb_env_open(env_, path.c_str(), flags, 0644);  // no NOSYNC: durable
    if (rc != 0) return LmdbError("mdb_env_open", rc);
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin", rc);
    rc = mdb_dbi_open(txn, "atom_by_hash", MDB_CREATE, &by_hash_);
    if (rc == 0) rc = mdb_dbi_open(txn, "atom_record", MDB_CREATE, &records_);
    if (rc == 0) rc = mdb_dbi_open(txn, "atom_content", MDB_CREATE, &contents_);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("mdb_dbi_open", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? std::string() : LmdbError("mdb_txn_commit", rc);
  }

  MDB_env* env() { return env_; }
  MDB_dbi by_hash() const { return by_hash_; }
  MDB_dbi records() const { return records_; }
  MDB_dbi contents() const { return contents_; }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi by_hash_ = 0, records_ = 0, contents_ = 0;
};

}  // namespace

bool RunReference(const ReferenceOptions& options, const AtomPlan& plan, RunResult* result,
                  std::string* error) {
  namespace fs = std::filesystem;
  *result = RunResult();
  result->mode = "ingest-reference";
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  std::string path = (fs::path(options.dir) / "ref-XXXXXX").string();
  if (mkdtemp(path.data()) == nullptr) {
    *error = "--dir: cannot make a directory under " + options.dir + ": " + std::strerror(errno);
    return false;
  }
  struct Cleanup {
    const std::string& path;
    bool keep;
    ~Cleanup() {
      std::error_code ignored;
      if (!keep) std::filesystem::remove_all(path, ignored);
    }
  } cleanup{path, options.keep};

  RefStore store;
  if (std::string message =
          store.Open(path, options.map_size, options.writemap ? MDB_WRITEMAP : 0u);
      !message.empty()) {
    *error = message;
    return false;
  }

  // The order in which the clients' batches would reach a single writer.
  std::vector<const std::vector<uint32_t>*> order;
  for (size_t b = 0;; ++b) {
    bool any = false;
    for (const auto& client : plan.batches) {
      if (b < client.size()) {
        order.push_back(&client[b]);
        any = true;
      }
    }
    if (!any) break;
  }

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  double sha_s = 0, put_s = 0, commit_s = 0;
  uint64_t next_id = 1;
  const double busy_start = MachineBusySeconds();
  const double cpu_start = SelfCpuSeconds();
  const auto start = Clock::now();
  for (const auto* batch : order) {
    const auto batch_start = Clock::now();
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(store.env(), nullptr, 0, &txn);
    if (rc != 0) {
      *error = LmdbError("mdb_txn_begin", rc);
      EVP_MD_CTX_free(md);
      return false;
    }
    for (uint32_t id : *batch) {
      const std::string& content = plan.contents[id];
      auto t0 = Clock::now();
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_len = 0;
      EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
      EVP_DigestUpdate(md, content.data(), content.size());
      EVP_DigestFinal_ex(md, digest, &digest_len);
      auto t1 = Clock::now();
      sha_s += Seconds(t1 - t0);

      MDB_val hash_key{digest_len, digest};
      MDB_val found;
      rc = mdb_get(txn, store.by_hash(), &hash_key, &found);
      if (rc == 0) {
        unsigned char id_key[8];
        std::memcpy(id_key, found.mv_data, 8);
        MDB_val record_key{8, id_key};
        MDB_val record_val;
        rc = mdb_get(txn, store.records(), &record_key, &record_val);
        if (rc == 0) {
          Record record;
          std::memcpy(&record, record_val.mv_data, sizeof(record));
          ++record.refcount;
          MDB_val updated{sizeof(record), &record};
          rc = mdb_put(txn, store.records(), &record_key, &updated, 0);
        }
        ++result->reused;
      } else if (rc == MDB_NOTFOUND) {
        unsigned char id_key[8];
        BigEndian64(next_id++, id_key);
        MDB_val record_key{8, id_key};
        Record record{1, content.size(), 0};
        MDB_val record_val{sizeof(record), &record};
        MDB_val content_val{content.size(), const_cast<char*>(content.data())};
        const unsigned put_flags = options.append ? MDB_APPEND : 0u;
        rc = mdb_put(txn, store.records(), &record_key, &record_val, put_flags);
        if (rc == 0) rc = mdb_put(txn, store.contents(), &record_key, &content_val, put_flags);
        if (rc == 0) rc = mdb_put(txn, store.by_hash(), &hash_key, &record_key, 0);
        ++result->created;
      }
      put_s += Seconds(Clock::now() - t1);
      if (rc != 0) {
        *error = LmdbError("mdb_put", rc);
        mdb_txn_abort(txn);
        EVP_MD_CTX_free(md);
        return false;
      }
    }
    auto t2 = Clock::now();
    rc = mdb_txn_commit(txn);
    const auto batch_end = Clock::now();
    commit_s += Seconds(batch_end - t2);
    if (rc != 0) {
      *error = LmdbError("mdb_txn_commit", rc);
      EVP_MD_CTX_free(md);
      return false;
    }
    result->batch_ms.push_back(
        std::chrono::duration<double, std::milli>(batch_end - batch_start).count());
    ++result->commits;
    ++result->write_requests;
    result->items_written += batch->size();
  }
  result->wall_s = Seconds(Clock::now() - start);
  result->client_cpu_s = SelfCpuSeconds() - cpu_start;
  const double busy_end = MachineBusySeconds();
  if (busy_start >= 0 && busy_end >= 0) result->machine_busy_s = busy_end - busy_start;
  EVP_MD_CTX_free(md);

  MDB_envinfo info;
  MDB_stat stat;
  mdb_env_info(store.env(), &info);
  mdb_env_stat(store.env(), &stat);
  result->phases = {{"sha256_s", sha_s},
                    {"lmdb_put_s", put_s},
                    {"commit_fsync_s", commit_s},
                    {"data_file_bytes", (info.me_last_pgno + 1) * uint64_t{stat.ms_psize}}};
  const uint64_t distinct = plan.contents.size();
  result->verified = result->created == distinct && result->created + result->reused == plan.atoms;
  if (!result->verified) {
    result->errors.push_back("created " + std::to_string(result->created) + " != distinct " +
                             std::to_string(distinct));
  }
  return true;
}

}  // namespace hartonomous::bench
