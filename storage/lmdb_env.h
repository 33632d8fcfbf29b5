// RAII wrappers for LMDB: the environment, read and write transactions
// (write transactions may nest), and cursors. LMDB return codes become
// Status values here and nowhere else:
//   MDB_NOTFOUND -> NotFound, MDB_KEYEXIST -> AlreadyExists,
//   MDB_CORRUPTED / MDB_PAGE_NOTFOUND -> DataLoss,
//   MDB_MAP_FULL -> ResourceExhausted (and the txn is marked map_full()),
//   a full disk (ENOSPC, or EIO while the filesystem is full; see
//   storage/disk_space.h) -> ResourceExhausted "...: no space left on
//   device" (and a write txn is marked no_space()),
//   anything else -> Internal.
//
// Thread-safety: Env is thread-safe. A transaction or cursor belongs to one
// thread at a time. Read transactions may be used from any thread (the env is
// opened with MDB_NOTLS). Only one write transaction exists at a time: the
// WriteBatcher's thread owns it. Compact() replaces the MDB_env underneath
// while it holds resize_mutex() exclusively, so raw() is stable inside a
// read transaction and on the writer thread, and nowhere else.
#pragma once

#include <lmdb.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace hartonomous::storage {

struct EnvOptions {
  // Directory holding data.mdb and lock.mdb; created when missing.
  std::string path;
  // Initial map size. Default: 1 GiB. The map grows by doubling on
  // MDB_MAP_FULL up to max_map_size.
  size_t initial_map_size = size_t{1} << 30;
  // Default: 1 TiB (address space only; the file grows with the data).
  size_t max_map_size = size_t{1} << 40;
  // Default: 1022 concurrent readers.
  unsigned max_readers = 1022;
  // false = MDB_NOSYNC: commits are not durable. Default: true.
  bool durable = true;
};

Status FromMdb(int rc, std::string_view what);

// What Env::Compact did to DIR/data.mdb.
struct CompactResult {
  uint64_t file_bytes_before = 0;  // size of data.mdb before
  uint64_t file_bytes_after = 0;   // and after
  bool repacked = false;           // rows rewritten into full pages (else pages copied)
};

// A repacking copy commits after about this many bytes of rows: its dirty
// pages are held in memory until a commit.
inline constexpr uint64_t kRepackCommitBytes = uint64_t{32} << 20;

// The compacted copy's file name in the data dir, while it is written.
inline constexpr char kCompactFileName[] = "data.mdb.compacting";
// The most named databases an environment opens (mdb_env_set_maxdbs):
// storage/schema.h's tables, with room to spare.
inline constexpr unsigned kMaxNamedDatabases = 384;

// Compact() wants this much free space beyond the copy's size bound.
inline constexpr uint64_t kCompactSlackBytes = uint64_t{1} << 20;

class Env {
 public:
  static Result<std::unique_ptr<Env>> Open(const EnvOptions& options);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  MDB_env* raw() const { return env_; }
  const EnvOptions& options() const { return options_; }

  // Opens (creating) a named database, and remembers it so that Compact()
  // opens it again, in the same order, after the swap. REQUIRES: called at
  // start-up, before any other write transaction of this process.
  Result<MDB_dbi> OpenDbi(const std::string& name, unsigned flags);
  // The same for several databases in one write transaction (one commit);
  // the handles in the order of `names`.
  Result<std::vector<MDB_dbi>> OpenDbis(const std::vector<std::string>& names, unsigned flags);

  // Doubles the map size, up to max_map_size (ResourceExhausted past it).
  // Waits until no read transaction of this process is open.
  // REQUIRES: the caller holds no transaction.
  Status Grow() EXCLUDES(resize_mutex_);

  size_t map_size() const { return map_size_.load(); }
  uint64_t resizes() const { return resizes_.load(); }
  // Bytes of pages in use (last page number * page size).
  uint64_t used_bytes() const EXCLUDES(info_mu_);
  // Bytes of the pages on LMDB's freelist (the FREE_DBI, as `mdb_stat -f`
  // counts them): pages inside the data file that later writes reuse.
  // REQUIRES: the caller holds no read transaction (this opens one).
  Result<uint64_t> FreeBytes();

  // Returns space to the filesystem: writes a compacted copy of the data
  // file to DIR/data.mdb.compacting, syncs it, checks that it
  // holds every named database with the handle it has now and the same
  // number of rows, then, with every read transaction drained (it takes
  // resize_mutex() exclusively, as Grow does), closes the environment,
  // renames the copy over DIR/data.mdb, fsyncs the directory and reopens
  // the environment and its named databases, checking that each gets the
  // same MDB_dbi again (storage::Tables holds them by value everywhere).
  //
  // The copy is repacked: every table is written row by row in key order
  // (MDB_APPEND) into a new LMDB file, so that its leaf pages are full
  // where random inserts and growing updates left them half full
  // (kRepackCommitBytes per commit, synced once at the end). When the file
  // holds a table this process did not open, the copy is LMDB's own
  // (mdb_env_copyfd2 with MDB_CP_COMPACT: live pages as they are, the
  // freelist dropped) and repacked is false.
  //
  // Crash safety: the old file is complete until the rename and the copy
  // is complete (fsynced) before it, so a crash at any point leaves one
  // complete data.mdb, the old or the new (a leftover data.mdb.compacting
  // is removed by the next Compact, and is never opened).
  //
  // Before the copy: FreeBytes() and used_bytes() bound the copy's size; if
  // the filesystem has less than that plus kCompactSlackBytes available,
  // ResourceExhausted naming the path and the bytes needed, and nothing is
  // written. A copy or check that fails removes the copy and leaves the
  // data file untouched. If the environment cannot be reopened after the
  // rename (it opened a moment earlier as the copy), the process aborts:
  // there is no storage left to serve from, and the data dir holds the
  // complete compacted file for the next start.
  //
  // REQUIRES: called on the thread that owns writes, with no write
  // transaction open (WriteBatcher::RunExclusive) and no read transaction
  // of the caller's open. Writes must not start until it returns.
  Result<CompactResult> Compact() EXCLUDES(resize_mutex_, info_mu_);

  // Writes a compacted copy of the whole environment (live pages only, as
  // `mdb_copy -c`) to `path`, a new file, fsynced; the state of one read
  // transaction, so writes go on while it runs (a map resize and a Compact
  // wait for it). Returns the copy's size. Internal naming the path on an
  // I/O error; the partial file is removed.
  Result<uint64_t> CopyCompacted(const std::string& path) EXCLUDES(resize_mutex_);

  // Held shared by every read transaction, exclusively by Grow(). Write
  // transactions do not take it: only the writer thread writes and grows.
  SharedMutex& resize_mutex() RETURN_CAPABILITY(resize_mutex_) { return resize_mutex_; }

  // When the last write transaction to finish failed because the disk is
  // full: the time (NowMicros) of the first such failure since a write last
  // succeeded; 0 while writes succeed. Set by WriteTxn when a put or commit
  // fails for lack of space, cleared by the next outermost commit that
  // succeeds. Reads are unaffected; the server reports itself degraded.
  int64_t disk_full_since_us() const { return disk_full_since_us_.load(); }

 private:
  struct OpenedDbi {
    std::string name;
    unsigned flags;
    MDB_dbi dbi;
  };

  Env(MDB_env* env, EnvOptions options, size_t map_size);
  friend class WriteTxn;  // records disk_full_since_us_
  // mdb_env_create + options + mdb_env_open of options.path.
  static Result<MDB_env*> OpenRaw(const EnvOptions& options, size_t map_size);
  // Opens the copy read-only and compares it with the live environment.
  Status VerifyCopy(const std::string& copy_path);
  // Whether every table in the file is in opened_ (the main table holds
  // one entry per named table).
  Result<bool> OpenedEveryTable();
  // Compact's repacked copy; an LMDB or errno code, with *what saying
  // which step failed.
  int WriteRepackedCopy(const std::string& copy_path, std::string* what);
  // After the swap: opens opened_ again and checks their handles.
  Status ReopenDbis();

  // Replaced only by Compact(), holding resize_mutex_ and info_mu_
  // exclusively; read by transactions (under resize_mutex_ or on the writer
  // thread) and by used_bytes() (under info_mu_).
  MDB_env* env_;
  EnvOptions options_;
  std::atomic<size_t> map_size_;
  std::atomic<uint64_t> resizes_{0};
  std::atomic<int64_t> disk_full_since_us_{0};
  // Guards no field: it keeps the map size (mdb_env_set_mapsize) from
  // changing while a read transaction of this process is open.
  SharedMutex resize_mutex_;
  // Guards no field: keeps env_ from being swapped during used_bytes(),
  // which callers may reach inside a read transaction.
  mutable Mutex info_mu_;
  std::vector<OpenedDbi> opened_;  // start-up and the writer thread only
};

class Cursor;

// Operations common to read and write transactions.
class Txn {
 public:
  virtual ~Txn() = default;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* raw() const { return txn_; }

  // True and *value set when key exists; false when absent. *value points
  // into the map and is valid until the transaction ends or writes again.
  Result<bool> Get(MDB_dbi dbi, std::string_view key, std::string_view* value);
  // Number of entries in dbi.
  Result<uint64_t> Count(MDB_dbi dbi);
  std::unique_ptr<Cursor> OpenCursor(MDB_dbi dbi);

 protected:
  Txn() = default;
  MDB_txn* txn_ = nullptr;
};

// Holds env.resize_mutex() shared for its whole life (also when status()
// is not OK), as a scoped lock: the analysis knows a scope with a ReadTxn
// holds it, so calling env.Grow() there is an error.
class SCOPED_CAPABILITY ReadTxn : public Txn {
 public:
  // Begins a read-only snapshot. Check status() before use.
  explicit ReadTxn(Env& env) ACQUIRE_SHARED(env.resize_mutex());
  ~ReadTxn() override RELEASE();
  const Status& status() const { return status_; }

 private:
  SharedMutex* const resize_mutex_;
  Status status_;
};

class WriteTxn : public Txn {
 public:
  // Begins a write transaction, nested inside parent when parent != nullptr.
  // Check status() before use.
  WriteTxn(Env& env, WriteTxn* parent);
  ~WriteTxn() override;  // aborts unless committed
  const Status& status() const { return status_; }

  Status Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // Reserves size bytes for key and returns where to write them.
  // flags: e.g. MDB_APPEND when key sorts after every key of dbi.
  Result<char*> Reserve(MDB_dbi dbi, std::string_view key, size_t size, unsigned flags = 0);
  // True when key existed and was deleted; false when absent.
  Result<bool> Del(MDB_dbi dbi, std::string_view key);
  // Deletes every key that starts with prefix; returns how many.
  Result<uint64_t> DelPrefix(MDB_dbi dbi, std::string_view prefix);
  // Deletes every key of dbi (mdb_drop without closing the handle): its
  // pages go to the freelist without being read one key at a time.
  Status Clear(MDB_dbi dbi);

  // Runs after the outermost transaction is durably committed (nested: only
  // if every enclosing transaction commits too). Never runs on abort.
  void OnCommit(std::function<void()> fn) { on_commit_.push_back(std::move(fn)); }

  Status Commit();
  void Abort();

  // True when a write failed with MDB_MAP_FULL: the map must grow and the
  // whole transaction be retried.
  bool map_full() const { return map_full_; }
  // True when a write or the commit failed because the disk is full.
  bool no_space() const { return no_space_; }
  std::vector<std::function<void()>> TakeOnCommit() { return std::move(on_commit_); }

 private:
  Status Check(int rc, std::string_view what);

  Env& env_;
  WriteTxn* parent_;
  Status status_;
  bool done_ = false;
  bool map_full_ = false;
  bool no_space_ = false;
  std::vector<std::function<void()>> on_commit_;
};

class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Each positions the cursor and returns whether it is on an entry.
  Result<bool> First();
  Result<bool> Last();
  Result<bool> Next();
  Result<bool> Prev();
  // First entry with key >= target.
  Result<bool> Seek(std::string_view target);

  // REQUIRES: the last positioning call returned true.
  std::string_view key() const { return {static_cast<const char*>(key_.mv_data), key_.mv_size}; }
  std::string_view value() const {
    return {static_cast<const char*>(value_.mv_data), value_.mv_size};
  }
  // Deletes the current entry. REQUIRES: a write transaction.
  Status Delete();

 private:
  Result<bool> Move(MDB_cursor_op op);

  MDB_cursor* cursor_ = nullptr;
  Status status_;
  MDB_val key_{0, nullptr};
  MDB_val value_{0, nullptr};
};

inline MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

}  // namespace hartonomous::storage
