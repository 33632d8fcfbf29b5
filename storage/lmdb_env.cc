#include "storage/lmdb_env.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/clock.h"
#include "storage/disk_space.h"

namespace hartonomous::storage {

Status FromMdb(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg = std::string(what) + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_NOTFOUND:
      return Status::NotFound(msg);
    case MDB_KEYEXIST:
      return Status::AlreadyExists(msg);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      return Status::DataLoss(msg);
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_DBS_FULL:
    case ENOSPC:
      return Status::ResourceExhausted(msg);
    default:
      spdlog::error("lmdb: {}", msg);
      return Status::Internal(msg);
  }
}

Env::Env(MDB_env* env, EnvOptions options, size_t map_size)
    : env_(env), options_(std::move(options)), map_size_(map_size) {}

Env::~Env() { mdb_env_close(env_); }

Result<MDB_env*> Env::OpenRaw(const EnvOptions& options, size_t map_size) {
  MDB_env* env = nullptr;
  HT_RETURN_IF_ERROR(FromMdb(mdb_env_create(&env), "mdb_env_create"));
  auto fail = [&](int rc, std::string_view what) {
    mdb_env_close(env);
    return FromMdb(rc, what);
  };
  int rc = mdb_env_set_maxdbs(env, kMaxNamedDatabases);
  if (rc != 0) return fail(rc, "mdb_env_set_maxdbs");
  rc = mdb_env_set_maxreaders(env, options.max_readers);
  if (rc != 0) return fail(rc, "mdb_env_set_maxreaders");
  rc = mdb_env_set_mapsize(env, map_size);
  if (rc != 0) return fail(rc, "mdb_env_set_mapsize");
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (!options.durable) flags |= MDB_NOSYNC;
  rc = mdb_env_open(env, options.path.c_str(), flags, 0640);
  if (rc != 0) return fail(rc, "opening LMDB environment in " + options.path);
  return env;
}

Result<std::unique_ptr<Env>> Env::Open(const EnvOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return Status::FailedPrecondition("data dir " + options.path +
                                      ": cannot create: " + ec.message());
  }
  HT_ASSIGN_OR_RETURN(MDB_env * env, OpenRaw(options, options.initial_map_size));
  MDB_envinfo info;
  mdb_env_info(env, &info);
  return std::unique_ptr<Env>(new Env(env, options, info.me_mapsize));
}

Result<MDB_dbi> Env::OpenDbi(const std::string& name, unsigned flags) {
  HT_ASSIGN_OR_RETURN(std::vector<MDB_dbi> dbis, OpenDbis({name}, flags));
  return dbis.front();
}

Result<std::vector<MDB_dbi>> Env::OpenDbis(const std::vector<std::string>& names, unsigned flags) {
  WriteTxn txn(*this, nullptr);
  HT_RETURN_IF_ERROR(txn.status());
  std::vector<MDB_dbi> dbis;
  for (const std::string& name : names) {
    MDB_dbi dbi;
    HT_RETURN_IF_ERROR(FromMdb(mdb_dbi_open(txn.raw(), name.c_str(), flags | MDB_CREATE, &dbi),
                               "opening table " + name));
    dbis.push_back(dbi);
  }
  HT_RETURN_IF_ERROR(txn.Commit());
  // Opening a table again returns its handle; remember it once.
  for (size_t i = 0; i < names.size(); ++i) {
    const bool known = std::any_of(opened_.begin(), opened_.end(),
                                   [&](const OpenedDbi& t) { return t.name == names[i]; });
    if (!known) opened_.push_back(OpenedDbi{names[i], flags, dbis[i]});
  }
  return dbis;
}

Status Env::Grow() {
  WriterLock lock(&resize_mutex_);
  const size_t current = map_size_.load();
  if (current >= options_.max_map_size) {
    return Status::ResourceExhausted("storage: the LMDB map reached its maximum of " +
                                     std::to_string(options_.max_map_size) + " bytes");
  }
  const size_t next = std::min(current * 2, options_.max_map_size);
  HT_RETURN_IF_ERROR(FromMdb(mdb_env_set_mapsize(env_, next), "mdb_env_set_mapsize"));
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  map_size_ = info.me_mapsize;
  ++resizes_;
  spdlog::info("storage: map grown from {} to {} bytes", current, info.me_mapsize);
  return Status::Ok();
}

uint64_t Env::used_bytes() const {
  MutexLock lock(&info_mu_);
  MDB_envinfo info;
  MDB_stat stat;
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &stat);
  return (static_cast<uint64_t>(info.me_last_pgno) + 1) * stat.ms_psize;
}

Result<uint64_t> Env::FreeBytes() {
  ReadTxn txn(*this);
  HT_RETURN_IF_ERROR(txn.status());
  MDB_stat stat;
  HT_RETURN_IF_ERROR(FromMdb(mdb_env_stat(raw(), &stat), "mdb_env_stat"));
  // FREE_DBI (handle 0): txn id -> an MDB_IDL of freed page numbers, whose
  // first element is their count.
  Cursor cursor(txn.raw(), 0);
  uint64_t pages = 0;
  HT_ASSIGN_OR_RETURN(bool valid, cursor.First());
  while (valid) {
    size_t count = 0;
    if (cursor.value().size() >= sizeof(count)) {
      std::memcpy(&count, cursor.value().data(), sizeof(count));
    }
    pages += count;
    HT_ASSIGN_OR_RETURN(valid, cursor.Next());
  }
  return pages * stat.ms_psize;
}

namespace {

Result<uint64_t> FileBytes(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Internal("stat " + path + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

// fsync of a file or directory by path.
int SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

// Closes env on every path out.
struct EnvCloser {
  MDB_env* env;
  ~EnvCloser() {
    if (env != nullptr) mdb_env_close(env);
  }
};

}  // namespace

Status Env::VerifyCopy(const std::string& copy_path) {
  EnvCloser copy{nullptr};
  HT_RETURN_IF_ERROR(FromMdb(mdb_env_create(&copy.env), "mdb_env_create"));
  HT_RETURN_IF_ERROR(
      FromMdb(mdb_env_set_maxdbs(copy.env, kMaxNamedDatabases), "mdb_env_set_maxdbs"));
  HT_RETURN_IF_ERROR(
      FromMdb(mdb_env_set_mapsize(copy.env, map_size_.load()), "mdb_env_set_mapsize"));
  HT_RETURN_IF_ERROR(
      FromMdb(mdb_env_open(copy.env, copy_path.c_str(), MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK, 0),
              "compact: opening the copy " + copy_path));
  MDB_txn* copy_txn = nullptr;
  HT_RETURN_IF_ERROR(FromMdb(mdb_txn_begin(copy.env, nullptr, MDB_RDONLY, &copy_txn),
                             "compact: reading the copy"));
  ReadTxn live(*this);
  Status checked = live.status();
  for (const OpenedDbi& table : opened_) {
    if (!checked.ok()) break;
    MDB_dbi dbi = 0;
    const int rc = mdb_dbi_open(copy_txn, table.name.c_str(), 0, &dbi);
    if (rc != 0) {
      checked =
          Status::Internal("compact: the copy lacks table " + table.name + ": " + mdb_strerror(rc));
    } else if (dbi != table.dbi) {
      checked = Status::Aborted("compact: table " + table.name + " would get handle " +
                                std::to_string(dbi) + " after the swap instead of " +
                                std::to_string(table.dbi));
    } else {
      MDB_stat copied, current;
      checked = FromMdb(mdb_stat(copy_txn, dbi, &copied), "mdb_stat of the copy");
      if (checked.ok()) checked = FromMdb(mdb_stat(live.raw(), dbi, &current), "mdb_stat");
      if (checked.ok() && copied.ms_entries != current.ms_entries) {
        checked = Status::Internal("compact: table " + table.name + " has " +
                                   std::to_string(copied.ms_entries) + " rows in the copy but " +
                                   std::to_string(current.ms_entries) + " in the data file");
      }
    }
  }
  mdb_txn_abort(copy_txn);
  return checked;
}

Result<bool> Env::OpenedEveryTable() {
  ReadTxn txn(*this);
  HT_RETURN_IF_ERROR(txn.status());
  MDB_dbi main_dbi = 0;  // the unnamed table: one entry per named table
  HT_RETURN_IF_ERROR(
      FromMdb(mdb_dbi_open(txn.raw(), nullptr, 0, &main_dbi), "opening the main table"));
  MDB_stat main;
  HT_RETURN_IF_ERROR(FromMdb(mdb_stat(txn.raw(), main_dbi, &main), "mdb_stat of the main table"));
  return main.ms_entries == opened_.size();
}

int Env::WriteRepackedCopy(const std::string& copy_path, std::string* what) {
  *what = "creating " + copy_path;
  EnvCloser copy{nullptr};
  int rc = mdb_env_create(&copy.env);
  if (rc == 0) rc = mdb_env_set_maxdbs(copy.env, kMaxNamedDatabases);
  if (rc == 0) rc = mdb_env_set_mapsize(copy.env, map_size_.load());
  // One writer and no reader: no lock file; durable by the sync at the end.
  if (rc == 0)
    rc = mdb_env_open(copy.env, copy_path.c_str(), MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOLOCK, 0640);
  if (rc != 0) return rc;
  ReadTxn live(*this);
  if (!live.status().ok()) {
    *what = live.status().ToString();
    return EIO;
  }
  // One transaction for every table until kRepackCommitBytes of rows: each
  // commit leaves the pages it rewrote (branch pages, the main table) free.
  MDB_txn* txn = nullptr;
  if ((rc = mdb_txn_begin(copy.env, nullptr, 0, &txn)) != 0) return rc;
  uint64_t batch = 0;
  for (const OpenedDbi& table : opened_) {
    *what = "copying table " + table.name + " to " + copy_path;
    MDB_dbi dbi = 0;
    MDB_cursor* cursor = nullptr;
    rc = mdb_dbi_open(txn, table.name.c_str(), table.flags | MDB_CREATE, &dbi);
    if (rc == 0) rc = mdb_cursor_open(live.raw(), table.dbi, &cursor);
    const unsigned append = (table.flags & MDB_DUPSORT) ? MDB_APPENDDUP : MDB_APPEND;
    MDB_val key, value;
    for (int at = rc == 0 ? mdb_cursor_get(cursor, &key, &value, MDB_FIRST) : rc; rc == 0;
         at = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
      if (at == MDB_NOTFOUND) break;
      if ((rc = at) != 0) break;
      // In key order, so every page is filled before the next is started.
      if ((rc = mdb_put(txn, dbi, &key, &value, append)) != 0) break;
      batch += key.mv_size + value.mv_size + 16;
      if (batch >= kRepackCommitBytes) {  // dirty pages are held in memory until a commit
        batch = 0;
        rc = mdb_txn_commit(txn);
        txn = nullptr;
        if (rc == 0) rc = mdb_txn_begin(copy.env, nullptr, 0, &txn);
      }
    }
    if (cursor != nullptr) mdb_cursor_close(cursor);
    if (rc != 0) {
      if (txn != nullptr) mdb_txn_abort(txn);
      return rc;
    }
  }
  if ((rc = mdb_txn_commit(txn)) != 0) return rc;
  *what = "syncing " + copy_path;
  return mdb_env_sync(copy.env, 1);
}

Status Env::ReopenDbis() {
  WriteTxn txn(*this, nullptr);
  HT_RETURN_IF_ERROR(txn.status());
  for (const OpenedDbi& table : opened_) {
    MDB_dbi dbi = 0;
    HT_RETURN_IF_ERROR(FromMdb(mdb_dbi_open(txn.raw(), table.name.c_str(), table.flags, &dbi),
                               "reopening table " + table.name));
    if (dbi != table.dbi) {
      return Status::Internal("table " + table.name + " reopened with handle " +
                              std::to_string(dbi) + " instead of " + std::to_string(table.dbi));
    }
  }
  return txn.Commit();
}

Result<CompactResult> Env::Compact() {
  const std::string data_path = (std::filesystem::path(options_.path) / "data.mdb").string();
  const std::string copy_path = (std::filesystem::path(options_.path) / kCompactFileName).string();
  CompactResult result;
  HT_ASSIGN_OR_RETURN(result.file_bytes_before, FileBytes(data_path));

  // The copy holds the pages in use, less the free ones.
  HT_ASSIGN_OR_RETURN(const uint64_t free_bytes, FreeBytes());
  const uint64_t used = used_bytes();
  const uint64_t needed = (used > free_bytes ? used - free_bytes : 0) + kCompactSlackBytes;
  if (const auto available = AvailableBytes(options_.path); available && *available < needed) {
    return Status::ResourceExhausted("compact: the compacted copy of " + data_path +
                                     " needs up to " + std::to_string(needed) + " bytes free in " +
                                     options_.path + " but " + std::to_string(*available) +
                                     " are available; the data file is unchanged");
  }

  ::unlink(copy_path.c_str());  // a leftover of a compaction that crashed
  HT_ASSIGN_OR_RETURN(result.repacked, OpenedEveryTable());
  std::string what = "writing " + copy_path;
  int rc = 0;
  if (result.repacked) {
    rc = WriteRepackedCopy(copy_path, &what);
  } else {
    // A table this process did not open would be left out of a row by row
    // copy: LMDB's page copy takes everything.
    const int fd = ::open(copy_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
      return Status::Internal("compact: creating " + copy_path + ": " + std::strerror(errno));
    }
    rc = mdb_env_copyfd2(env_, fd, MDB_CP_COMPACT);
    if (rc == 0 && ::fsync(fd) != 0) rc = errno;
    ::close(fd);
  }
  if (rc != 0) {
    ::unlink(copy_path.c_str());
    if (IsNoSpace(rc, options_.path)) return NoSpace("compact: " + what, options_.path);
    return FromMdb(rc, "compact: " + what);
  }
  if (Status verified = VerifyCopy(copy_path); !verified.ok()) {
    ::unlink(copy_path.c_str());
    return verified;
  }

  {
    // No read transaction from here on: they wait, then see the new file.
    WriterLock readers(&resize_mutex_);
    MutexLock info(&info_mu_);
    mdb_env_close(env_);
    env_ = nullptr;
    Status swapped = Status::Ok();
    if (::rename(copy_path.c_str(), data_path.c_str()) != 0) {
      swapped = Status::Internal("compact: renaming " + copy_path + " over " + data_path + ": " +
                                 std::strerror(errno) + "; the data file is unchanged");
      ::unlink(copy_path.c_str());
    } else if (const int dir_rc = SyncPath(options_.path, O_RDONLY | O_DIRECTORY); dir_rc != 0) {
      // Either file is complete; only which one a crash would keep is open.
      spdlog::warn("compact: fsync of {}: {}", options_.path, std::strerror(dir_rc));
    }
    auto reopened = OpenRaw(options_, map_size_.load());
    if (!reopened.ok()) {
      spdlog::critical("compact: cannot reopen the LMDB environment in {}: {}; aborting",
                       options_.path, reopened.status().ToString());
      std::abort();
    }
    env_ = *reopened;
    if (Status dbis = ReopenDbis(); !dbis.ok()) {
      spdlog::critical("compact: {}; aborting", dbis.ToString());
      std::abort();
    }
    HT_RETURN_IF_ERROR(swapped);
  }
  HT_ASSIGN_OR_RETURN(result.file_bytes_after, FileBytes(data_path));
  return result;
}

Result<bool> Txn::Get(MDB_dbi dbi, std::string_view key, std::string_view* value) {
  MDB_val k = ToVal(key);
  MDB_val v;
  const int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  HT_RETURN_IF_ERROR(FromMdb(rc, "mdb_get"));
  *value = std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
  return true;
}

Result<uint64_t> Txn::Count(MDB_dbi dbi) {
  MDB_stat stat;
  HT_RETURN_IF_ERROR(FromMdb(mdb_stat(txn_, dbi, &stat), "mdb_stat"));
  return static_cast<uint64_t>(stat.ms_entries);
}

std::unique_ptr<Cursor> Txn::OpenCursor(MDB_dbi dbi) { return std::make_unique<Cursor>(txn_, dbi); }

// The analysis does not look inside constructors and destructors; the
// ACQUIRE_SHARED / RELEASE on their declarations state what they do.
Result<uint64_t> Env::CopyCompacted(const std::string& path) {
  ReaderLock readers(&resize_mutex_);  // env_ stays, the map size too
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return Status::Internal("copy to " + path + ": " + std::strerror(errno));
  int rc = mdb_env_copyfd2(env_, fd, MDB_CP_COMPACT);
  if (rc == 0 && ::fsync(fd) != 0) rc = errno;
  struct stat st {};
  if (rc == 0 && ::fstat(fd, &st) != 0) rc = errno;
  ::close(fd);
  if (rc != 0) {
    ::unlink(path.c_str());
    return Status::Internal("copy to " + path + ": " + mdb_strerror(rc));
  }
  return static_cast<uint64_t>(st.st_size);
}

ReadTxn::ReadTxn(Env& env) : resize_mutex_(&env.resize_mutex()) {
  resize_mutex_->LockShared();
  status_ = FromMdb(mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn_), "begin read txn");
  if (!status_.ok()) txn_ = nullptr;
}

ReadTxn::~ReadTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  resize_mutex_->UnlockShared();
}

WriteTxn::WriteTxn(Env& env, WriteTxn* parent) : env_(env), parent_(parent) {
  status_ = FromMdb(mdb_txn_begin(env.raw(), parent ? parent->raw() : nullptr, 0, &txn_),
                    "begin write txn");
  if (!status_.ok()) {
    txn_ = nullptr;
    done_ = true;
  }
}

WriteTxn::~WriteTxn() { Abort(); }

Status WriteTxn::Check(int rc, std::string_view what) {
  if (rc == MDB_MAP_FULL) map_full_ = true;
  // A put can write: LMDB spills dirty pages to the file when a txn grows.
  if (rc != MDB_SUCCESS && IsNoSpace(rc, env_.options().path)) {
    no_space_ = true;
    int64_t unset = 0;
    env_.disk_full_since_us_.compare_exchange_strong(unset, NowMicros());
    return NoSpace(what, env_.options().path);
  }
  return FromMdb(rc, what);
}

Status WriteTxn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  return Check(mdb_put(txn_, dbi, &k, &v, flags), "mdb_put");
}

Result<char*> WriteTxn::Reserve(MDB_dbi dbi, std::string_view key, size_t size, unsigned flags) {
  MDB_val k = ToVal(key);
  MDB_val v{size, nullptr};
  HT_RETURN_IF_ERROR(Check(mdb_put(txn_, dbi, &k, &v, MDB_RESERVE | flags), "mdb_put"));
  return static_cast<char*>(v.mv_data);
}

Result<bool> WriteTxn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  const int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  HT_RETURN_IF_ERROR(Check(rc, "mdb_del"));
  return true;
}

Status WriteTxn::Clear(MDB_dbi dbi) { return Check(mdb_drop(txn_, dbi, 0), "mdb_drop"); }

Result<uint64_t> WriteTxn::DelPrefix(MDB_dbi dbi, std::string_view prefix) {
  Cursor cursor(txn_, dbi);
  uint64_t deleted = 0;
  HT_ASSIGN_OR_RETURN(bool valid, cursor.Seek(prefix));
  while (valid && cursor.key().substr(0, prefix.size()) == prefix) {
    HT_RETURN_IF_ERROR(cursor.Delete());
    ++deleted;
    // MDB_GET_CURRENT after a delete lands on the following entry.
    HT_ASSIGN_OR_RETURN(valid, cursor.Seek(prefix));
  }
  return deleted;
}

Status WriteTxn::Commit() {
  if (done_) return Status::Internal("commit of a finished transaction");
  done_ = true;
  const int rc = mdb_txn_commit(txn_);
  txn_ = nullptr;
  HT_RETURN_IF_ERROR(Check(rc, "commit"));
  if (parent_ != nullptr) {
    for (auto& fn : on_commit_) parent_->OnCommit(std::move(fn));
    on_commit_.clear();
  } else {
    env_.disk_full_since_us_.store(0);
  }
  return Status::Ok();
}

void WriteTxn::Abort() {
  if (done_) return;
  done_ = true;
  mdb_txn_abort(txn_);
  txn_ = nullptr;
  on_commit_.clear();
}

Cursor::Cursor(MDB_txn* txn, MDB_dbi dbi) {
  status_ = FromMdb(mdb_cursor_open(txn, dbi, &cursor_), "mdb_cursor_open");
  if (!status_.ok()) cursor_ = nullptr;
}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

Result<bool> Cursor::Move(MDB_cursor_op op) {
  HT_RETURN_IF_ERROR(status_);
  const int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  HT_RETURN_IF_ERROR(FromMdb(rc, "mdb_cursor_get"));
  return true;
}

Result<bool> Cursor::First() { return Move(MDB_FIRST); }
Result<bool> Cursor::Last() { return Move(MDB_LAST); }
Result<bool> Cursor::Next() { return Move(MDB_NEXT); }
Result<bool> Cursor::Prev() { return Move(MDB_PREV); }

Result<bool> Cursor::Seek(std::string_view target) {
  key_ = ToVal(target);
  return Move(MDB_SET_RANGE);
}

Status Cursor::Delete() {
  HT_RETURN_IF_ERROR(status_);
  return FromMdb(mdb_cursor_del(cursor_, 0), "mdb_cursor_del");
}

}  // namespace hartonomous::storage
