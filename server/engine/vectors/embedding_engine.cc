#include "server/engine/vectors/embedding_engine.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/scan_workers.h"
#include "server/engine/common/await_result.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

EmbeddingEngine::EmbeddingEngine(storage::Env& env, const storage::Tables& tables,
                                 storage::WriteBatcher& writer, EmbeddingEngineOptions options,
                                 const index::IndexRegistry& registry)
    : env_(env),
      tables_(tables),
      writer_(writer),
      options_(std::move(options)),
      collections_(env, tables, registry),
      spatial_(env, tables, writer, collections_),
      maintainer_(env, tables, options_, registry, collections_, spatial_),
      rows_(tables, writer, collections_, maintainer_),
      search_(env, tables, collections_, options_.max_widen_rounds) {}

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

EmbeddingEngine::~EmbeddingEngine() { Stop(); }

Status EmbeddingEngine::Load(const LoadObserver& observer) { return maintainer_.Load(observer); }

LoadTotals EmbeddingEngine::load_totals() const { return maintainer_.totals(); }

void EmbeddingEngine::Stop() { maintainer_.Stop(); }

// --- collections ---------------------------------------------------------

Result<CollectionInfo> EmbeddingEngine::CreateCollection(const std::string& name,
                                                         const CollectionSpec& spec) {
  return AwaitResult<CollectionInfo>(
      [&](CollectionDone done) { CreateCollectionAsync(name, spec, std::move(done)); });
}

void EmbeddingEngine::CreateCollectionAsync(std::string name, const CollectionSpec& spec,
                                            CollectionDone done) {
  if (Status valid = collections_.CheckSpec(spec); !valid.ok()) return done(std::move(valid));
  auto shared = std::make_shared<const std::string>(std::move(name));
  writer_.WriteAsync(
      [this, shared, spec](storage::WriteTxn& txn) -> Status {
        return collections_.Insert(txn, *shared, spec).status();
      },
      // The commit hooks have registered the collection by now.
      [this, shared, done = std::move(done)](Status status) {
        if (!status.ok()) return done(std::move(status));
        done(GetCollection(*shared));
      });
}

Result<CollectionInfo> EmbeddingEngine::GetCollection(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(name));
  return c->Info();
}

std::vector<CollectionInfo> EmbeddingEngine::ListCollections() {
  std::vector<CollectionInfo> out;
  for (auto& c : collections_.AllByName()) out.push_back(c->Info());
  return out;
}

Status EmbeddingEngine::DeleteCollection(const std::string& name) {
  return AwaitStatus([&](StatusDone done) { DeleteCollectionAsync(name, std::move(done)); });
}

void EmbeddingEngine::DeleteCollectionAsync(std::string name, StatusDone done) {
  writer_.WriteAsync(
      [this, name = std::move(name)](storage::WriteTxn& txn) -> Status {
        return collections_.Remove(txn, name,
                                   [this](Collection& c) { maintainer_.DropSnapshots(c); });
      },
      std::move(done));
}

std::string EmbeddingEngine::CollectionName(uint64_t collection_id) const {
  return collections_.NameOf(collection_id);
}

// --- embeddings ----------------------------------------------------------

Result<AddSummary> EmbeddingEngine::AddEmbeddings(const std::string& collection,
                                                  const std::optional<CollectionSpec>& create,
                                                  std::vector<EmbeddingInput> inputs) {
  return rows_.Add(collection, create, std::move(inputs));
}

Status EmbeddingEngine::PutEmbeddingInTxn(storage::WriteTxn& txn, const std::string& field,
                                          const std::string& collection,
                                          const EmbeddingInput& input) {
  return rows_.PutInTxn(txn, field, collection, input);
}

Status EmbeddingEngine::DeleteEmbedding(const std::string& collection, uint64_t atom_id) {
  return AwaitStatus(
      [&](StatusDone done) { DeleteEmbeddingAsync(collection, atom_id, std::move(done)); });
}

void EmbeddingEngine::DeleteEmbeddingAsync(std::string collection, uint64_t atom_id,
                                           StatusDone done) {
  rows_.DeleteAsync(std::move(collection), atom_id, std::move(done));
}

Result<uint64_t> EmbeddingEngine::RemoveAtomEmbeddings(storage::WriteTxn& txn, uint64_t atom_id) {
  return rows_.RemoveAtom(txn, atom_id);
}

Result<std::vector<storage::EmbeddingRecord>> EmbeddingEngine::GetEmbeddings(
    uint64_t atom_id, const std::string& collection) {
  std::optional<uint64_t> only;
  if (!collection.empty()) {
    HT_ASSIGN_OR_RETURN(auto c, collections_.Require(collection));
    only = c->record.collection_id();
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(bool exists, storage::AtomTable(tables_).records().Contains(txn, atom_id));
  if (!exists)
    return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
  HT_ASSIGN_OR_RETURN(std::vector<storage::EmbeddingRecord> rows,
                      storage::EmbeddingTable(tables_).OfAtom(txn, atom_id));
  if (only) {
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const auto& row) { return row.collection_id() != *only; }),
               rows.end());
  }
  return rows;
}

// --- search and spatial --------------------------------------------------

Result<SearchResult> EmbeddingEngine::Search(const SearchQuery& query, ResponseBudget* budget) {
  auto result = search_.Search(query, budget);
  if (!result.ok()) CountStop(result.status());
  return result;
}

Result<std::vector<SearchResult>> EmbeddingEngine::SearchBatch(
    const std::vector<SearchQuery>& queries, ResponseBudget* budget, size_t* failed) {
  ScanWorkers& workers = ScanWorkers::Shared();
  // The whole batch is one search in progress: its searches on helper
  // threads are part of it, and a second query arriving sends the helpers
  // back (base/scan_workers.h), leaving the rest of the batch to this thread.
  ScanWorkers::Query in_progress(workers);
  const size_t left =
      budget == nullptr ? ResponseBudget::kUnlimited : budget->limit() - budget->used();
  // Results held before they are charged: a search starts only while they
  // fit in what the budget had left, so at most one search per slot beyond
  // it is ever held.
  std::atomic<size_t> held{0};
  std::vector<std::optional<Result<SearchResult>>> results(queries.size());
  std::vector<size_t> used(queries.size(), 0);
  workers.Run(queries.size(), [&](size_t i, size_t slot) {
    if (held.load(std::memory_order_relaxed) > left) return;  // runs below, in order
    std::optional<ScanWorkers::PartOfQuery> part;
    if (slot > 0) part.emplace();
    ResponseBudget own(left);
    // Not counted as stopped here: only the failure returned is.
    results[i].emplace(search_.Search(queries[i], &own));
    used[i] = own.used();
    held.fetch_add(own.used(), std::memory_order_relaxed);
  });
  std::vector<SearchResult> out;
  out.reserve(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    std::optional<Result<SearchResult>>& result = results[i];
    if (result.has_value() && result->ok() && (budget == nullptr || budget->TryCharge(used[i]))) {
      out.push_back(std::move(*result).value());
      continue;
    }
    *failed = i;
    if (result.has_value() && !result->ok() &&
        result->status().code() != Status::Code::kResourceExhausted) {
      // Counted once, as the sequence's one stopped search would be.
      CountStop(result->status());
      return result->status();
    }
    // Not run, out of budget or not fitting beside the results before it:
    // run where the sequence would, against the shared budget.
    HT_ASSIGN_OR_RETURN(SearchResult again, Search(queries[i], budget));
    out.push_back(std::move(again));
  }
  return out;
}

Result<HybridSearchResult> EmbeddingEngine::HybridSearch(const HybridSearchQuery& query,
                                                         ResponseBudget* budget) {
  auto result = search_.HybridSearch(query, budget);
  if (!result.ok()) CountStop(result.status());
  return result;
}

void EmbeddingEngine::CountStop(const Status& status) {
  if (status.code() == Status::Code::kDeadlineExceeded) ++stopped_deadline_;
  if (status.code() == Status::Code::kCancelled) ++stopped_cancelled_;
}

Result<RefitSummary> EmbeddingEngine::RefitProjection(const std::string& name,
                                                      const RefitOptions& options) {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(name));
  RefitSummary summary;
  HT_RETURN_IF_ERROR(spatial_.Refit(*c, options, &summary));
  return summary;
}

Result<SpatialQueryResult> EmbeddingEngine::SpatialQuery(const SpatialQueryInput& input) {
  return spatial_.Query(input);
}

Result<std::vector<PointMatch>> EmbeddingEngine::NearestByProjection(
    const std::string& collection, const std::vector<float>& vector, size_t k) {
  return spatial_.NearestByProjection(collection, vector, k);
}

std::optional<std::pair<index::Point3, index::Point3>> EmbeddingEngine::PointsOf(
    const storage::EmbeddingRecord& row) const {
  return spatial_.PointsOf(row);
}

// --- maintenance ---------------------------------------------------------

Result<CollectionInfo> EmbeddingEngine::Rebuild(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(name));
  HT_RETURN_IF_ERROR(maintainer_.Rebuild(*c));
  return c->Info();
}

std::vector<IndexContents> EmbeddingEngine::CaptureIndexContents() const {
  std::vector<IndexContents> out;
  for (const auto& c : collections_.All()) {
    IndexContents contents;
    contents.collection_id = c->record.collection_id();
    contents.name = c->record.name();
    {
      MutexLock lock(&c->apply_mu);
      contents.vectors = c->CurrentIndex()->Labels();
      for (const auto& [label, point] : c->CurrentSpace()->fine().Points()) {
        contents.points.push_back(label);
      }
    }
    std::sort(contents.vectors.begin(), contents.vectors.end());
    std::sort(contents.points.begin(), contents.points.end());
    out.push_back(std::move(contents));
  }
  return out;
}

Status EmbeddingEngine::ReconcileCollection(uint64_t collection_id, ReconcileCounts* counts) {
  auto c = collections_.FindById(collection_id);
  if (c == nullptr) {
    return Status::NotFound("collection " + std::to_string(collection_id) + " no longer exists");
  }
  MutexLock lock(&c->apply_mu);
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  return Reconcile(txn, tables_, c->record, c->CurrentIndex().get(), c->CurrentSpace().get(),
                   options_.replay_threads, counts);
}

void EmbeddingEngine::RunMaintenance(bool due) { maintainer_.RunMaintenance(due); }

Result<CollectionInfo> EmbeddingEngine::Snapshot(const std::string& name) {
  HT_ASSIGN_OR_RETURN(auto c, collections_.Require(name));
  HT_RETURN_IF_ERROR(maintainer_.Snapshot(*c));
  return c->Info();
}

Status EmbeddingEngine::SnapshotAll() { return maintainer_.SnapshotAll(); }

}  // namespace hartonomous::engine
