#include "server/engine/vectors/index_maintainer.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "index/kernels.h"
#include "index/spatial/spatial_index.h"
#include "storage/tables/collection_table.h"

namespace hartonomous::engine {

namespace fs = std::filesystem;
using storage::CollectionRecord;

namespace {

Status SyncFile(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0)
    return Status::Internal("snapshot: cannot open " + path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    return Status::Internal("snapshot: fsync " + path + " failed: " + std::strerror(errno));
  return Status::Ok();
}

// Snapshot files are "<kind>-<watermark, 20 digits>.snap"; newest first.
std::vector<std::pair<uint64_t, std::string>> ListSnapshots(const std::string& dir,
                                                            const std::string& kind) {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix = kind + "-";
    if (name.size() != prefix.size() + 20 + 5 || name.rfind(prefix, 0) != 0 ||
        name.substr(name.size() - 5) != ".snap") {
      continue;
    }
    const std::string digits = name.substr(prefix.size(), 20);
    uint64_t mark = 0;
    auto [end, ec2] = std::from_chars(digits.data(), digits.data() + digits.size(), mark);
    if (ec2 != std::errc() || end != digits.data() + digits.size()) continue;
    out.emplace_back(mark, entry.path().string());
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

// Point snapshots carry the projection version in their kind: points of an
// older projection are never loaded.
std::string FineSnapshotKind(uint64_t projection_version) {
  return "fine.p" + std::to_string(projection_version);
}

}  // namespace

IndexMaintainer::IndexMaintainer(storage::Env& env, const storage::Tables& tables,
                                 const EmbeddingEngineOptions& options,
                                 const index::IndexRegistry& indexes,
                                 CollectionRegistry& collections, SpatialSearch& spatial)
    : env_(env),
      tables_(tables),
      options_(options),
      indexes_(indexes),
      collections_(collections),
      spatial_(spatial) {}

IndexMaintainer::~IndexMaintainer() { Stop(); }

void IndexMaintainer::Stop() {
  {
    MutexLock lock(&bg_mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  bg_cv_.SignalAll();
  if (background_.joinable()) background_.join();
  if (!options_.snapshot_on_stop) return;
  Status s = SnapshotAll();
  if (!s.ok()) spdlog::warn("vector snapshots at shutdown: {}", s.ToString());
}

std::string IndexMaintainer::SnapshotDir(uint64_t collection_id) const {
  return (fs::path(options_.snapshot_dir) / std::to_string(collection_id)).string();
}

// --- loading -------------------------------------------------------------

Status IndexMaintainer::Load(const LoadObserver& observer) {
  {
    std::string supported;
    for (const index::DistanceKernels* k : index::SupportedKernels()) {
      supported += supported.empty() ? k->name : std::string(", ") + k->name;
    }
    spdlog::info("vector distance kernels: {} (this CPU supports {})", index::Kernels().name,
                 supported);
  }
  std::vector<CollectionRecord> records;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(records, storage::CollectionTable(tables_).All(txn));
  }
  for (const auto& r : records) HT_RETURN_IF_ERROR(LoadCollection(r, observer));
  {
    // Collections that reached the fit threshold before a restart are
    // fitted by the first background pass, not at the next periodic tick.
    const auto all = collections_.All();
    MutexLock bg(&bg_mu_);
    for (const auto& c : all) work_pending_ |= c->refit_wanted.load();
  }
  if (options_.background) {
    MutexLock bg(&bg_mu_);
    if (!stopped_) background_ = std::thread([this] { BackgroundLoop(); });
  }
  return Status::Ok();
}

Status IndexMaintainer::LoadCollection(const CollectionRecord& record,
                                       const LoadObserver& observer) {
  auto c = std::make_shared<Collection>();
  c->record = record;
  c->spec = collections_.SpecFor(record);
  std::unique_ptr<index::VectorIndex> loaded;
  uint64_t watermark = 0;
  if (!options_.snapshot_dir.empty()) {
    for (const auto& [mark, path] :
         ListSnapshots(SnapshotDir(record.collection_id()), c->spec.kind)) {
      auto index = indexes_.Load(c->spec, path);
      if (index.ok()) {
        loaded = std::move(index).value();
        watermark = mark;
        break;
      }
      spdlog::warn("collection '{}': snapshot {} unusable ({}); trying an older one", record.name(),
                   path, index.status().ToString());
    }
  }
  const bool from_snapshot = loaded != nullptr;
  if (!loaded) {
    HT_ASSIGN_OR_RETURN(loaded, indexes_.Create(c->spec));
  }
  ReconcileCounts counts;
  std::unique_ptr<CollectionSpace> space;
  bool points_from_snapshot = false;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(space, MakeSpace(txn, record));
    if (!options_.snapshot_dir.empty()) {
      for (const auto& [mark, path] :
           ListSnapshots(SnapshotDir(record.collection_id()), FineSnapshotKind(space->version()))) {
        auto points = index::MakeSpatialIndex("scan");
        if (!points.ok()) return points.status();
        auto read = index::LoadSpatialSnapshot(path, points->get());
        if (read.ok()) {
          HT_RETURN_IF_ERROR(space->AssignFine((*points)->Points()));
          points_from_snapshot = true;
          break;
        }
        spdlog::warn("collection '{}': point snapshot {} unusable ({}); trying an older one",
                     record.name(), path, read.status().ToString());
      }
    }
    HT_RETURN_IF_ERROR(Reconcile(txn, tables_, record, loaded.get(), space.get(),
                                 options_.replay_threads, &counts, &observer));
  }
  const uint64_t added = counts.added, removed = counts.removed;
  {
    // c is not shared yet (Add below publishes it): the locks are
    // uncontended.
    MutexLock lock(&c->apply_mu);
    c->applied_seq = std::max(watermark, counts.max_seen);
    c->snapshot.watermark = watermark;
    c->snapshot.loaded_from_snapshot = from_snapshot;
    c->snapshot.replayed_at_start = added;
    c->snapshot.removed_at_start = removed;
  }
  c->changes = added + removed + (points_from_snapshot ? 0 : counts.projected);
  const size_t vectors = loaded->size(), points = space->fine().size();
  c->SetIndex(std::move(loaded));
  c->SetSpace(std::move(space));
  if (WantsFit(*c)) c->refit_wanted = true;
  spdlog::info(
      "collection '{}': {} vectors ({}; {} replayed, {} removed), {} points ({}, {} projected)",
      record.name(), vectors, from_snapshot ? "from snapshot" : "built from storage", added,
      removed, points, points_from_snapshot ? "from snapshot" : "from storage", counts.projected);
  ++totals_.collections;
  totals_.replayed += added;
  totals_.removed += removed;
  // Snapshot a large replay now rather than at the next write or tick, so
  // that a second crash does not replay the same rows again.
  if (!options_.snapshot_dir.empty() && options_.snapshot_after_replay > 0 &&
      added + removed >= options_.snapshot_after_replay) {
    if (Status saved = Snapshot(*c); saved.ok()) {
      ++totals_.snapshotted;
      spdlog::info("collection '{}': snapshotted after replaying {} rows", record.name(),
                   added + removed);
    } else {
      spdlog::warn("collection '{}': snapshot after replay failed: {}", record.name(),
                   saved.ToString());
    }
  }
  collections_.Add(std::move(c));
  return Status::Ok();
}

Result<std::unique_ptr<CollectionSpace>> IndexMaintainer::MakeSpace(
    storage::Txn& txn, const CollectionRecord& record) {
  HT_ASSIGN_OR_RETURN(
      std::optional<storage::ProjectionRecord> stored,
      storage::CollectionTable(tables_).FindProjection(txn, record.collection_id()));
  return CollectionSpace::Make(
      record, stored ? std::move(*stored) : CollectionSpace::DefaultRecord(record));
}

bool IndexMaintainer::WantsFit(const Collection& c) const {
  if (options_.projection_fit_after == 0 || c.record.dimension() <= 3) return false;
  auto space = c.CurrentSpace();
  const size_t enough =
      std::max<size_t>(options_.projection_fit_after, index::Projection::kMinPcaSample);
  return space && space->version() == 0 && space->fine().size() >= enough;
}

void IndexMaintainer::NoteApplied(Collection& c, uint64_t changed) {
  auto index = c.CurrentIndex();
  const size_t deleted = index->deleted();
  const size_t total = deleted + index->size();
  const bool rebuild = deleted >= options_.rebuild_min_deleted && total > 0 &&
                       static_cast<double>(deleted) >= options_.rebuild_deleted_fraction * total;
  if (rebuild) c.rebuild_wanted = true;
  const bool fit = !c.refit_wanted && WantsFit(c);
  if (fit) c.refit_wanted = true;
  if (rebuild || fit || changed >= options_.snapshot_after_changes) {
    {
      MutexLock bg(&bg_mu_);
      work_pending_ = true;
    }
    bg_cv_.SignalAll();
  }
}

// --- snapshots and rebuilds ----------------------------------------------

Status IndexMaintainer::Snapshot(Collection& c) {
  if (options_.snapshot_dir.empty()) {
    return Status::FailedPrecondition("snapshots are disabled (no snapshot directory)");
  }
  MutexLock snap(&c.snapshot_mu);
  if (c.dropped) return Status::Ok();
  const std::string dir = SnapshotDir(c.record.collection_id());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Internal("snapshot: cannot create " + dir + ": " + ec.message());
  const std::string tmp = dir + "/" + c.spec.kind + ".tmp";
  uint64_t watermark = 0, changes = 0;
  std::shared_ptr<CollectionSpace> space;
  std::vector<std::pair<uint64_t, index::Point3>> points;
  {
    // Changes wait while the index is written and the points copied;
    // searches do not.
    MutexLock lock(&c.apply_mu);
    watermark = c.applied_seq;
    changes = c.changes.load();
    HT_RETURN_IF_ERROR(c.CurrentIndex()->Save(tmp));
    space = c.CurrentSpace();
    points = space->fine().Points();
  }
  HT_RETURN_IF_ERROR(SyncFile(tmp, false));
  char digits[21];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(watermark));
  const std::string final_path = dir + "/" + c.spec.kind + "-" + digits + ".snap";
  fs::rename(tmp, final_path, ec);
  if (ec) return Status::Internal("snapshot: rename to " + final_path + " failed: " + ec.message());
  // The points, through a scan index (a copy, no tree to build).
  const std::string fine_kind = FineSnapshotKind(space->version());
  const std::string fine_path = dir + "/" + fine_kind + "-" + digits + ".snap";
  {
    HT_ASSIGN_OR_RETURN(auto copy, index::MakeSpatialIndex("scan"));
    HT_RETURN_IF_ERROR(copy->Assign(std::move(points)));
    HT_RETURN_IF_ERROR(index::SaveSpatialSnapshot(*copy, watermark, fine_path));
  }
  HT_RETURN_IF_ERROR(SyncFile(dir, true));
  for (const auto& [mark, path] : ListSnapshots(dir, c.spec.kind)) {
    if (path != final_path) fs::remove(path, ec);
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("fine.p", 0) == 0 && entry.path().string() != fine_path)
      fs::remove(entry.path(), ec);
  }
  MutexLock lock(&c.apply_mu);
  c.snapshot.watermark = watermark;
  c.snapshot.saved_at_us = NowMicros();
  c.changes -= changes;
  return Status::Ok();
}

Status IndexMaintainer::SnapshotAll() {
  if (options_.snapshot_dir.empty()) return Status::Ok();
  Status first;
  for (auto& c : collections_.All()) {
    if (c->changes.load() == 0) continue;
    Status s = Snapshot(*c);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

void IndexMaintainer::DropSnapshots(Collection& c) {
  MutexLock snap(&c.snapshot_mu);
  std::error_code ec;
  if (!options_.snapshot_dir.empty()) fs::remove_all(SnapshotDir(c.record.collection_id()), ec);
}

Status IndexMaintainer::Rebuild(Collection& c) {
  c.rebuild_wanted = false;
  HT_ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> fresh, indexes_.Create(c.spec));
  ReconcileCounts counts;
  {
    // The long part, without blocking changes to the current index.
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(
        Reconcile(txn, tables_, c.record, fresh.get(), nullptr, options_.replay_threads, &counts));
  }
  MutexLock lock(&c.apply_mu);
  {
    // Catch up with what committed meanwhile, then swap.
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(
        Reconcile(txn, tables_, c.record, fresh.get(), nullptr, options_.replay_threads, &counts));
  }
  c.SetIndex(std::shared_ptr<index::VectorIndex>(std::move(fresh)));
  c.changes += 1;  // the next snapshot saves the compacted index
  spdlog::info("collection '{}': index rebuilt", c.record.name());
  return Status::Ok();
}

// --- background ----------------------------------------------------------

void IndexMaintainer::BackgroundLoop() {
  auto last_tick = std::chrono::steady_clock::now();
  while (true) {
    {
      MutexLock lock(&bg_mu_);
      if (options_.snapshot_interval.count() > 0) {
        // Wakes for work, or once the interval passed without any.
        const auto deadline = std::chrono::steady_clock::now() + options_.snapshot_interval;
        while (!stopping_ && !work_pending_) {
          if (!bg_cv_.WaitUntil(&bg_mu_, deadline)) break;
        }
      } else {
        while (!stopping_ && !work_pending_) bg_cv_.Wait(&bg_mu_);
      }
      if (stopping_) return;
      work_pending_ = false;
    }
    const bool tick = options_.snapshot_interval.count() > 0 &&
                      std::chrono::steady_clock::now() - last_tick >= options_.snapshot_interval;
    if (tick) last_tick = std::chrono::steady_clock::now();
    RunMaintenance(tick);
  }
}

void IndexMaintainer::RunMaintenance(bool due) {
  for (auto& c : collections_.All()) {
    if (c->refit_wanted.exchange(false)) {
      RefitSummary summary;
      Status s = spatial_.Refit(*c, RefitOptions{}, &summary);
      if (!s.ok()) {
        spdlog::warn("collection '{}': projection fit failed: {}", c->record.name(), s.ToString());
      }
    }
    if (c->rebuild_wanted) {
      Status s = Rebuild(*c);
      if (!s.ok())
        spdlog::warn("collection '{}': rebuild failed: {}", c->record.name(), s.ToString());
    }
    const uint64_t changes = c->changes.load();
    if (!options_.snapshot_dir.empty() &&
        (changes >= options_.snapshot_after_changes || (due && changes > 0))) {
      Status s = Snapshot(*c);
      if (!s.ok())
        spdlog::warn("collection '{}': snapshot failed: {}", c->record.name(), s.ToString());
    }
  }
}

}  // namespace hartonomous::engine
