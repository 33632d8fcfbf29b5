#include "server/engine/vectors/embedding_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/mutex.h"
#include "server/engine/common/await_result.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {

using storage::CollectionRecord;
using storage::EmbeddingRecord;
using storage::EmbeddingTable;

EmbeddingWriter::EmbeddingWriter(const storage::Tables& tables, storage::WriteBatcher& writer,
                                 CollectionRegistry& collections, IndexMaintainer& maintainer)
    : tables_(tables), writer_(writer), collections_(collections), maintainer_(maintainer) {}

Result<EmbeddingWriter::Written> EmbeddingWriter::WriteRow(storage::WriteTxn& txn,
                                                           storage::Sequence& ids,
                                                           const CollectionRecord& collection,
                                                           const std::string& field,
                                                           const EmbeddingInput& input, int64_t now,
                                                           std::vector<Change>* changes) {
  if (input.vector.size() != collection.dimension()) {
    return Status::InvalidArgument(field + ".vector: " + std::to_string(input.vector.size()) +
                                   " components but collection '" + collection.name() +
                                   "' has dimension " + std::to_string(collection.dimension()));
  }
  HT_ASSIGN_OR_RETURN(bool atom_exists,
                      storage::AtomTable(tables_).records().Contains(txn, input.atom_id));
  if (!atom_exists) {
    return Status::NotFound(field + ".atom_id: atom " + std::to_string(input.atom_id) +
                            " does not exist");
  }
  HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
  EmbeddingRecord row;
  row.set_embedding_id(id);
  row.set_atom_id(input.atom_id);
  row.set_model_id(collection.model_id());
  row.set_embedding_type(collection.embedding_type());
  row.set_dimension(collection.dimension());
  EmbeddingTable::SetVector(&row, input.vector);
  row.set_metadata(input.metadata);
  row.set_created_at_us(now);
  row.set_uses_max_dimension_padding(input.uses_max_dimension_padding);
  row.set_collection_id(collection.collection_id());
  HT_ASSIGN_OR_RETURN(std::optional<EmbeddingRecord> replaced,
                      EmbeddingTable(tables_).Put(txn, row));
  if (replaced) changes->push_back(Change{false, replaced->embedding_id(), {}});
  changes->push_back(Change{true, id, input.vector});
  return Written{id, replaced.has_value()};
}

Result<AddSummary> EmbeddingWriter::Add(const std::string& name,
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
  uint64_t collection_id = 0;
  std::shared_ptr<std::atomic<uint64_t>> ticket;  // of the attempt that committed
  Status written = writer_.Write(
      [&](storage::WriteTxn& txn) -> Status {
        summary = AddSummary{};
        HT_ASSIGN_OR_RETURN(std::optional<CollectionRecord> coll,
                            collections_.FindStored(txn, name));
        if (coll) {
          if (create) HT_RETURN_IF_ERROR(CheckCompatible(*coll, spec, type_given));
        } else {
          Status ok = collections_.CheckSpec(spec);
          if (!ok.ok()) return Status::InvalidArgument("create." + ok.message());
          HT_ASSIGN_OR_RETURN(coll, collections_.Insert(txn, name, spec));
          summary.collection_created = true;
        }
        storage::Sequence ids = EmbeddingTable(tables_).Ids(txn);
        std::vector<Change> changes;
        for (size_t i = 0; i < inputs.size(); ++i) {
          const std::string field = "embeddings[" + std::to_string(i) + "]";
          HT_ASSIGN_OR_RETURN(Written written,
                              WriteRow(txn, ids, *coll, field, inputs[i], now, &changes));
          if (written.replaced) ++summary.replaced;
          summary.embedding_ids.push_back(written.embedding_id);
        }
        HT_RETURN_IF_ERROR(ids.Flush());
        collection_id = coll->collection_id();
        ticket = ApplyOnCommit(txn, collection_id, std::move(changes), /*apply_now=*/false);
        return Status::Ok();
      },
      bytes, inputs.size());
  // Committed (the hook gave a ticket): searchable before the answer.
  if (ticket && ticket->load() != 0) ApplyThrough(collection_id, ticket->load());
  HT_RETURN_IF_ERROR(written);
  return summary;
}

Status EmbeddingWriter::PutInTxn(storage::WriteTxn& txn, const std::string& field,
                                 const std::string& collection, const EmbeddingInput& input) {
  HT_ASSIGN_OR_RETURN(std::optional<CollectionRecord> coll,
                      collections_.FindStored(txn, collection));
  if (!coll) {
    return Status::NotFound(field + ".collection: no collection named '" + collection + "'");
  }
  storage::Sequence ids = EmbeddingTable(tables_).Ids(txn);
  std::vector<Change> changes;
  HT_RETURN_IF_ERROR(WriteRow(txn, ids, *coll, field, input, NowMicros(), &changes).status());
  HT_RETURN_IF_ERROR(ids.Flush());
  ApplyOnCommit(txn, coll->collection_id(), std::move(changes));
  return Status::Ok();
}

Status EmbeddingWriter::Delete(const std::string& collection, uint64_t atom_id) {
  return AwaitStatus(
      [&](std::function<void(Status)> done) { DeleteAsync(collection, atom_id, std::move(done)); });
}

void EmbeddingWriter::DeleteAsync(std::string collection, uint64_t atom_id,
                                  std::function<void(Status)> done) {
  writer_.WriteAsync(
      [this, collection = std::move(collection), atom_id](storage::WriteTxn& txn) -> Status {
        HT_ASSIGN_OR_RETURN(CollectionRecord coll, collections_.RequireStored(txn, collection));
        const EmbeddingTable rows(tables_);
        HT_ASSIGN_OR_RETURN(std::optional<EmbeddingRecord> row,
                            rows.Find(txn, atom_id, coll.embedding_type(), coll.model_id()));
        if (!row) {
          return Status::NotFound("atom_id: atom " + std::to_string(atom_id) +
                                  " has no embedding in collection '" + collection + "'");
        }
        HT_RETURN_IF_ERROR(rows.Remove(txn, *row).status());
        ApplyOnCommit(txn, coll.collection_id(), {Change{false, row->embedding_id(), {}}});
        return Status::Ok();
      },
      std::move(done));
}

Result<uint64_t> EmbeddingWriter::RemoveAtom(storage::WriteTxn& txn, uint64_t atom_id) {
  HT_ASSIGN_OR_RETURN(std::vector<EmbeddingRecord> rows,
                      EmbeddingTable(tables_).RemoveAtom(txn, atom_id));
  std::map<uint64_t, std::vector<Change>> by_collection;
  for (const auto& row : rows) {
    by_collection[row.collection_id()].push_back(Change{false, row.embedding_id(), {}});
  }
  for (auto& [cid, changes] : by_collection) ApplyOnCommit(txn, cid, std::move(changes));
  return static_cast<uint64_t>(rows.size());
}

std::shared_ptr<std::atomic<uint64_t>> EmbeddingWriter::ApplyOnCommit(storage::WriteTxn& txn,
                                                                      uint64_t collection_id,
                                                                      std::vector<Change> changes,
                                                                      bool apply_now) {
  auto set = std::make_shared<const std::vector<Change>>(std::move(changes));
  auto ticket = std::make_shared<std::atomic<uint64_t>>(0);
  txn.OnCommit([this, collection_id, set, ticket, apply_now] {
    uint64_t mine = 0;
    {
      MutexLock lock(&queue_mu_);
      Queue& queue = queues_[collection_id];
      mine = queue.next_ticket++;
      queue.sets.emplace_back(mine, set);
    }
    ticket->store(mine);
    if (apply_now) ApplyThrough(collection_id, mine);
  });
  return ticket;
}

void EmbeddingWriter::ApplyThrough(uint64_t collection_id, uint64_t ticket) {
  auto c = collections_.FindById(collection_id);
  if (!c) {  // deleted: its changes have nowhere to go
    MutexLock lock(&queue_mu_);
    queues_.erase(collection_id);
    return;
  }
  // Sets leave the queue only under apply_mu and are applied before it is
  // released: a ticket no longer queued has been applied.
  MutexLock apply(&c->apply_mu);
  for (;;) {
    ChangeSet set;
    {
      MutexLock lock(&queue_mu_);
      auto it = queues_.find(collection_id);
      if (it == queues_.end() || it->second.sets.empty() ||
          it->second.sets.front().first > ticket) {
        return;
      }
      set = std::move(it->second.sets.front().second);
      it->second.sets.pop_front();
    }
    Apply(*c, *set);
  }
}

void EmbeddingWriter::Apply(Collection& c, const std::vector<Change>& changes) {
  auto index = c.CurrentIndex();
  auto space = c.CurrentSpace();
  const size_t dim = c.record.dimension();
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  // Runs of adds go into the index as one parallel batch (AddBatch); the
  // changes still take effect in commit order, and all of them before the
  // write is acknowledged.
  std::vector<uint64_t> labels;
  std::vector<float> vectors;
  // Batches of at most kBatch: AddBatch holds off exact scans (not ANN
  // searches) while it links a batch in.
  constexpr size_t kBatch = 256;
  auto flush = [&] {
    if (labels.empty()) return;
    Status s = index->AddBatch(labels, vectors.data(), threads);
    if (s.code() == Status::Code::kAlreadyExists) {
      // A label already indexed (replayed meanwhile): add the others one by one.
      for (size_t i = 0; i < labels.size(); ++i) {
        s = index->Add(labels[i], &vectors[i * dim]);
        if (!s.ok() && s.code() != Status::Code::kAlreadyExists) break;
        s = Status::Ok();
      }
    }
    if (!s.ok()) {
      spdlog::error("collection '{}': index add of {} embeddings failed: {}", c.record.name(),
                    labels.size(), s.ToString());
    }
    labels.clear();
    vectors.clear();
  };
  for (const auto& change : changes) {
    if (change.add) {
      if (change.vector.size() == dim) {
        labels.push_back(change.label);
        vectors.insert(vectors.end(), change.vector.begin(), change.vector.end());
        if (labels.size() == kBatch) flush();
      } else {
        spdlog::error("collection '{}': embedding {} has {} components, not {}", c.record.name(),
                      change.label, change.vector.size(), dim);
      }
      Status s = space->Upsert(change.label, change.vector.data());
      if (!s.ok()) {
        spdlog::error("collection '{}': projecting embedding {} failed: {}", c.record.name(),
                      change.label, s.ToString());
      }
      c.applied_seq = std::max(c.applied_seq, change.label);
    } else {
      // Labels are never reused, so a delete commutes with the batched adds
      // unless it removes one of them (an input replaced within the batch).
      if (std::find(labels.begin(), labels.end(), change.label) != labels.end()) flush();
      space->Remove(change.label);
      Status s = index->Remove(change.label);
      if (!s.ok() && s.code() != Status::Code::kNotFound) {
        spdlog::error("collection '{}': index delete of embedding {} failed: {}", c.record.name(),
                      change.label, s.ToString());
      }
    }
  }
  flush();
  const uint64_t changed = c.changes += changes.size();
  maintainer_.NoteApplied(c, changed);
}

}  // namespace hartonomous::engine
