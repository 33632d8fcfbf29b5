#include "server/engine/vectors/collection_registry.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "base/clock.h"
#include "index/spatial/spatial_index.h"
#include "server/engine/vectors/stored_vectors.h"
#include "storage/tables/collection_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

using storage::CollectionRecord;

namespace {

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

}  // namespace

// --- Collection ------------------------------------------------------------

std::shared_ptr<index::VectorIndex> Collection::CurrentIndex() const {
  MutexLock lock(&index_mu);
  return index;
}

void Collection::SetIndex(std::shared_ptr<index::VectorIndex> next) {
  MutexLock lock(&index_mu);
  index = std::move(next);
}

std::shared_ptr<CollectionSpace> Collection::CurrentSpace() const {
  MutexLock lock(&index_mu);
  return space;
}

void Collection::SetSpace(std::shared_ptr<CollectionSpace> next) {
  MutexLock lock(&index_mu);
  space = std::move(next);
}

CollectionInfo Collection::Info() {
  CollectionInfo info;
  info.record = record;
  auto current_index = CurrentIndex();
  info.vector_count = current_index->size();
  info.deleted_count = current_index->deleted();
  info.memory_bytes = current_index->memory_bytes();
  auto current_space = CurrentSpace();
  info.projection = current_space->record();
  info.points = current_space->fine().size();
  MutexLock lock(&apply_mu);
  info.snapshot = snapshot;
  info.snapshot.changes_since_snapshot = changes.load();
  return info;
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

// --- CollectionRegistry ----------------------------------------------------

CollectionRegistry::CollectionRegistry(storage::Env& env, const storage::Tables& tables,
                                       const index::IndexRegistry& indexes)
    : env_(env), tables_(tables), indexes_(indexes) {}

index::IndexSpec CollectionRegistry::SpecFor(const CollectionRecord& record) const {
  index::IndexSpec spec = SpecOf(record);
  spec.source = std::make_shared<StoredVectors>(env_, tables_, record.collection_id());
  return spec;
}

std::shared_ptr<Collection> CollectionRegistry::Find(const std::string& name) const {
  ReaderLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  return by_id_.at(it->second);
}

std::shared_ptr<Collection> CollectionRegistry::FindById(uint64_t id) const {
  ReaderLock lock(&mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Collection>> CollectionRegistry::Require(const std::string& name) const {
  auto c = Find(name);
  if (!c) return NoCollection(name);
  return c;
}

std::string CollectionRegistry::NameOf(uint64_t id) const {
  auto c = FindById(id);
  return c ? c->record.name() : std::string();
}

std::vector<std::shared_ptr<Collection>> CollectionRegistry::All() const {
  ReaderLock lock(&mu_);
  std::vector<std::shared_ptr<Collection>> all;
  for (const auto& [id, c] : by_id_) all.push_back(c);
  return all;
}

std::vector<std::shared_ptr<Collection>> CollectionRegistry::AllByName() const {
  ReaderLock lock(&mu_);
  std::vector<std::shared_ptr<Collection>> all;
  for (const auto& [name, id] : by_name_) all.push_back(by_id_.at(id));
  return all;
}

void CollectionRegistry::Add(std::shared_ptr<Collection> collection) {
  const CollectionRecord& record = collection->record;
  WriterLock lock(&mu_);
  by_name_[record.name()] = record.collection_id();
  by_id_[record.collection_id()] = std::move(collection);
}

Status CollectionRegistry::CheckSpec(const CollectionSpec& spec) const {
  index::IndexSpec ispec;
  ispec.kind = spec.index_kind;
  ispec.dimension = spec.dimension;
  ispec.metric = spec.metric;
  ispec.params = spec.params;
  HT_RETURN_IF_ERROR(indexes_.Check(ispec));
  if (spec.spatial_kind.empty()) return Status::Ok();
  auto made = index::MakeSpatialIndex(spec.spatial_kind);
  if (!made.ok()) return Status::InvalidArgument("spatial_index: " + made.status().message());
  return Status::Ok();
}

Result<std::optional<CollectionRecord>> CollectionRegistry::FindStored(
    storage::Txn& txn, const std::string& name) const {
  return storage::CollectionTable(tables_).FindByName(txn, name);
}

Result<CollectionRecord> CollectionRegistry::RequireStored(storage::Txn& txn,
                                                           const std::string& name) const {
  HT_ASSIGN_OR_RETURN(std::optional<CollectionRecord> record, FindStored(txn, name));
  if (!record) return NoCollection(name);
  return std::move(*record);
}

Result<CollectionRecord> CollectionRegistry::Insert(storage::WriteTxn& txn, const std::string& name,
                                                    const CollectionSpec& spec) {
  storage::CollectionTable collections(tables_);
  HT_ASSIGN_OR_RETURN(std::optional<uint64_t> taken, collections.FindId(txn, name));
  if (taken) return Status::AlreadyExists("name: collection '" + name + "' already exists");
  HT_ASSIGN_OR_RETURN(std::optional<CollectionRecord> other,
                      collections.FindByEmbedding(txn, spec.embedding_type, spec.model_id));
  if (other) {
    return Status::AlreadyExists("embedding_type/model_id: collection '" + other->name() +
                                 "' already holds embedding type '" + spec.embedding_type +
                                 "' of model " + std::to_string(spec.model_id));
  }
  CollectionRecord record = RecordOf(name, spec);
  record.set_created_at_us(NowMicros());
  HT_RETURN_IF_ERROR(collections.Insert(txn, &record).status());
  txn.OnCommit([this, record] {
    auto c = std::make_shared<Collection>();
    c->record = record;
    c->spec = SpecFor(record);
    auto index = indexes_.Create(c->spec);
    if (!index.ok()) {
      spdlog::error("collection '{}': cannot create its index: {}", record.name(),
                    index.status().ToString());
      return;
    }
    auto space = CollectionSpace::Make(record, CollectionSpace::DefaultRecord(record));
    if (!space.ok()) {
      spdlog::error("collection '{}': cannot create its projection: {}", record.name(),
                    space.status().ToString());
      return;
    }
    // Not shared yet: the setters' lock is uncontended.
    c->SetIndex(std::move(index).value());
    c->SetSpace(std::move(space).value());
    Add(std::move(c));
  });
  return record;
}

Status CollectionRegistry::Remove(storage::WriteTxn& txn, const std::string& name,
                                  std::function<void(Collection&)> on_dropped) {
  HT_ASSIGN_OR_RETURN(CollectionRecord record, RequireStored(txn, name));
  const uint64_t cid = record.collection_id();
  HT_RETURN_IF_ERROR(storage::EmbeddingTable(tables_).RemoveCollection(txn, cid).status());
  HT_RETURN_IF_ERROR(storage::CollectionTable(tables_).Drop(txn, record));
  txn.OnCommit([this, cid, name, on_dropped = std::move(on_dropped)] {
    std::shared_ptr<Collection> c;
    {
      WriterLock lock(&mu_);
      auto it = by_id_.find(cid);
      if (it != by_id_.end()) c = it->second;
      by_id_.erase(cid);
      by_name_.erase(name);
    }
    if (c) {
      c->dropped = true;
      if (on_dropped) on_dropped(*c);
    }
  });
  return Status::Ok();
}

}  // namespace hartonomous::engine
