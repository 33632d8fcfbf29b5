#include "server/engine/admin/consistency_checker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "server/engine/vectors/embedding_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/collection_table.h"
#include "storage/tables/document_source_table.h"
#include "storage/tables/embedding_table.h"
#include "storage/tables/import_staging_table.h"
#include "storage/tables/inference_table.h"
#include "storage/tables/model_table.h"
#include "storage/tables/relation_table.h"
#include "storage/tables/tensor_atom_table.h"

namespace hartonomous::engine {
namespace {

using storage::AtomRecord;
using storage::AtomTable;
using storage::Direction;
using storage::Edge;

// The checks, in report order.
enum Check : size_t {
  kRefcounts,
  kHashIndex,
  kStateIndex,
  kRelations,
  kEmbeddings,
  kVectorIndex,
  kSpatialIndex,
  kTensorAtoms,
  kModelIndexes,
  kCheckCount
};
constexpr const char* kCheckNames[] = {"reference_counts", "hash_index",   "state_index",
                                       "relations",        "embeddings",   "vector_index",
                                       "spatial_index",    "tensor_atoms", "model_indexes"};
static_assert(sizeof(kCheckNames) / sizeof(kCheckNames[0]) == kCheckCount);

// One repair, rechecked inside the repair write.
struct Repair {
  enum class Kind { kReindexAtom, kDropHash, kDropState, kRestoreReverse, kDropReverse };
  Kind kind;
  Check check;
  uint64_t atom_id = 0;
  AtomTable::HashTable hash_table = AtomTable::HashTable::kPrefix;
  std::string hash_key;
  std::optional<uint64_t> count;
  Edge edge;
  size_t entry = SIZE_MAX;  // index of the reported mismatch, SIZE_MAX = not reported
};

Repair MakeRepair(Repair::Kind kind, Check check) {
  Repair repair;
  repair.kind = kind;
  repair.check = check;
  return repair;
}

std::string Str(uint64_t v) { return std::to_string(v); }

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// Everything one check run accumulates.
class Run {
 public:
  explicit Run(const ConsistencyOptions& options) : options_(options) {
    for (size_t i = 0; i < kCheckCount; ++i) {
      ConsistencyCheckCounts counts;
      counts.check = kCheckNames[i];
      report_.checks.push_back(std::move(counts));
    }
  }

  void Checked(Check check, uint64_t n = 1) { report_.checks[check].checked += n; }

  // Records a mismatch; returns its index in the report (SIZE_MAX: past the limit).
  size_t Mismatch(Check check, std::string kind, std::string table, std::vector<uint64_t> ids,
                  std::string expected, std::string found) {
    ++report_.checks[check].mismatches;
    ++report_.mismatch_count;
    if (report_.mismatches.size() >= options_.limit) return SIZE_MAX;
    report_.mismatches.push_back({kCheckNames[check], std::move(kind), std::move(table),
                                  std::move(ids), std::move(expected), std::move(found), false});
    return report_.mismatches.size() - 1;
  }

  void AddRepair(Repair repair, size_t entry) {
    if (!options_.repair || repairs_.size() >= options_.max_repairs) return;
    repair.entry = entry;
    repairs_.push_back(std::move(repair));
  }

  void Repaired(Check check, size_t entry) {
    ++report_.checks[check].repaired;
    ++report_.repaired_count;
    if (entry != SIZE_MAX) report_.mismatches[entry].repaired = true;
  }

  // An index mismatch of collection cid, repaired by reconciling it.
  size_t IndexMismatch(Check check, uint64_t cid, std::string kind, std::string name,
                       std::vector<uint64_t> ids, std::string expected, std::string found) {
    auto& counts = index_mismatches_[cid];
    ++(check == kVectorIndex ? counts.first : counts.second);
    return Mismatch(check, std::move(kind), std::move(name), std::move(ids), std::move(expected),
                    std::move(found));
  }
  // The collection was reconciled: its index mismatches are repaired.
  void RepairedIndexes(uint64_t cid) {
    const auto counts = index_mismatches_[cid];
    report_.checks[kVectorIndex].repaired += counts.first;
    report_.checks[kSpatialIndex].repaired += counts.second;
    report_.repaired_count += counts.first + counts.second;
    for (auto& m : report_.mismatches) {
      if ((m.check == kCheckNames[kVectorIndex] || m.check == kCheckNames[kSpatialIndex]) &&
          m.ids.size() == 2 && m.ids[0] == cid) {
        m.repaired = true;
      }
    }
  }

  std::vector<Repair>& repairs() { return repairs_; }
  ConsistencyReport& report() { return report_; }
  const ConsistencyOptions& options() const { return options_; }

 private:
  const ConsistencyOptions& options_;
  ConsistencyReport report_;
  std::vector<Repair> repairs_;
  // Collection -> its vector and spatial index mismatches.
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> index_mismatches_;
};

// The per-atom state a window keeps.
struct WindowAtom {
  uint64_t atom_id;
  int64_t reference_count;
  uint64_t listed_references;
  bool active;
};

// References counted for one atom of a window.
struct Tally {
  uint64_t holders = 0;  // every stored holder, list entries included
  uint64_t listed = 0;   // composite list entries
};

class Checker {
 public:
  Checker(storage::Txn& txn, const storage::Tables& tables, Run& run)
      : txn_(txn), tables_(tables), run_(run), atoms_(tables), relations_(tables) {}

  // Atoms window by window: the per-atom index checks, then the holder tally.
  Status CheckAtoms() {
    uint64_t after = 0;
    uint64_t lo = 0;  // windows cover [0, max] without gaps, so that every
                      // holder, of a missing atom too, is tallied once
    while (true) {
      std::vector<WindowAtom> window;
      HT_RETURN_IF_ERROR(
          atoms_.records().ScanAfter(txn_, after, [&](uint64_t id, AtomRecord&& atom) {
            status_ = CheckAtomIndexes(atom);
            if (!status_.ok()) return false;
            window.push_back(
                {id, atom.reference_count(), atom.listed_references(), atom.is_active()});
            return window.size() < run_.options().window_atoms;
          }));
      HT_RETURN_IF_ERROR(status_);
      const bool last = window.size() < run_.options().window_atoms;
      const uint64_t hi = last ? std::numeric_limits<uint64_t>::max() : window.back().atom_id;
      HT_RETURN_IF_ERROR(TallyWindow(window, lo, hi));
      ++run_.report().windows;
      if (last) break;
      lo = hi + 1;
      after = hi;
    }
    return Status::Ok();
  }

  // Hash and state index entries that name no atom of theirs.
  Status CheckIndexEntries() {
    HT_RETURN_IF_ERROR(atoms_.ForEachHashEntry(
        txn_, [&](AtomTable::HashTable table, std::string_view key, uint64_t id) -> Status {
          run_.Checked(kHashIndex);
          HT_ASSIGN_OR_RETURN(auto atom, atoms_.Get(txn_, id));
          if (atom && AtomTable::HashEntryMatches(table, key, *atom)) return Status::Ok();
          const char* name =
              table == AtomTable::HashTable::kPrefix ? "atom_hash" : "atom_hash_collisions";
          const size_t entry =
              run_.Mismatch(kHashIndex, "dangling_index_entry", name, {id},
                            "an atom " + Str(id) + " whose hash starts with " + Hex(key),
                            atom ? "atom " + Str(id) + " has hash " + Hex(atom->content_hash())
                                 : "no atom " + Str(id));
          Repair repair = MakeRepair(Repair::Kind::kDropHash, kHashIndex);
          repair.hash_table = table;
          repair.hash_key = std::string(key);
          run_.AddRepair(std::move(repair), entry);
          return Status::Ok();
        }));
    return atoms_.ForEachStateEntry(
        txn_, [&](std::optional<uint64_t> count, uint64_t id) -> Status {
          run_.Checked(kStateIndex);
          HT_ASSIGN_OR_RETURN(auto atom, atoms_.Get(txn_, id));
          if (atom && AtomTable::StateEntryMatches(count, *atom)) return Status::Ok();
          const size_t entry = run_.Mismatch(
              kStateIndex, "dangling_index_entry", count ? "atoms_by_refcount" : "atoms_inactive",
              {id},
              count ? "atom " + Str(id) + " active with " + Str(*count) + " references"
                    : "atom " + Str(id) + " inactive",
              atom ? Describe(*atom) : "no atom " + Str(id));
          Repair repair = MakeRepair(Repair::Kind::kDropState, kStateIndex);
          repair.count = count;
          repair.atom_id = id;
          run_.AddRepair(std::move(repair), entry);
          return Status::Ok();
        });
  }

  Status CheckRelations() {
    HT_RETURN_IF_ERROR(
        relations_.ForEachRow(txn_, Direction::kChildren, [&](const Edge& edge) -> Status {
          run_.Checked(kRelations);
          const std::vector<uint64_t> ids{edge.source, edge.target, edge.ordinal};
          for (const uint64_t end : {edge.source, edge.target}) {
            HT_ASSIGN_OR_RETURN(bool exists, atoms_.records().Contains(txn_, end));
            if (!exists) {
              run_.Mismatch(kRelations, "orphan_relation", "atom_relations", ids,
                            "atom " + Str(end) + " exists",
                            "'" + edge.type + "' edge " + Str(edge.source) + " -> " +
                                Str(edge.target) + " names missing atom " + Str(end));
            }
          }
          HT_ASSIGN_OR_RETURN(bool reverse,
                              relations_.HasCounterpart(txn_, Direction::kChildren, edge));
          if (!reverse) {
            const size_t entry =
                run_.Mismatch(kRelations, "missing_reverse_edge", "atom_relations_reverse", ids,
                              "the reverse row of '" + edge.type + "' edge " + Str(edge.source) +
                                  " -> " + Str(edge.target),
                              "none");
            Repair repair = MakeRepair(Repair::Kind::kRestoreReverse, kRelations);
            repair.edge = edge;
            run_.AddRepair(std::move(repair), entry);
          }
          return Status::Ok();
        }));
    return relations_.ForEachRow(txn_, Direction::kParents, [&](const Edge& edge) -> Status {
      run_.Checked(kRelations);
      HT_ASSIGN_OR_RETURN(bool forward, relations_.HasCounterpart(txn_, Direction::kParents, edge));
      if (forward) return Status::Ok();
      const size_t entry =
          run_.Mismatch(kRelations, "dangling_reverse_edge", "atom_relations_reverse",
                        {edge.source, edge.target, edge.ordinal},
                        "the forward row of '" + edge.type + "' edge " + Str(edge.source) + " -> " +
                            Str(edge.target),
                        "none");
      Repair repair = MakeRepair(Repair::Kind::kDropReverse, kRelations);
      repair.edge = edge;
      run_.AddRepair(std::move(repair), entry);
      return Status::Ok();
    });
  }

  // Rows against "embeddings_by_seq" and the in-memory indexes; indexes:
  // the captured ids (empty when there is no embedding engine).
  Status CheckEmbeddings(const std::vector<IndexContents>& indexes,
                         std::vector<uint64_t>* reconcile) {
    const storage::CollectionTable collections(tables_);
    const storage::EmbeddingTable rows(tables_);
    HT_ASSIGN_OR_RETURN(auto all, collections.All(txn_));
    std::map<uint64_t, const storage::CollectionRecord*> by_id;
    for (const auto& c : all) by_id[c.collection_id()] = &c;
    for (const auto& c : all) {
      const uint64_t cid = c.collection_id();
      std::vector<uint64_t> ids;  // the collection's embedding ids, ascending
      HT_RETURN_IF_ERROR(rows.Scan(txn_, cid, 0, [&](const storage::EmbeddingRef& ref) -> Status {
        run_.Checked(kEmbeddings);
        ids.push_back(ref.embedding_id());
        HT_ASSIGN_OR_RETURN(auto row,
                            rows.Find(txn_, ref.atom_id(), c.embedding_type(), c.model_id()));
        if (!row || row->embedding_id() != ref.embedding_id()) {
          run_.Mismatch(
              kEmbeddings, "dangling_index_entry", "embeddings_by_seq",
              {cid, ref.embedding_id(), ref.atom_id()},
              "atom " + Str(ref.atom_id()) + "'s row with embedding id " + Str(ref.embedding_id()),
              row ? "embedding id " + Str(row->embedding_id()) : "no row");
        }
        return Status::Ok();
      }));
      const IndexContents* held = nullptr;
      for (const auto& contents : indexes) {
        if (contents.collection_id == cid) held = &contents;
      }
      if (embeddings_present_ && held == nullptr) {
        run_.Mismatch(kVectorIndex, "vector_index_missing", c.name(), {cid}, "a live collection",
                      "none loaded");
        continue;
      }
      if (held == nullptr) continue;
      const bool vectors_off = CompareIds(kVectorIndex, c, ids, held->vectors);
      const bool points_off = CompareIds(kSpatialIndex, c, ids, held->points);
      if (vectors_off || points_off) reconcile->push_back(cid);
    }
    for (const auto& contents : indexes) {
      if (by_id.count(contents.collection_id) == 0) {
        run_.Mismatch(kVectorIndex, "dangling_vector_index", contents.name,
                      {contents.collection_id}, "a stored collection", "none");
      }
    }
    return rows.ForEachRow(txn_, [&](const storage::EmbeddingRecord& row) -> Status {
      run_.Checked(kEmbeddings);
      const std::vector<uint64_t> ids{row.collection_id(), row.embedding_id(), row.atom_id()};
      HT_ASSIGN_OR_RETURN(bool atom, atoms_.records().Contains(txn_, row.atom_id()));
      if (!atom) {
        run_.Mismatch(kEmbeddings, "orphan_embedding", "atom_embeddings", ids,
                      "atom " + Str(row.atom_id()) + " exists", "no atom");
      }
      if (by_id.count(row.collection_id()) == 0) {
        run_.Mismatch(kEmbeddings, "orphan_embedding", "atom_embeddings", ids,
                      "collection " + Str(row.collection_id()) + " exists", "no collection");
        return Status::Ok();
      }
      HT_ASSIGN_OR_RETURN(auto owner, rows.AtomOf(txn_, row.collection_id(), row.embedding_id()));
      if (!owner || *owner != row.atom_id()) {
        run_.Mismatch(kEmbeddings, "missing_index_entry", "embeddings_by_seq", ids,
                      "entry " + Str(row.collection_id()) + "/" + Str(row.embedding_id()) +
                          " naming atom " + Str(row.atom_id()),
                      owner ? "it names atom " + Str(*owner) : "none");
      }
      return Status::Ok();
    });
  }

  Status CheckTensorAtoms() {
    const storage::TensorAtomTable tensors(tables_);
    const storage::ModelTable models(tables_);
    Status failed;
    HT_RETURN_IF_ERROR(tensors.ScanAll(
        txn_, [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
          failed = CheckTensorRow(models, key, row);
          return failed.ok();
        }));
    HT_RETURN_IF_ERROR(failed);
    HT_RETURN_IF_ERROR(
        tensors.files().ScanAfter(txn_, 0, [&](uint64_t model_id, storage::ModelFileRecord&& f) {
          failed = CheckModelFile(models, model_id, f);
          return failed.ok();
        }));
    return failed;
  }

  // The model catalog's indexes: each model's name, type and architecture
  // entries and each layer's id entry; name entries naming no model.
  Status CheckModelIndexes() {
    const storage::ModelTable models(tables_);
    Status failed;
    HT_RETURN_IF_ERROR(
        models.records().ScanAfter(txn_, 0, [&](uint64_t id, storage::ModelRecord&& model) {
          failed = CheckModel(models, id, model);
          return failed.ok();
        }));
    HT_RETURN_IF_ERROR(failed);
    HT_RETURN_IF_ERROR(models.ScanModels(
        txn_, storage::ModelIndex::kName, "", "", [&](std::string_view, uint64_t id) {
          run_.Checked(kModelIndexes);
          auto exists = models.records().Contains(txn_, id);
          if (!exists.ok()) {
            failed = exists.status();
            return false;
          }
          if (!*exists) {
            run_.Mismatch(kModelIndexes, "dangling_index_entry", "model_names", {id},
                          "model " + Str(id) + " exists", "no model");
          }
          return true;
        }));
    return failed;
  }

  void set_embeddings_present(bool present) { embeddings_present_ = present; }

 private:
  static std::string Describe(const AtomRecord& atom) {
    return std::string(atom.is_active() ? "active" : "inactive") + " with " +
           std::to_string(atom.reference_count()) + " references";
  }

  // The hash and state index entries of one atom, and its count's state.
  Status CheckAtomIndexes(const AtomRecord& atom) {
    const uint64_t id = atom.atom_id();
    run_.Checked(kHashIndex);
    HT_ASSIGN_OR_RETURN(bool hashed, atoms_.HashIndexed(txn_, atom));
    if (!hashed) {
      const size_t entry = run_.Mismatch(kHashIndex, "missing_index_entry", "atom_hash", {id},
                                         "an entry for hash " + Hex(atom.content_hash()), "none");
      Repair repair = MakeRepair(Repair::Kind::kReindexAtom, kHashIndex);
      repair.atom_id = id;
      run_.AddRepair(std::move(repair), entry);
    }
    run_.Checked(kStateIndex);
    HT_ASSIGN_OR_RETURN(bool state, atoms_.StateIndexed(txn_, atom));
    if (!state) {
      const size_t entry =
          run_.Mismatch(kStateIndex, "missing_index_entry",
                        atom.is_active() ? "atoms_by_refcount" : "atoms_inactive", {id},
                        "an entry for atom " + Str(id) + " " + Describe(atom), "none");
      Repair repair = MakeRepair(Repair::Kind::kReindexAtom, kStateIndex);
      repair.atom_id = id;
      run_.AddRepair(std::move(repair), entry);
    }
    if (atom.is_active() != (atom.reference_count() > 0)) {
      run_.Mismatch(
          kRefcounts, "refcount_state_mismatch", "atoms", {id},
          atom.is_active() ? "reference_count >= 1 (active)" : "reference_count 0 (inactive)",
          Str(atom.reference_count()));
    }
    return Status::Ok();
  }

  // One pass over the holder tables for the atoms of [lo, hi].
  Status TallyWindow(const std::vector<WindowAtom>& window, uint64_t lo, uint64_t hi) {
    std::unordered_map<uint64_t, Tally> tally;
    tally.reserve(window.size());
    // Holders whose atom is missing: atom -> the holder table.
    std::map<std::pair<uint64_t, std::string>, uint64_t> orphans;
    auto hold = [&](uint64_t atom_id, const char* table, uint64_t holder, bool listed) {
      if (atom_id < lo || atom_id > hi) return;
      Tally& t = tally[atom_id];
      ++t.holders;
      if (listed) ++t.listed;
      held_by_[atom_id] = {table, holder};
    };
    held_by_.clear();
    // User 'contains' edges (reverse rows: by target).
    HT_RETURN_IF_ERROR(relations_.ForEachRow(txn_, Direction::kParents, [&](const Edge& e) {
      if (e.type == storage::kContains) hold(e.target, "atom_relations", e.source, false);
      return Status::Ok();
    }));
    // Composite child lists.
    HT_RETURN_IF_ERROR(atoms_.ForEachComposite(txn_, [&](uint64_t parent) -> Status {
      HT_ASSIGN_OR_RETURN(auto listing, atoms_.Children(txn_, parent));
      if (!listing) return Status::Ok();
      for (const auto& child : listing->children)
        hold(child.atom_id, "atom_children", parent, true);
      return Status::Ok();
    }));
    // Document sources.
    const storage::DocumentSourceTable sources(tables_);
    HT_RETURN_IF_ERROR(sources.ForEach(txn_, [&](const storage::DocumentSourceRecord& r) {
      hold(r.document_id(), "document_sources", 0, false);
      return Status::Ok();
    }));
    // Imported models: tensor chunks, file pieces, staged imports.
    const storage::TensorAtomTable tensors(tables_);
    HT_RETURN_IF_ERROR(tensors.ScanAll(
        txn_, [&](const storage::TensorChunkKey& key, storage::TensorAtomRecord&& row) {
          hold(row.atom_id(), "tensor_atoms", key.model_id, false);
          return true;
        }));
    HT_RETURN_IF_ERROR(
        tensors.files().ScanAfter(txn_, 0, [&](uint64_t model_id, storage::ModelFileRecord&& f) {
          for (const auto& piece : f.pieces()) {
            if (piece.kind() != 3) hold(piece.atom_id(), "model_files", model_id, false);
          }
          return true;
        }));
    const storage::ImportStagingTable staging(tables_);
    HT_RETURN_IF_ERROR(staging.ForEachImport(txn_, [&](uint64_t import_id) {
      return staging.Scan(txn_, import_id,
                          [&](uint32_t, storage::ImportStagingRecord&& r) -> Status {
                            for (uint64_t id : r.atom_ids())
                              hold(id, "model_import_staging", import_id, false);
                            return Status::Ok();
                          });
    }));
    // Inference logs: input and output texts.
    // (Rows a prune has hidden may have given their references up already.)
    HT_ASSIGN_OR_RETURN(const storage::InferenceTable inferences,
                        storage::InferenceTable::Open(txn_, tables_));
    HT_RETURN_IF_ERROR(inferences.ForEachRow(txn_, [&](storage::InferenceRecord&& r) {
      const uint64_t id = r.inference_id();
      if (r.input_atom_id() != 0) hold(r.input_atom_id(), "inference_requests", id, false);
      if (r.output_atom_id() != 0) hold(r.output_atom_id(), "inference_requests", id, false);
      return true;
    }));

    for (const WindowAtom& atom : window) {
      run_.Checked(kRefcounts);
      auto it = tally.find(atom.atom_id);
      const Tally t = it == tally.end() ? Tally{} : it->second;
      if (it != tally.end()) tally.erase(it);
      const uint64_t stored =
          atom.active ? static_cast<uint64_t>(std::max<int64_t>(0, atom.reference_count)) : 0;
      if (stored < t.holders) {
        run_.Mismatch(kRefcounts, "refcount_mismatch", "atoms", {atom.atom_id},
                      "at least " + Str(t.holders) + " (references its holders take)",
                      Str(static_cast<uint64_t>(std::max<int64_t>(0, atom.reference_count))) +
                          (atom.active ? "" : " (inactive)"));
      }
      if (atom.listed_references != t.listed) {
        run_.Mismatch(kRefcounts, "listed_references_mismatch", "atoms", {atom.atom_id},
                      Str(t.listed) + " (child-list entries naming it)",
                      Str(atom.listed_references));
      }
    }
    // What is left names atoms that do not exist. User edges are reported by
    // the relations check, tensor rows by the tensor check.
    for (const auto& [atom_id, t] : tally) {
      const auto& [table, holder] = held_by_[atom_id];
      if (std::string_view(table) == "atom_relations" ||
          std::string_view(table) == "tensor_atoms") {
        continue;
      }
      run_.Mismatch(kRefcounts, "orphan_holder", table, {atom_id, holder},
                    "atom " + Str(atom_id) + " exists",
                    Str(t.holders) + " holder(s) name a missing atom");
    }
    return Status::Ok();
  }

  // Compares a collection's row ids with an index's; true when they differ.
  bool CompareIds(Check check, const storage::CollectionRecord& c,
                  const std::vector<uint64_t>& rows, const std::vector<uint64_t>& held) {
    const bool vector = check == kVectorIndex;
    const uint64_t cid = c.collection_id();
    bool off = false;
    size_t i = 0, j = 0;
    while (i < rows.size() || j < held.size()) {
      run_.Checked(check);
      if (j == held.size() || (i < rows.size() && rows[i] < held[j])) {
        run_.IndexMismatch(check, cid, vector ? "vector_index_missing" : "spatial_index_missing",
                           c.name(), {cid, rows[i]}, "embedding " + Str(rows[i]) + " indexed",
                           "absent");
        ++i;
        off = true;
      } else if (i == rows.size() || held[j] < rows[i]) {
        run_.IndexMismatch(check, cid, vector ? "vector_index_dangling" : "spatial_index_dangling",
                           c.name(), {cid, held[j]}, "no embedding " + Str(held[j]),
                           "indexed without a row");
        ++j;
        off = true;
      } else {
        ++i;
        ++j;
      }
    }
    return off;
  }

  Status CheckTensorRow(const storage::ModelTable& models, const storage::TensorChunkKey& key,
                        const storage::TensorAtomRecord& row) {
    run_.Checked(kTensorAtoms);
    const std::vector<uint64_t> ids{key.model_id, key.layer_idx, key.chunk_index, row.atom_id()};
    HT_ASSIGN_OR_RETURN(bool atom, atoms_.records().Contains(txn_, row.atom_id()));
    if (!atom) {
      run_.Mismatch(kTensorAtoms, "orphan_tensor_atom", "tensor_atoms", ids,
                    "atom " + Str(row.atom_id()) + " exists", "no atom");
    }
    HT_ASSIGN_OR_RETURN(auto model, models.Find(txn_, key.model_id));
    if (!model) {
      run_.Mismatch(kTensorAtoms, "orphan_tensor_atom", "tensor_atoms", ids,
                    "model " + Str(key.model_id) + " exists", "no model");
      return Status::Ok();
    }
    if (row.layer_id() == 0) return Status::Ok();  // the layer was deleted
    HT_ASSIGN_OR_RETURN(auto layer, models.FindLayer(txn_, key.model_id, key.layer_idx));
    if (!layer || layer->layer_id() != row.layer_id()) {
      run_.Mismatch(kTensorAtoms, "orphan_tensor_atom", "tensor_atoms", ids,
                    "layer " + Str(row.layer_id()) + " at index " + Str(key.layer_idx),
                    layer ? "layer " + Str(layer->layer_id()) : "no layer");
    }
    return Status::Ok();
  }

  Status CheckModel(const storage::ModelTable& models, uint64_t id,
                    const storage::ModelRecord& model) {
    run_.Checked(kModelIndexes);
    HT_ASSIGN_OR_RETURN(auto named, models.FindId(txn_, model.model_name()));
    if (!named || *named != id) {
      run_.Mismatch(kModelIndexes, "missing_index_entry", "model_names", {id},
                    "'" + model.model_name() + "' -> model " + Str(id),
                    named ? "model " + Str(*named) : "none");
    }
    const std::pair<storage::ModelIndex, const std::string*> values[] = {
        {storage::ModelIndex::kType, &model.model_type()},
        {storage::ModelIndex::kArchitecture, &model.architecture()}};
    for (const auto& [index, value] : values) {
      if (value->empty()) continue;
      bool found = false;
      HT_RETURN_IF_ERROR(
          models.ScanModels(txn_, index, *value, "", [&](std::string_view, uint64_t other) {
            found = other == id;
            return !found;
          }));
      if (!found) {
        run_.Mismatch(
            kModelIndexes, "missing_index_entry",
            index == storage::ModelIndex::kType ? "models_by_type" : "models_by_architecture", {id},
            "'" + *value + "' -> model " + Str(id), "none");
      }
    }
    Status failed;
    HT_RETURN_IF_ERROR(models.ScanLayers(txn_, id, 0, [&](storage::ModelLayerRecord&& layer) {
      run_.Checked(kModelIndexes);
      auto by_id = models.FindLayerById(txn_, layer.layer_id());
      if (by_id.ok() && by_id->has_value() && (*by_id)->model_id() == id &&
          (*by_id)->layer_idx() == layer.layer_idx()) {
        return true;
      }
      if (!by_id.ok() && by_id.status().code() != Status::Code::kDataLoss) {
        failed = by_id.status();
        return false;
      }
      run_.Mismatch(
          kModelIndexes, "missing_index_entry", "model_layer_ids",
          {id, layer.layer_idx(), layer.layer_id()},
          "layer id " + Str(layer.layer_id()) + " -> model " + Str(id) + " index " +
              Str(layer.layer_idx()),
          by_id.ok() ? (by_id->has_value() ? "another layer" : "none") : by_id.status().message());
      return true;
    }));
    return failed;
  }

  Status CheckModelFile(const storage::ModelTable& models, uint64_t model_id,
                        const storage::ModelFileRecord& file) {
    run_.Checked(kTensorAtoms);
    HT_ASSIGN_OR_RETURN(auto model, models.Find(txn_, model_id));
    if (!model) {
      run_.Mismatch(kTensorAtoms, "orphan_model_file", "model_files", {model_id},
                    "model " + Str(model_id) + " exists", "no model");
      return Status::Ok();
    }
    for (const auto& piece : file.pieces()) {
      if (piece.kind() == 3) {
        HT_ASSIGN_OR_RETURN(auto layer, models.FindLayer(txn_, model_id, piece.layer_idx()));
        if (!layer) {
          run_.Mismatch(kTensorAtoms, "orphan_model_file", "model_files",
                        {model_id, piece.layer_idx()},
                        "layer index " + Str(piece.layer_idx()) + " exists", "no layer");
        }
        continue;
      }
      HT_ASSIGN_OR_RETURN(bool atom, atoms_.records().Contains(txn_, piece.atom_id()));
      if (!atom) {
        run_.Mismatch(kTensorAtoms, "orphan_model_file", "model_files", {model_id, piece.atom_id()},
                      "atom " + Str(piece.atom_id()) + " exists", "no atom");
      }
    }
    return Status::Ok();
  }

  storage::Txn& txn_;
  const storage::Tables& tables_;
  Run& run_;
  AtomTable atoms_;
  storage::RelationTable relations_;
  Status status_;  // the first error of a per-atom check inside a scan
  bool embeddings_present_ = false;
  // Within a window: the last holder seen per atom, to name orphans.
  std::unordered_map<uint64_t, std::pair<const char*, uint64_t>> held_by_;
};

// Runs one repair inside the repair write; true when the entry is now right.
Result<bool> ApplyRepair(storage::WriteTxn& txn, AtomTable& atoms,
                         storage::RelationTable& relations, const Repair& r) {
  switch (r.kind) {
    case Repair::Kind::kReindexAtom: {
      HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, r.atom_id));
      if (!atom) return false;
      HT_RETURN_IF_ERROR(atoms.Reindex(txn, *atom).status());
      if (r.check == kHashIndex) return atoms.HashIndexed(txn, *atom);
      return atoms.StateIndexed(txn, *atom);
    }
    case Repair::Kind::kDropHash:
      return atoms.DropDanglingHashEntry(txn, r.hash_table, r.hash_key);
    case Repair::Kind::kDropState:
      return atoms.DropDanglingStateEntry(txn, r.count, r.atom_id);
    case Repair::Kind::kRestoreReverse:
      return relations.RestoreReverse(txn, r.edge);
    case Repair::Kind::kDropReverse:
      return relations.DropDanglingReverse(txn, r.edge);
  }
  return false;
}

}  // namespace

Result<ConsistencyReport> ConsistencyChecker::CheckConsistency(const ConsistencyOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  Run run(options);
  std::unique_ptr<storage::ReadTxn> txn;
  std::vector<IndexContents> indexes;
  // The snapshot: no write group is open, and every committed group's
  // index changes have been applied.
  HT_RETURN_IF_ERROR(writer_.RunExclusive([&]() -> Status {
    txn = std::make_unique<storage::ReadTxn>(env_);
    HT_RETURN_IF_ERROR(txn->status());
    if (embeddings_ != nullptr) indexes = embeddings_->CaptureIndexContents();
    return Status::Ok();
  }));
  std::vector<uint64_t> reconcile;  // collections whose indexes differ
  {
    Checker checker(*txn, tables_, run);
    checker.set_embeddings_present(embeddings_ != nullptr);
    HT_RETURN_IF_ERROR(checker.CheckAtoms());
    HT_RETURN_IF_ERROR(checker.CheckIndexEntries());
    HT_RETURN_IF_ERROR(checker.CheckRelations());
    HT_RETURN_IF_ERROR(checker.CheckEmbeddings(indexes, &reconcile));
    indexes.clear();
    HT_RETURN_IF_ERROR(checker.CheckTensorAtoms());
    HT_RETURN_IF_ERROR(checker.CheckModelIndexes());
  }
  txn.reset();

  if (options.repair) {
    std::vector<Repair>& repairs = run.repairs();
    if (!repairs.empty()) {
      std::vector<bool> done;
      HT_RETURN_IF_ERROR(writer_.Write([&](storage::WriteTxn& wtxn) -> Status {
        done.assign(repairs.size(), false);
        AtomTable atoms(tables_);
        storage::RelationTable relations(tables_);
        for (size_t i = 0; i < repairs.size(); ++i) {
          HT_ASSIGN_OR_RETURN(bool ok, ApplyRepair(wtxn, atoms, relations, repairs[i]));
          done[i] = ok;
        }
        return atoms.FlushCounters(wtxn);
      }));
      for (size_t i = 0; i < repairs.size(); ++i) {
        if (done[i]) run.Repaired(repairs[i].check, repairs[i].entry);
      }
    }
    for (uint64_t cid : reconcile) {
      ReconcileCounts counts;
      Status reconciled =
          writer_.RunExclusive([&]() { return embeddings_->ReconcileCollection(cid, &counts); });
      if (!reconciled.ok()) {
        spdlog::warn("consistency repair: collection {}: {}", cid, reconciled.ToString());
        continue;
      }
      // Every vector and spatial mismatch of the collection is repaired,
      // reported or not.
      run.RepairedIndexes(cid);
    }
  }
  ConsistencyReport report = std::move(run.report());
  report.duration_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - started)
                                                 .count());
  return report;
}

}  // namespace hartonomous::engine
