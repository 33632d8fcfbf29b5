#include "server/engine/vectors/embedding_engine.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"
#include "base/json_limits.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/vectors/embedding_internal.h"
#include "storage/key_codec.h"
#include "storage/sequence.h"

namespace hartonomous::engine {

namespace fs = std::filesystem;
using storage::CollectionRecord;
using storage::EmbeddingRecord;
using namespace embedding_internal;

namespace embedding_internal {
namespace {

// Logs that an atom's stored metadata cannot be read, once per atom for the
// life of the process (up to kMaxWarned atoms; then once more, to say so).
void WarnUnreadableMetadata(uint64_t atom_id, const Status& why) {
  constexpr size_t kMaxWarned = 4096;
  static std::mutex mu;
  static std::unordered_set<uint64_t> warned;
  std::lock_guard<std::mutex> lock(mu);
  if (warned.size() > kMaxWarned || !warned.insert(atom_id).second) return;
  if (warned.size() > kMaxWarned) {
    spdlog::warn("more atoms with unreadable metadata; no further warnings");
    return;
  }
  spdlog::warn("atom {}: stored {}; it matches no metadata filter", atom_id, why.message());
}

}  // namespace

Result<bool> AtomMatcher::Matches(uint64_t atom_id) {
  if (filter_.empty()) return true;
  auto it = cache_.find(atom_id);
  if (it != cache_.end()) return it->second;
  HT_ASSIGN_OR_RETURN(auto atom, atoms_.Get(txn_, atom_id));
  const bool match = atom && Check(*atom);
  cache_.emplace(atom_id, match);
  return match;
}

bool AtomMatcher::Check(const storage::AtomRecord& a) const {
  if (!filter_.modality.empty() && a.modality() != filter_.modality) return false;
  if (!filter_.subtype.empty() && a.subtype() != filter_.subtype) return false;
  if (!filter_.source_type.empty() && a.source_type() != filter_.source_type) return false;
  if (filter_.active_only && !a.is_active()) return false;
  if (filter_.created_after_us && a.created_at_us() < *filter_.created_after_us) return false;
  if (filter_.created_before_us && a.created_at_us() >= *filter_.created_before_us) return false;
  if (filter_.metadata_equals.empty()) return true;
  if (a.metadata().empty()) return false;
  // Metadata stored by an older server may be nested past the limit: it
  // matches nothing rather than being parsed without a bound.
  auto parsed = ParseJson("metadata", a.metadata());
  if (!parsed.ok()) {
    WarnUnreadableMetadata(a.atom_id(), parsed.status());
    return false;
  }
  const nlohmann::json& json = *parsed;
  if (!json.is_object()) return false;
  for (const auto& [key, want] : filter_.metadata_equals) {
    auto v = json.find(key);
    if (v == json.end()) return false;
    const std::string have = v->is_string() ? v->get<std::string>() : v->dump();
    if (have != want) return false;
  }
  return true;
}

}  // namespace embedding_internal

namespace {

// Rows read and inserted per chunk of a replay: progress and cancellation
// are checked between chunks.
constexpr size_t kReplayChunk = 2048;
// Replays of at least this many rows log their progress.
constexpr uint64_t kReplayLogRows = 1000;

std::string VectorBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// InvalidArgument naming spatial_index unless kind is empty or a known kind.
Status CheckSpatialKind(const std::string& kind) {
  if (kind.empty()) return Status::Ok();
  auto made = index::MakeSpatialIndex(kind);
  if (!made.ok()) return Status::InvalidArgument("spatial_index: " + made.status().message());
  return Status::Ok();
}

Status NoCollection(const std::string& name) {
  return Status::NotFound("collection: no collection named '" + name + "'");
}

CollectionRecord RecordOf(const std::string& name, const CollectionSpec& spec) {
  CollectionRecord r;
  r.set_name(name);
  r.set_embedding_type(spec.embedding_type);
  r.set_model_id(spec.model_id);
  r.set_dimension(spec.dimension);
  r.set_metric(index::MetricName(spec.metric));
  r.set_index_kind(spec.index_kind);
  r.set_m(static_cast<uint32_t>(spec.params.m));
  r.set_ef_construction(static_cast<uint32_t>(spec.params.ef_construction));
  r.set_ef_search(static_cast<uint32_t>(spec.params.ef_search));
  r.set_spatial_kind(spec.spatial_kind);
  return r;
}

// Checks an AddEmbeddings create spec against the existing collection.
Status CheckCompatible(const CollectionRecord& have, const CollectionSpec& want, bool type_given) {
  const std::string name = "'" + have.name() + "'";
  if (want.metric != *index::ParseMetric(have.metric())) {
    return Status::InvalidArgument(std::string("create.metric: collection ") + name + " uses " +
                                   have.metric() + ", the request asks for " +
                                   index::MetricName(want.metric));
  }
  if (want.index_kind != have.index_kind()) {
    return Status::InvalidArgument("create.index.kind: collection " + name + " uses " +
                                   have.index_kind() + ", the request asks for " + want.index_kind);
  }
  const std::string have_spatial = have.spatial_kind().empty() ? "rtree" : have.spatial_kind();
  if (!want.spatial_kind.empty() && want.spatial_kind != have_spatial) {
    return Status::InvalidArgument("create.spatial_index: collection " + name + " uses " +
                                   have_spatial + ", the request asks for " + want.spatial_kind);
  }
  if (want.dimension != 0 && want.dimension != have.dimension()) {
    return Status::InvalidArgument("create.dimension: collection " + name + " has dimension " +
                                   std::to_string(have.dimension()) + ", the request asks for " +
                                   std::to_string(want.dimension));
  }
  if (type_given &&
      (want.embedding_type != have.embedding_type() || want.model_id != have.model_id())) {
    return Status::InvalidArgument("create.embedding_type/model_id: collection " + name +
                                   " holds embedding type '" + have.embedding_type() +
                                   "' of model " + std::to_string(have.model_id()));
  }
  return Status::Ok();
}

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

bool SearchFilter::empty() const {
  return modality.empty() && subtype.empty() && source_type.empty() && !active_only &&
         !created_after_us && !created_before_us && metadata_equals.empty();
}

const char* SearchPathName(SearchPath path) {
  switch (path) {
    case SearchPath::kAnn:
      return "ann";
    case SearchPath::kAnnPostFilter:
      return "ann_post_filter";
    case SearchPath::kExact:
      return "exact";
    case SearchPath::kExactFiltered:
      return "exact_filtered";
  }
  return "unknown";
}

index::IndexSpec SpecOf(const CollectionRecord& r) {
  index::IndexSpec spec;
  spec.kind = r.index_kind();
  spec.dimension = r.dimension();
  auto metric = index::ParseMetric(r.metric());
  spec.metric = metric.ok() ? *metric : index::Metric::kCosine;
  spec.params.m = r.m();
  spec.params.ef_construction = r.ef_construction();
  spec.params.ef_search = r.ef_search();
  return spec;
}

EmbeddingEngine::EmbeddingEngine(storage::Env& env, const storage::Tables& tables,
                                 storage::WriteBatcher& writer, EmbeddingEngineOptions options,
                                 const index::IndexRegistry& registry)
    : env_(env),
      tables_(tables),
      writer_(writer),
      options_(std::move(options)),
      registry_(registry) {}

Result<std::unique_ptr<EmbeddingEngine>> EmbeddingEngine::Open(
    storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
    EmbeddingEngineOptions options, const index::IndexRegistry& registry) {
  auto engine = Create(env, tables, writer, std::move(options), registry);
  HT_RETURN_IF_ERROR(engine->Load());
  return engine;
}

std::unique_ptr<EmbeddingEngine> EmbeddingEngine::Create(storage::Env& env,
                                                         const storage::Tables& tables,
                                                         storage::WriteBatcher& writer,
                                                         EmbeddingEngineOptions options,
                                                         const index::IndexRegistry& registry) {
  return std::unique_ptr<EmbeddingEngine>(
      new EmbeddingEngine(env, tables, writer, std::move(options), registry));
}

LoadTotals EmbeddingEngine::load_totals() const { return load_totals_; }

EmbeddingEngine::~EmbeddingEngine() { Stop(); }

void EmbeddingEngine::Stop() {
  {
    std::lock_guard lock(bg_mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (!options_.snapshot_on_stop) return;
  Status s = SnapshotAll();
  if (!s.ok()) spdlog::warn("vector snapshots at shutdown: {}", s.ToString());
}

std::string EmbeddingEngine::SnapshotDir(uint64_t collection_id) const {
  return (fs::path(options_.snapshot_dir) / std::to_string(collection_id)).string();
}

// --- loading -------------------------------------------------------------

Status EmbeddingEngine::Load(const LoadObserver& observer) {
  std::vector<CollectionRecord> records;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    auto cursor = txn.OpenCursor(tables_.collections);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
    while (valid) {
      CollectionRecord r;
      HT_RETURN_IF_ERROR(Parse(cursor->value(), &r, "collections"));
      records.push_back(std::move(r));
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  for (const auto& r : records) HT_RETURN_IF_ERROR(LoadCollection(r, observer));
  {
    // Collections that reached the fit threshold before a restart are
    // fitted by the first background pass, not at the next periodic tick.
    std::shared_lock lock(mu_);
    std::lock_guard bg(bg_mu_);
    for (const auto& [id, c] : by_id_) work_pending_ |= c->refit_wanted.load();
  }
  if (options_.background) {
    std::lock_guard bg(bg_mu_);
    if (!stopped_) background_ = std::thread([this] { BackgroundLoop(); });
  }
  return Status::Ok();
}

Status EmbeddingEngine::LoadCollection(const CollectionRecord& record,
                                       const LoadObserver& observer) {
  auto c = std::make_shared<Collection>();
  c->record = record;
  c->spec = SpecOf(record);
  std::unique_ptr<index::VectorIndex> loaded;
  uint64_t watermark = 0;
  if (!options_.snapshot_dir.empty()) {
    for (const auto& [mark, path] :
         ListSnapshots(SnapshotDir(record.collection_id()), c->spec.kind)) {
      auto index = registry_.Load(c->spec, path);
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
    HT_ASSIGN_OR_RETURN(loaded, registry_.Create(c->spec));
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
    HT_RETURN_IF_ERROR(Reconcile(txn, *c, loaded.get(), space.get(), &counts, &observer));
  }
  const uint64_t added = counts.added, removed = counts.removed;
  c->applied_seq = std::max(watermark, counts.max_seen);
  c->snapshot.watermark = watermark;
  c->snapshot.loaded_from_snapshot = from_snapshot;
  c->snapshot.replayed_at_start = added;
  c->snapshot.removed_at_start = removed;
  c->changes = added + removed + (points_from_snapshot ? 0 : counts.projected);
  c->index = std::move(loaded);
  c->space = std::move(space);
  if (WantsFit(*c)) c->refit_wanted = true;
  spdlog::info(
      "collection '{}': {} vectors ({}; {} replayed, {} removed), {} points ({}, {} projected)",
      record.name(), c->index->size(), from_snapshot ? "from snapshot" : "built from storage",
      added, removed, c->space->fine().size(),
      points_from_snapshot ? "from snapshot" : "from storage", counts.projected);
  ++load_totals_.collections;
  load_totals_.replayed += added;
  load_totals_.removed += removed;
  // Snapshot a large replay now rather than at the next write or tick, so
  // that a second crash does not replay the same rows again.
  if (!options_.snapshot_dir.empty() && options_.snapshot_after_replay > 0 &&
      added + removed >= options_.snapshot_after_replay) {
    if (Status saved = SnapshotCollection(*c); saved.ok()) {
      ++load_totals_.snapshotted;
      spdlog::info("collection '{}': snapshotted after replaying {} rows", record.name(),
                   added + removed);
    } else {
      spdlog::warn("collection '{}': snapshot after replay failed: {}", record.name(),
                   saved.ToString());
    }
  }
  std::unique_lock lock(mu_);
  by_name_[record.name()] = record.collection_id();
  by_id_[record.collection_id()] = std::move(c);
  return Status::Ok();
}

Status EmbeddingEngine::Reconcile(storage::Txn& txn, const Collection& c, index::VectorIndex* index,
                                  CollectionSpace* space, ReconcileCounts* counts,
                                  const LoadObserver* observer) {
  const uint64_t cid = c.record.collection_id();
  const std::string& name = c.record.name();
  const std::string prefix = storage::Be64Key(cid);
  const size_t dim = c.spec.dimension;
  // Pass 1 (keys only): the live rows, and how many the index lacks, so
  // that progress can say "n of total".
  std::vector<uint64_t> live_ids;
  uint64_t total = 0;
  {
    auto cursor = txn.OpenCursor(tables_.embeddings_by_seq);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, 8) == prefix) {
      const uint64_t id = storage::ReadBe64(cursor->key().substr(8));
      live_ids.push_back(id);
      if (index != nullptr && !index->Contains(id)) ++total;
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  const size_t threads = options_.replay_threads != 0
                             ? options_.replay_threads
                             : std::max(1u, std::thread::hardware_concurrency());
  const bool report = observer != nullptr && total > 0;
  if (report && observer->progress) observer->progress(name, 0, total);
  if (total >= kReplayLogRows) {
    spdlog::info("collection '{}': replaying {} vectors with {} threads", name, total, threads);
  }
  // Pass 2: read the missing rows; insert them chunk by chunk, each chunk
  // in parallel (every label is new and distinct: ids are never reused and
  // a replaced row has a new id).
  std::vector<uint64_t> labels;
  std::vector<float> vectors;
  auto flush = [&]() -> Status {
    if (labels.empty()) return Status::Ok();
    HT_RETURN_IF_ERROR(index->AddBatch(labels, vectors.data(), threads));
    counts->added += labels.size();
    labels.clear();
    vectors.clear();
    if (report) {
      if (observer->progress) observer->progress(name, counts->added, total);
      if (total >= kReplayLogRows) {
        spdlog::info("collection '{}': replayed {} of {} vectors", name, counts->added, total);
      }
      if (observer->cancelled && observer->cancelled()) {
        return Status::Aborted("collection '" + name + "': loading stopped after " +
                               std::to_string(counts->added) + " of " + std::to_string(total) +
                               " vectors");
      }
    }
    return Status::Ok();
  };
  auto cursor = txn.OpenCursor(tables_.embeddings_by_seq);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
  while (valid && cursor->key().substr(0, 8) == prefix) {
    const uint64_t id = storage::ReadBe64(cursor->key().substr(8));
    counts->max_seen = std::max(counts->max_seen, id);
    const bool need_vector = index != nullptr && !index->Contains(id);
    const bool need_point = space != nullptr && !space->Contains(id);
    if (need_vector || need_point) {
      std::string_view value;
      HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.atom_embeddings, cursor->value(), &value));
      if (!found)
        return Status::DataLoss("embeddings_by_seq: embedding " + std::to_string(id) +
                                " has no row");
      EmbeddingRecord row;
      HT_RETURN_IF_ERROR(Parse(value, &row, "atom_embeddings"));
      if (row.vector().size() != dim * sizeof(float)) {
        return Status::DataLoss("atom_embeddings: embedding " + std::to_string(id) +
                                " has the wrong dimension");
      }
      const size_t at = vectors.size();
      vectors.resize(at + dim);
      std::memcpy(vectors.data() + at, row.vector().data(), dim * sizeof(float));
      if (need_point) {
        HT_RETURN_IF_ERROR(space->Upsert(id, vectors.data() + at));
        ++counts->projected;
      }
      if (need_vector) {
        labels.push_back(id);
        if (labels.size() == kReplayChunk) HT_RETURN_IF_ERROR(flush());
      } else {
        vectors.resize(at);
      }
    }
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  HT_RETURN_IF_ERROR(flush());
  const std::unordered_set<uint64_t> live(live_ids.begin(), live_ids.end());
  if (index != nullptr) {
    for (uint64_t label : index->Labels()) {
      if (live.count(label) == 0) {
        HT_RETURN_IF_ERROR(index->Remove(label));
        ++counts->removed;
      }
    }
  }
  if (space != nullptr) {
    for (const auto& [label, point] : space->fine().Points()) {
      if (live.count(label) == 0) space->Remove(label);
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<CollectionSpace>> EmbeddingEngine::MakeSpace(
    storage::Txn& txn, const CollectionRecord& record) {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(
      bool found, txn.Get(tables_.projections, storage::Be64Key(record.collection_id()), &value));
  storage::ProjectionRecord projection = CollectionSpace::DefaultRecord(record);
  if (found) HT_RETURN_IF_ERROR(Parse(value, &projection, "projections"));
  return CollectionSpace::Make(record, std::move(projection));
}

bool EmbeddingEngine::WantsFit(const Collection& c) const {
  if (options_.projection_fit_after == 0 || c.record.dimension() <= 3) return false;
  auto space = c.CurrentSpace();
  const size_t enough =
      std::max<size_t>(options_.projection_fit_after, index::Projection::kMinPcaSample);
  return space && space->version() == 0 && space->fine().size() >= enough;
}

// --- lookups -------------------------------------------------------------

std::shared_ptr<EmbeddingEngine::Collection> EmbeddingEngine::Find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  return by_id_.at(it->second);
}

std::shared_ptr<EmbeddingEngine::Collection> EmbeddingEngine::FindById(uint64_t id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::string EmbeddingEngine::CollectionName(uint64_t collection_id) const {
  auto c = FindById(collection_id);
  return c ? c->record.name() : std::string();
}

Result<std::shared_ptr<EmbeddingEngine::Collection>> EmbeddingEngine::Require(
    const std::string& name) const {
  auto c = Find(name);
  if (!c) return NoCollection(name);
  return c;
}

CollectionInfo EmbeddingEngine::Info(Collection& c) const {
  CollectionInfo info;
  info.record = c.record;
  auto index = c.CurrentIndex();
  info.vector_count = index->size();
  info.deleted_count = index->deleted();
  info.memory_bytes = index->memory_bytes();
  auto space = c.CurrentSpace();
  info.projection = space->record();
  info.points = space->fine().size();
  std::lock_guard lock(c.apply_mu);
  info.snapshot = c.snapshot;
  info.snapshot.changes_since_snapshot = c.changes.load();
  return info;
}

// --- collections ---------------------------------------------------------

Result<CollectionRecord> EmbeddingEngine::InsertCollection(storage::WriteTxn& txn,
                                                           const std::string& name,
                                                           const CollectionSpec& spec) {
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool taken, txn.Get(tables_.collection_names, name, &value));
  if (taken) return Status::AlreadyExists("name: collection '" + name + "' already exists");
  {
    auto cursor = txn.OpenCursor(tables_.collections);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
    while (valid) {
      CollectionRecord other;
      HT_RETURN_IF_ERROR(Parse(cursor->value(), &other, "collections"));
      if (other.embedding_type() == spec.embedding_type && other.model_id() == spec.model_id) {
        return Status::AlreadyExists("embedding_type/model_id: collection '" + other.name() +
                                     "' already holds embedding type '" + spec.embedding_type +
                                     "' of model " + std::to_string(spec.model_id));
      }
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  storage::Sequence ids(txn, tables_.sequences, "collection_id");
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  HT_RETURN_IF_ERROR(ids.Flush());
  CollectionRecord record = RecordOf(name, spec);
  record.set_collection_id(id);
  record.set_created_at_us(NowMicros());
  HT_RETURN_IF_ERROR(
      txn.Put(tables_.collections, storage::Be64Key(id), record.SerializeAsString()));
  HT_RETURN_IF_ERROR(txn.Put(tables_.collection_names, name, storage::Be64Key(id)));
  txn.OnCommit([this, record] {
    auto c = std::make_shared<Collection>();
    c->record = record;
    c->spec = SpecOf(record);
    auto index = registry_.Create(c->spec);
    if (!index.ok()) {
      spdlog::error("collection '{}': cannot create its index: {}", record.name(),
                    index.status().ToString());
      return;
    }
    c->index = std::move(index).value();
    auto space = CollectionSpace::Make(record, CollectionSpace::DefaultRecord(record));
    if (!space.ok()) {
      spdlog::error("collection '{}': cannot create its projection: {}", record.name(),
                    space.status().ToString());
      return;
    }
    c->space = std::move(space).value();
    std::unique_lock lock(mu_);
    by_name_[record.name()] = record.collection_id();
    by_id_[record.collection_id()] = std::move(c);
  });
  return record;
}

Result<CollectionInfo> EmbeddingEngine::CreateCollection(const std::string& name,
                                                         const CollectionSpec& spec) {
  index::IndexSpec ispec;
  ispec.kind = spec.index_kind;
  ispec.dimension = spec.dimension;
  ispec.metric = spec.metric;
  ispec.params = spec.params;
  HT_RETURN_IF_ERROR(registry_.Check(ispec));
  HT_RETURN_IF_ERROR(CheckSpatialKind(spec.spatial_kind));
  HT_RETURN_IF_ERROR(writer_.Write([&](storage::WriteTxn& txn) -> Status {
    return InsertCollection(txn, name, spec).status();
  }));
  return GetCollection(name);
}

Result<CollectionInfo> EmbeddingEngine::GetCollection(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, Require(name));
  return Info(*c);
}

std::vector<CollectionInfo> EmbeddingEngine::ListCollections() {
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [name, id] : by_name_) all.push_back(by_id_.at(id));
  }
  std::vector<CollectionInfo> out;
  for (auto& c : all) out.push_back(Info(*c));
  return out;
}

Status EmbeddingEngine::DeleteCollection(const std::string& name) {
  return writer_.Write([&](storage::WriteTxn& txn) -> Status {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.collection_names, name, &value));
    if (!found) return NoCollection(name);
    const uint64_t cid = storage::ReadBe64(value);
    const std::string prefix = storage::Be64Key(cid);
    std::vector<std::string> rows;
    {
      auto cursor = txn.OpenCursor(tables_.embeddings_by_seq);
      HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
      while (valid && cursor->key().substr(0, 8) == prefix) {
        rows.emplace_back(cursor->value());
        HT_ASSIGN_OR_RETURN(valid, cursor->Next());
      }
    }
    for (const auto& key : rows) HT_RETURN_IF_ERROR(txn.Del(tables_.atom_embeddings, key).status());
    HT_RETURN_IF_ERROR(txn.DelPrefix(tables_.embeddings_by_seq, prefix).status());
    HT_RETURN_IF_ERROR(txn.Del(tables_.collections, prefix).status());
    HT_RETURN_IF_ERROR(txn.Del(tables_.collection_names, name).status());
    HT_RETURN_IF_ERROR(txn.Del(tables_.projections, prefix).status());
    txn.OnCommit([this, cid, name] {
      std::shared_ptr<Collection> c;
      {
        std::unique_lock lock(mu_);
        auto it = by_id_.find(cid);
        if (it != by_id_.end()) c = it->second;
        by_id_.erase(cid);
        by_name_.erase(name);
      }
      if (c) {
        c->dropped = true;
        std::lock_guard snap(c->snapshot_mu);
        std::error_code ec;
        if (!options_.snapshot_dir.empty()) fs::remove_all(SnapshotDir(cid), ec);
      }
    });
    return Status::Ok();
  });
}

// --- embeddings ----------------------------------------------------------

Result<AddSummary> EmbeddingEngine::AddEmbeddings(const std::string& name,
                                                  const std::optional<CollectionSpec>& create,
                                                  std::vector<EmbeddingInput> inputs) {
  if (inputs.empty()) return Status::InvalidArgument("embeddings: at least one is required");
  CollectionSpec spec;
  if (create) spec = *create;
  const bool type_given = !spec.embedding_type.empty();
  if (!type_given) spec.embedding_type = name;
  if (spec.dimension == 0) spec.dimension = static_cast<uint32_t>(inputs.front().vector.size());
  const int64_t now = NowMicros();
  size_t bytes = 0;
  for (const auto& in : inputs) bytes += in.vector.size() * sizeof(float) + in.metadata.size() + 64;
  AddSummary summary;
  HT_RETURN_IF_ERROR(writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        summary = AddSummary{};
        CollectionRecord coll;
        std::string_view value;
        HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.collection_names, name, &value));
        if (found) {
          const std::string id_key(value);
          HT_ASSIGN_OR_RETURN(bool have, txn.Get(tables_.collections, id_key, &value));
          if (!have) return Status::DataLoss("collection_names: '" + name + "' has no record");
          HT_RETURN_IF_ERROR(Parse(value, &coll, "collections"));
          if (create) HT_RETURN_IF_ERROR(CheckCompatible(coll, spec, type_given));
        } else {
          index::IndexSpec ispec;
          ispec.kind = spec.index_kind;
          ispec.dimension = spec.dimension;
          ispec.metric = spec.metric;
          ispec.params = spec.params;
          Status ok = registry_.Check(ispec);
          if (ok.ok()) ok = CheckSpatialKind(spec.spatial_kind);
          if (!ok.ok()) return Status::InvalidArgument("create." + ok.message());
          HT_ASSIGN_OR_RETURN(coll, InsertCollection(txn, name, spec));
          summary.collection_created = true;
        }
        const uint64_t cid = coll.collection_id();
        storage::AtomTable atoms(tables_);
        storage::Sequence ids(txn, tables_.sequences, "embedding_id");
        auto changes = std::make_shared<std::vector<Change>>();
        for (size_t i = 0; i < inputs.size(); ++i) {
          const EmbeddingInput& in = inputs[i];
          const std::string field = "embeddings[" + std::to_string(i) + "]";
          if (in.vector.size() != coll.dimension()) {
            return Status::InvalidArgument(field + ".vector: " + std::to_string(in.vector.size()) +
                                           " components but collection '" + name +
                                           "' has dimension " + std::to_string(coll.dimension()));
          }
          HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, in.atom_id));
          if (!atom) {
            return Status::NotFound(field + ".atom_id: atom " + std::to_string(in.atom_id) +
                                    " does not exist");
          }
          const std::string key = EmbeddingKey(in.atom_id, coll.embedding_type(), coll.model_id());
          HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atom_embeddings, key, &value));
          if (exists) {
            EmbeddingRecord old;
            HT_RETURN_IF_ERROR(Parse(value, &old, "atom_embeddings"));
            HT_RETURN_IF_ERROR(
                txn.Del(tables_.embeddings_by_seq, SeqKey(cid, old.embedding_id())).status());
            changes->push_back(Change{false, old.embedding_id(), {}});
            ++summary.replaced;
          }
          HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
          EmbeddingRecord row;
          row.set_embedding_id(id);
          row.set_atom_id(in.atom_id);
          row.set_model_id(coll.model_id());
          row.set_embedding_type(coll.embedding_type());
          row.set_dimension(coll.dimension());
          row.set_vector(VectorBytes(in.vector));
          row.set_metadata(in.metadata);
          row.set_created_at_us(now);
          row.set_uses_max_dimension_padding(in.uses_max_dimension_padding);
          row.set_collection_id(cid);
          HT_RETURN_IF_ERROR(txn.Put(tables_.atom_embeddings, key, row.SerializeAsString()));
          HT_RETURN_IF_ERROR(txn.Put(tables_.embeddings_by_seq, SeqKey(cid, id), key));
          changes->push_back(Change{true, id, in.vector});
          summary.embedding_ids.push_back(id);
        }
        HT_RETURN_IF_ERROR(ids.Flush());
        txn.OnCommit([this, cid, changes] { Apply(cid, *changes); });
        return Status::Ok();
      },
      bytes, inputs.size()));
  return summary;
}

void EmbeddingEngine::Apply(uint64_t collection_id, const std::vector<Change>& changes) {
  auto c = FindById(collection_id);
  if (!c) return;
  std::lock_guard lock(c->apply_mu);
  auto index = c->CurrentIndex();
  auto space = c->CurrentSpace();
  for (const auto& change : changes) {
    if (change.add) {
      Status s = index->Add(change.label, change.vector.data());
      if (!s.ok() && s.code() != Status::Code::kAlreadyExists) {
        spdlog::error("collection '{}': index add of embedding {} failed: {}", c->record.name(),
                      change.label, s.ToString());
      }
      s = space->Upsert(change.label, change.vector.data());
      if (!s.ok()) {
        spdlog::error("collection '{}': projecting embedding {} failed: {}", c->record.name(),
                      change.label, s.ToString());
      }
      c->applied_seq = std::max(c->applied_seq, change.label);
    } else {
      space->Remove(change.label);
      Status s = index->Remove(change.label);
      if (!s.ok() && s.code() != Status::Code::kNotFound) {
        spdlog::error("collection '{}': index delete of embedding {} failed: {}", c->record.name(),
                      change.label, s.ToString());
      }
    }
  }
  const uint64_t changed = c->changes += changes.size();
  const size_t deleted = index->deleted();
  const size_t total = deleted + index->size();
  const bool rebuild = deleted >= options_.rebuild_min_deleted && total > 0 &&
                       static_cast<double>(deleted) >= options_.rebuild_deleted_fraction * total;
  if (rebuild) c->rebuild_wanted = true;
  const bool fit = !c->refit_wanted && WantsFit(*c);
  if (fit) c->refit_wanted = true;
  if (rebuild || fit || changed >= options_.snapshot_after_changes) {
    {
      std::lock_guard bg(bg_mu_);
      work_pending_ = true;
    }
    bg_cv_.notify_all();
  }
}

Result<std::vector<EmbeddingRecord>> EmbeddingEngine::GetEmbeddings(uint64_t atom_id,
                                                                    const std::string& collection) {
  std::optional<uint64_t> only;
  if (!collection.empty()) {
    HT_ASSIGN_OR_RETURN(auto c, Require(collection));
    only = c->record.collection_id();
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto atom, storage::AtomTable(tables_).Get(txn, atom_id));
  if (!atom)
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
  std::vector<EmbeddingRecord> out;
  const std::string prefix = storage::Be64Key(atom_id);
  auto cursor = txn.OpenCursor(tables_.atom_embeddings);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
  while (valid && cursor->key().substr(0, 8) == prefix) {
    EmbeddingRecord row;
    HT_RETURN_IF_ERROR(Parse(cursor->value(), &row, "atom_embeddings"));
    if (!only || row.collection_id() == *only) out.push_back(std::move(row));
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return out;
}

Status EmbeddingEngine::DeleteEmbedding(const std::string& collection, uint64_t atom_id) {
  return writer_.Write([&](storage::WriteTxn& txn) -> Status {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn.Get(tables_.collection_names, collection, &value));
    if (!found) return NoCollection(collection);
    const std::string id_key(value);
    HT_ASSIGN_OR_RETURN(bool have, txn.Get(tables_.collections, id_key, &value));
    if (!have) return Status::DataLoss("collection_names: '" + collection + "' has no record");
    CollectionRecord coll;
    HT_RETURN_IF_ERROR(Parse(value, &coll, "collections"));
    const std::string key = EmbeddingKey(atom_id, coll.embedding_type(), coll.model_id());
    HT_ASSIGN_OR_RETURN(bool exists, txn.Get(tables_.atom_embeddings, key, &value));
    if (!exists) {
      return Status::NotFound("atom_id: atom " + std::to_string(atom_id) +
                              " has no embedding in collection '" + collection + "'");
    }
    EmbeddingRecord row;
    HT_RETURN_IF_ERROR(Parse(value, &row, "atom_embeddings"));
    HT_RETURN_IF_ERROR(txn.Del(tables_.atom_embeddings, key).status());
    HT_RETURN_IF_ERROR(
        txn.Del(tables_.embeddings_by_seq, SeqKey(coll.collection_id(), row.embedding_id()))
            .status());
    const uint64_t cid = coll.collection_id(), label = row.embedding_id();
    txn.OnCommit([this, cid, label] { Apply(cid, {Change{false, label, {}}}); });
    return Status::Ok();
  });
}

Result<uint64_t> EmbeddingEngine::RemoveAtomEmbeddings(storage::WriteTxn& txn, uint64_t atom_id) {
  const std::string prefix = storage::Be64Key(atom_id);
  std::vector<std::pair<std::string, EmbeddingRecord>> rows;
  {
    auto cursor = txn.OpenCursor(tables_.atom_embeddings);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, 8) == prefix) {
      EmbeddingRecord row;
      HT_RETURN_IF_ERROR(Parse(cursor->value(), &row, "atom_embeddings"));
      rows.emplace_back(std::string(cursor->key()), std::move(row));
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
  }
  std::map<uint64_t, std::vector<Change>> by_collection;
  for (const auto& [key, row] : rows) {
    HT_RETURN_IF_ERROR(txn.Del(tables_.atom_embeddings, key).status());
    HT_RETURN_IF_ERROR(
        txn.Del(tables_.embeddings_by_seq, SeqKey(row.collection_id(), row.embedding_id()))
            .status());
    by_collection[row.collection_id()].push_back(Change{false, row.embedding_id(), {}});
  }
  if (!by_collection.empty()) {
    txn.OnCommit([this, by_collection] {
      for (const auto& [cid, changes] : by_collection) Apply(cid, changes);
    });
  }
  return static_cast<uint64_t>(rows.size());
}

// --- search --------------------------------------------------------------

Result<SearchResult> EmbeddingEngine::Search(const SearchQuery& q, ResponseBudget* budget) {
  HT_ASSIGN_OR_RETURN(auto c, Require(q.collection));
  const uint64_t cid = c->record.collection_id();
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(QuerySource source, ResolveQuery(txn, *c, q.vector, q.atom_id));
  const std::vector<float>& query = source.vector;
  const uint64_t exclude_atom = source.exclude_atom;

  auto index = c->CurrentIndex();
  AtomMatcher matcher(txn, tables_, q.filter);
  const bool filtered = !q.filter.empty() || exclude_atom != 0;
  SearchResult result;
  const std::string prefix = storage::Be64Key(cid);

  // Resolves labels to atoms (rows deleted in this snapshot are skipped) and
  // keeps matching ones, up to want.
  auto collect = [&](const std::vector<index::Neighbor>& neighbors, size_t want,
                     bool check_filter) -> Status {
    result.hits.clear();
    for (const auto& n : neighbors) {
      if (result.hits.size() == want) break;
      std::string_view key;
      HT_ASSIGN_OR_RETURN(bool live,
                          txn.Get(tables_.embeddings_by_seq, SeqKey(cid, n.label), &key));
      if (!live) continue;
      const uint64_t atom_id = storage::ReadBe64(key);
      if (atom_id == exclude_atom) continue;
      if (check_filter) {
        HT_ASSIGN_OR_RETURN(bool match, matcher.Matches(atom_id));
        if (!match) continue;
      }
      result.hits.push_back(SearchHit{atom_id, n.label, n.distance, {}, {}});
    }
    return Status::Ok();
  };
  // Every row of the collection that matches the filter, exactly.
  auto exact_filtered = [&]() -> Status {
    std::vector<uint64_t> labels;
    auto cursor = txn.OpenCursor(tables_.embeddings_by_seq);
    HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(prefix));
    while (valid && cursor->key().substr(0, 8) == prefix) {
      const uint64_t atom_id = storage::ReadBe64(cursor->value());
      if (atom_id != exclude_atom) {
        HT_ASSIGN_OR_RETURN(bool match, matcher.Matches(atom_id));
        if (match) labels.push_back(storage::ReadBe64(cursor->key().substr(8)));
      }
      HT_ASSIGN_OR_RETURN(valid, cursor->Next());
    }
    result.candidates_examined = labels.size();
    HT_ASSIGN_OR_RETURN(auto neighbors, index->ExactAmong(query.data(), labels, q.k));
    return collect(neighbors, q.k, /*check_filter=*/false);
  };

  const size_t live = index->size();
  if (q.exact || index->exact()) {
    if (filtered) {
      result.path = SearchPath::kExactFiltered;
      HT_RETURN_IF_ERROR(exact_filtered());
    } else {
      result.path = SearchPath::kExact;
      HT_ASSIGN_OR_RETURN(auto neighbors, index->ExactSearch(query.data(), q.k));
      result.candidates_examined = live;
      HT_RETURN_IF_ERROR(collect(neighbors, q.k, false));
    }
  } else {
    const size_t ef = q.ef != 0 ? q.ef : c->spec.params.ef_search;
    const size_t total = live + index->deleted();
    size_t want = std::max(q.k, ef);
    if (filtered) want *= 4;
    result.path = filtered ? SearchPath::kAnnPostFilter : SearchPath::kAnn;
    bool done = false;
    for (int round = 0; round <= options_.max_widen_rounds && live > 0; ++round) {
      // A candidate list as long as the collection costs more than an exact
      // scan of the matching rows.
      if (filtered && want >= total) break;
      const size_t ask = std::min(want, total);
      HT_ASSIGN_OR_RETURN(auto neighbors, index->Search(query.data(), ask, std::max(ask, ef)));
      result.candidates_examined = neighbors.size();
      HT_RETURN_IF_ERROR(collect(neighbors, q.k, !q.filter.empty()));
      // Enough, or nothing more to find: the index returned every live vector.
      if (result.hits.size() >= q.k || (neighbors.size() >= live && ask >= total)) {
        done = true;
        break;
      }
      if (ask >= total) break;
      // Widen by the observed selectivity (with a margin), at least x2; with
      // no match yet, x8.
      const size_t matched = result.hits.size();
      const size_t projected =
          matched == 0 ? want * 8
                       : static_cast<size_t>(static_cast<double>(ask) * q.k / matched * 1.5) + 1;
      want = std::max(projected, want * 2);
    }
    if (!done && live > 0) {
      result.path = filtered ? SearchPath::kExactFiltered : SearchPath::kExact;
      HT_RETURN_IF_ERROR(exact_filtered());
    }
  }

  HT_RETURN_IF_ERROR(
      FillAtomFields(txn, &result.hits, q.with_canonical_text, q.with_metadata, budget));
  return result;
}

Result<EmbeddingEngine::QuerySource> EmbeddingEngine::ResolveQuery(storage::Txn& txn,
                                                                   const Collection& c,
                                                                   const std::vector<float>& vector,
                                                                   uint64_t atom_id) {
  const std::string& name = c.record.name();
  QuerySource source;
  if (atom_id == 0) {
    if (vector.size() != c.record.dimension()) {
      return Status::InvalidArgument("vector: " + std::to_string(vector.size()) +
                                     " components but collection '" + name + "' has dimension " +
                                     std::to_string(c.record.dimension()));
    }
    source.vector = vector;
    return source;
  }
  std::string_view value;
  HT_ASSIGN_OR_RETURN(
      bool found,
      txn.Get(tables_.atom_embeddings,
              EmbeddingKey(atom_id, c.record.embedding_type(), c.record.model_id()), &value));
  if (!found) {
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) +
                            " has no embedding in collection '" + name + "'");
  }
  EmbeddingRecord row;
  HT_RETURN_IF_ERROR(Parse(value, &row, "atom_embeddings"));
  source.vector = VectorOf(row);
  source.exclude_atom = atom_id;
  source.exclude_label = row.embedding_id();
  return source;
}

Status EmbeddingEngine::FillAtomFields(storage::Txn& txn, std::vector<SearchHit>* hits,
                                       bool canonical_text, bool metadata, ResponseBudget* budget) {
  // A hit without text: atom id, embedding id, distance and framing.
  constexpr size_t kHitBytes = 32;
  constexpr std::string_view kAdvice = "request fewer results or without metadata/canonical text";
  if (!canonical_text && !metadata) {
    if (budget == nullptr) return Status::Ok();
    for (size_t i = 0; i < hits->size(); ++i) {
      HT_RETURN_IF_ERROR(budget->ChargeItem(kHitBytes, kAdvice));
    }
    return Status::Ok();
  }
  storage::AtomTable atoms(tables_);
  for (auto& hit : *hits) {
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, hit.atom_id));
    size_t bytes = kHitBytes;
    if (atom && canonical_text) bytes += atom->canonical_text().size() + 8;
    if (atom && metadata) bytes += atom->metadata().size() + 8;
    if (budget != nullptr) HT_RETURN_IF_ERROR(budget->ChargeItem(bytes, kAdvice));
    if (!atom) continue;
    if (canonical_text) hit.canonical_text = atom->canonical_text();
    if (metadata) hit.metadata = atom->metadata();
  }
  return Status::Ok();
}

// --- snapshots and rebuilds ----------------------------------------------

Status EmbeddingEngine::SnapshotCollection(Collection& c) {
  if (options_.snapshot_dir.empty()) {
    return Status::FailedPrecondition("snapshots are disabled (no snapshot directory)");
  }
  std::lock_guard snap(c.snapshot_mu);
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
    std::lock_guard lock(c.apply_mu);
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
  std::lock_guard lock(c.apply_mu);
  c.snapshot.watermark = watermark;
  c.snapshot.saved_at_us = NowMicros();
  c.changes -= changes;
  return Status::Ok();
}

Result<CollectionInfo> EmbeddingEngine::Snapshot(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, Require(name));
  HT_RETURN_IF_ERROR(SnapshotCollection(*c));
  return Info(*c);
}

Status EmbeddingEngine::SnapshotAll() {
  if (options_.snapshot_dir.empty()) return Status::Ok();
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, c] : by_id_) all.push_back(c);
  }
  Status first;
  for (auto& c : all) {
    if (c->changes.load() == 0) continue;
    Status s = SnapshotCollection(*c);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status EmbeddingEngine::RebuildCollection(Collection& c) {
  c.rebuild_wanted = false;
  HT_ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> fresh, registry_.Create(c.spec));
  ReconcileCounts counts;
  {
    // The long part, without blocking changes to the current index.
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(Reconcile(txn, c, fresh.get(), nullptr, &counts));
  }
  std::lock_guard lock(c.apply_mu);
  {
    // Catch up with what committed meanwhile, then swap.
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_RETURN_IF_ERROR(Reconcile(txn, c, fresh.get(), nullptr, &counts));
  }
  c.SetIndex(std::shared_ptr<index::VectorIndex>(std::move(fresh)));
  c.changes += 1;  // the next snapshot saves the compacted index
  spdlog::info("collection '{}': index rebuilt", c.record.name());
  return Status::Ok();
}

Result<CollectionInfo> EmbeddingEngine::Rebuild(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, Require(name));
  HT_RETURN_IF_ERROR(RebuildCollection(*c));
  return Info(*c);
}

void EmbeddingEngine::BackgroundLoop() {
  auto last_tick = std::chrono::steady_clock::now();
  while (true) {
    {
      std::unique_lock lock(bg_mu_);
      auto woken = [this] { return stopping_ || work_pending_; };
      if (options_.snapshot_interval.count() > 0) {
        bg_cv_.wait_for(lock, options_.snapshot_interval, woken);
      } else {
        bg_cv_.wait(lock, woken);
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

void EmbeddingEngine::RunMaintenance(bool due) {
  std::vector<std::shared_ptr<Collection>> all;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, c] : by_id_) all.push_back(c);
  }
  for (auto& c : all) {
    if (c->refit_wanted.exchange(false)) {
      RefitSummary summary;
      Status s = RefitCollection(*c, RefitOptions{}, &summary);
      if (!s.ok()) {
        spdlog::warn("collection '{}': projection fit failed: {}", c->record.name(), s.ToString());
      }
    }
    if (c->rebuild_wanted) {
      Status s = RebuildCollection(*c);
      if (!s.ok())
        spdlog::warn("collection '{}': rebuild failed: {}", c->record.name(), s.ToString());
    }
    const uint64_t changes = c->changes.load();
    if (!options_.snapshot_dir.empty() &&
        (changes >= options_.snapshot_after_changes || (due && changes > 0))) {
      Status s = SnapshotCollection(*c);
      if (!s.ok())
        spdlog::warn("collection '{}': snapshot failed: {}", c->record.name(), s.ToString());
    }
  }
}

}  // namespace hartonomous::engine
