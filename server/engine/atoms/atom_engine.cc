#include "server/engine/atoms/atom_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>

#include "base/clock.h"
#include "server/engine/common/await_result.h"
#include "server/engine/common/id_page.h"
#include "storage/sequence.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::engine {

using storage::AtomRecord;
using storage::AtomTable;

namespace {

std::string HashBytes(const Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Status NoSuchAtom(uint64_t atom_id) {
  return Status::NotFound("atom_id: atom " + std::to_string(atom_id) + " does not exist");
}

}  // namespace

AtomEngine::AtomEngine(storage::Env& env, const storage::Tables& tables,
                       storage::WriteBatcher& writer, std::string page_token_key)
    : env_(env), tables_(tables), writer_(writer), tokens_(std::move(page_token_key)) {}

Result<IngestSummary> AtomEngine::Ingest(std::vector<AtomInput> inputs) {
  return AwaitResult<IngestSummary>(
      [&](IngestDone done) { IngestAsync(std::move(inputs), std::move(done)); });
}

// What an ingest keeps from its preparation to its completion.
struct AtomEngine::IngestState {
  std::vector<AtomInput> inputs;
  std::vector<Sha256Digest> hashes;
  std::vector<std::optional<storage::EncodedPayload>> encoded;
  std::vector<std::optional<DedupPlan>> plans;
  int64_t now = 0;
};

void AtomEngine::IngestAsync(std::vector<AtomInput> inputs, IngestDone done) {
  auto state = std::make_shared<IngestState>();
  state->inputs = std::move(inputs);
  auto bytes = Prepare(*state);
  if (!bytes.ok()) {
    done(bytes.status());
    return;
  }
  WriteThen<IngestSummary>(
      writer_,
      [this, state](storage::WriteTxn& txn, IngestSummary& summary) {
        return WriteIngest(txn, *state, summary);
      },
      std::move(done), *bytes + state->inputs.size() * 256, state->inputs.size());
}

Result<size_t> AtomEngine::Prepare(IngestState& state) {
  const std::vector<AtomInput>& inputs = state.inputs;
  // Hashing and payload compression happen here, on the caller's thread, so
  // that many RPC threads do them in parallel and the writer thread only
  // does table work. Only content that is not stored yet is compressed: a
  // read transaction looks the hashes up first (content stored meanwhile is
  // simply not inserted; content that vanished meanwhile is compressed by
  // the writer).
  std::vector<Sha256Digest>& hashes = state.hashes;
  hashes.reserve(inputs.size());
  size_t bytes = 0;
  for (const auto& in : inputs) {
    hashes.push_back(Sha256(in.content));
    bytes += in.content.size();
  }
  std::vector<std::optional<storage::EncodedPayload>>& encoded = state.encoded;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    std::vector<const Sha256Digest*> keys;
    std::vector<std::string_view> contents;
    for (size_t i = 0; i < inputs.size(); ++i) {
      keys.push_back(&hashes[i]);
      contents.push_back(inputs[i].content);
    }
    // The new contents are packed into shared payload blocks, each
    // compressed once.
    HT_ASSIGN_OR_RETURN(encoded, AtomTable(tables_).PackUnstored(txn, keys, contents));
  }
  // Policies and embeddings are checked, and candidates searched, before the
  // write (read-only, also on the caller's thread).
  std::vector<std::optional<DedupPlan>>& plans = state.plans;
  plans.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const AtomInput& in = inputs[i];
    if (in.policy.empty() && !in.embedding) continue;
    if (matcher_ == nullptr) {
      return Status::FailedPrecondition(
          (in.field.empty() ? "" : in.field + ".") + (in.policy.empty() ? "embedding" : "policy") +
          ": this server does not apply deduplication policies or store embeddings");
    }
    const EmbeddingAttachment* embedding = in.embedding ? &*in.embedding : nullptr;
    if (in.policy.empty()) {
      HT_RETURN_IF_ERROR(matcher_->CheckEmbedding(in.field, *embedding));
      continue;
    }
    HT_ASSIGN_OR_RETURN(plans[i], matcher_->Plan(in.field, in.policy, embedding));
  }
  state.now = NowMicros();
  return bytes;
}

Status AtomEngine::WriteIngest(storage::WriteTxn& txn, const IngestState& state,
                               IngestSummary& summary) {
  const std::vector<AtomInput>& inputs = state.inputs;
  const std::vector<Sha256Digest>& hashes = state.hashes;
  const std::vector<std::optional<storage::EncodedPayload>>& encoded = state.encoded;
  const std::vector<std::optional<DedupPlan>>& plans = state.plans;
  const int64_t now = state.now;
  summary = IngestSummary{};
  summary.atoms.reserve(inputs.size());
  AtomTable atoms(tables_);
  storage::Sequence ids(txn, tables_.sequences, "atom_id");
  // One more reference on an existing atom: active again, counted up.
  auto add_reference = [&](uint64_t atom_id, const DedupDecision* absorbed,
                           const Sha256Digest& dropped, IngestedAtom* out) -> Status {
    HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, atom_id));
    if (!before)
      return Status::DataLoss("atom_hash points at missing atom " + std::to_string(atom_id));
    AtomRecord after = *before;
    after.set_reference_count(after.is_active() ? after.reference_count() + 1 : 1);
    after.set_is_active(true);
    after.set_updated_at_us(now);
    if (absorbed != nullptr) {
      after.set_metadata(DedupMatcher::AuditMatched(before->metadata(), *absorbed, dropped, now));
    }
    HT_RETURN_IF_ERROR(atoms.Update(txn, *before, after));
    out->atom_id = after.atom_id();
    std::copy_n(after.content_hash().begin(),
                std::min(after.content_hash().size(), out->content_hash.size()),
                out->content_hash.begin());
    out->reference_count = after.reference_count();
    ++summary.atoms_reused;
    return Status::Ok();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const AtomInput& in = inputs[i];
    const std::optional<DedupPlan>& plan = plans[i];
    summary.bytes_received += in.content.size();
    HT_ASSIGN_OR_RETURN(auto existing_id, atoms.FindByHash(txn, hashes[i]));
    IngestedAtom out;
    out.content_hash = hashes[i];
    if (plan) {
      out.dedup.policy = plan->policy.policy_name();
      out.dedup.semantic_nearest = plan->semantic_nearest;
      out.dedup.spatial_nearest = plan->spatial_nearest;
    }
    if (!existing_id && plan) {
      HT_ASSIGN_OR_RETURN(out.dedup, matcher_->Decide(txn, *plan));
    }
    if (existing_id) {
      out.dedup.rule = DedupRule::kHash;
      out.dedup.matched_atom_id = *existing_id;
      HT_RETURN_IF_ERROR(add_reference(*existing_id, nullptr, hashes[i], &out));
    } else if (out.dedup.matched_atom_id != 0) {
      HT_RETURN_IF_ERROR(add_reference(out.dedup.matched_atom_id, &out.dedup, hashes[i], &out));
    } else {
      HT_ASSIGN_OR_RETURN(uint64_t id, ids.Next());
      AtomRecord rec;
      rec.set_atom_id(id);
      rec.set_content_hash(HashBytes(hashes[i]));
      rec.set_modality(in.modality);
      rec.set_subtype(in.subtype);
      rec.set_source_uri(in.source_uri);
      rec.set_source_type(in.source_type);
      rec.set_canonical_text(in.canonical_text);
      rec.set_payload_locator(in.payload_locator);
      rec.set_metadata(plan ? DedupMatcher::AuditNew(in.metadata, out.dedup) : in.metadata);
      if (in.spatial_key) {
        rec.set_has_spatial_key(true);
        rec.set_spatial_x(in.spatial_key->x);
        rec.set_spatial_y(in.spatial_key->y);
        rec.set_spatial_z(in.spatial_key->z);
      }
      HT_RETURN_IF_ERROR(
          atoms.InsertNew(txn, &rec, in.content, now, encoded[i] ? &*encoded[i] : nullptr));
      if (in.embedding) {
        HT_RETURN_IF_ERROR(matcher_->StoreEmbedding(txn, in.field, id, *in.embedding));
      }
      out.atom_id = id;
      out.reference_count = 1;
      out.created = true;
      ++summary.atoms_created;
      summary.bytes_stored += in.content.size();
    }
    summary.atoms.push_back(std::move(out));
  }
  HT_RETURN_IF_ERROR(ids.Flush());
  return atoms.FlushCounters(txn);
}

size_t AtomEngine::ResponseBytes(const AtomRecord& record, bool include_content) {
  // The API Atom spells the hash in hex (32 bytes more) and the times as
  // Timestamp messages; 64 bytes cover those differences.
  return record.ByteSizeLong() + 64 + AtomTable::UnstoredCanonicalTextBytes(record) +
         (include_content ? static_cast<size_t>(record.content_size()) + 8 : 0);
}

Result<AtomView> AtomEngine::View(storage::ReadTxn& txn, uint64_t atom_id, bool include_content,
                                  ResponseBudget* budget) {
  AtomTable atoms(tables_);
  HT_ASSIGN_OR_RETURN(auto record, atoms.Get(txn, atom_id));
  if (!record) return NoSuchAtom(atom_id);
  if (budget != nullptr) {
    HT_RETURN_IF_ERROR(budget->ChargeItem(ResponseBytes(*record, include_content),
                                          "atom " + std::to_string(atom_id) + " alone is larger"));
  }
  AtomView view{std::move(*record), std::nullopt};
  if (include_content) {
    view.content.emplace();
    HT_RETURN_IF_ERROR(atoms.ReadContent(txn, view.record, &*view.content));
  }
  HT_RETURN_IF_ERROR(
      atoms.ResolveCanonicalText(txn, &view.record, view.content ? &*view.content : nullptr));
  return view;
}

Result<AtomView> AtomEngine::Get(uint64_t atom_id, bool include_content, ResponseBudget* budget) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  return View(txn, atom_id, include_content, budget);
}

Result<AtomView> AtomEngine::GetByHash(const Sha256Digest& hash, bool include_content,
                                       ResponseBudget* budget) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(auto atom_id, AtomTable(tables_).FindByHash(txn, hash));
  if (!atom_id) {
    return Status::NotFound("content_hash: no atom has content hash " + ToHex(hash));
  }
  return View(txn, *atom_id, include_content, budget);
}

Result<AtomPage> AtomEngine::List(const AtomFilter& filter, int page_size,
                                  std::string_view page_token, bool include_content,
                                  ResponseBudget* budget) {
  const std::string active = filter.is_active ? (*filter.is_active ? "1" : "0") : "*";
  const uint64_t fingerprint =
      PageTokenCodec::Fingerprint({filter.modality, filter.subtype, filter.source_type, active});
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  auto keep = [&filter](const AtomRecord& rec) { return filter.Matches(rec); };
  AtomTable atoms(tables_);
  HT_ASSIGN_OR_RETURN(
      auto found,
      ReadIdPage<AtomRecord>(
          txn, atoms.records(), tokens_, fingerprint, page_token, page_size, keep, budget,
          [include_content](const AtomRecord& rec) { return ResponseBytes(rec, include_content); },
          "atom"));
  AtomPage page;
  page.next_page_token = std::move(found.next_page_token);
  for (auto& rec : found.records) {
    AtomView view{std::move(rec), std::nullopt};
    if (include_content) {
      view.content.emplace();
      HT_RETURN_IF_ERROR(atoms.ReadContent(txn, view.record, &*view.content));
    }
    HT_RETURN_IF_ERROR(
        atoms.ResolveCanonicalText(txn, &view.record, view.content ? &*view.content : nullptr));
    page.atoms.push_back(std::move(view));
  }
  return page;
}

Result<uint64_t> AtomEngine::RemoveDependents(storage::WriteTxn& txn, uint64_t atom_id) {
  uint64_t removed = 0;
  for (const auto& remover : removers_) {
    HT_ASSIGN_OR_RETURN(uint64_t n, remover(txn, atom_id));
    removed += n;
  }
  return removed;
}

Result<AtomRecord> AtomEngine::Release(uint64_t atom_id) {
  return AwaitResult<AtomRecord>(
      [&](DropDone done) { DropAsync(atom_id, false, std::move(done)); });
}

Result<AtomRecord> AtomEngine::Delete(uint64_t atom_id) {
  return AwaitResult<AtomRecord>([&](DropDone done) { DropAsync(atom_id, true, std::move(done)); });
}

void AtomEngine::ReleaseAsync(uint64_t atom_id, DropDone done) {
  DropAsync(atom_id, false, std::move(done));
}

void AtomEngine::DeleteAsync(uint64_t atom_id, DropDone done) {
  DropAsync(atom_id, true, std::move(done));
}

void AtomEngine::DropAsync(uint64_t atom_id, bool drop_all, DropDone done) {
  const int64_t now = NowMicros();
  WriteThen<AtomRecord>(
      writer_,
      [this, atom_id, drop_all, now](storage::WriteTxn& txn, AtomRecord& result) -> Status {
        AtomTable atoms(tables_);
        storage::RelationTable relations(tables_);
        HT_RETURN_IF_ERROR(storage::ReleaseReference(txn, atoms, relations, atom_id, drop_all, now,
                                                     &result, nullptr));
        HT_RETURN_IF_ERROR(atoms.ResolveCanonicalText(txn, &result));
        HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
        // A deleted atom's dependent rows (embeddings) go at once; a released
        // one keeps them until PurgeInactive.
        if (drop_all) HT_RETURN_IF_ERROR(RemoveDependents(txn, atom_id).status());
        return Status::Ok();
      },
      std::move(done));
}

Result<PurgeSummary> AtomEngine::PurgeInactive(uint64_t max_atoms) {
  PurgeSummary total;
  while (max_atoms == 0 || total.atoms_purged < max_atoms) {
    uint64_t limit = kPurgeBatch;
    if (max_atoms != 0) limit = std::min(limit, max_atoms - total.atoms_purged);
    PurgeSummary batch;
    HT_RETURN_IF_ERROR(writer_.Write(
        [&](storage::WriteTxn& txn) -> Status {
          batch = PurgeSummary{};
          AtomTable atoms(tables_);
          HT_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, atoms.InactiveIds(txn, limit));
          for (uint64_t id : ids) {
            HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, id));
            if (!atom)
              return Status::DataLoss("atoms_inactive: dangling atom " + std::to_string(id));
            HT_ASSIGN_OR_RETURN(uint64_t dependents, RemoveDependents(txn, id));
            HT_ASSIGN_OR_RETURN(uint64_t owned, atoms.Remove(txn, *atom));
            owned += dependents;
            ++batch.atoms_purged;
            batch.bytes_freed += atom->content_size();
            batch.dependent_rows_removed += owned;
          }
          return atoms.FlushCounters(txn);
        },
        0, /*items=*/0));
    total.atoms_purged += batch.atoms_purged;
    total.bytes_freed += batch.bytes_freed;
    total.dependent_rows_removed += batch.dependent_rows_removed;
    if (batch.atoms_purged < limit) break;
  }
  return total;
}

Result<PurgeSummary> AtomEngine::PurgeAtoms(storage::WriteTxn& txn,
                                            const std::vector<uint64_t>& atom_ids) {
  PurgeSummary summary;
  AtomTable atoms(tables_);
  std::vector<uint64_t> ids = atom_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint64_t id : ids) {
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, id));
    if (!atom || atom->is_active()) continue;
    HT_ASSIGN_OR_RETURN(uint64_t dependents, RemoveDependents(txn, id));
    HT_ASSIGN_OR_RETURN(uint64_t owned, atoms.Remove(txn, *atom));
    ++summary.atoms_purged;
    summary.bytes_freed += atom->content_size();
    summary.dependent_rows_removed += owned + dependents;
  }
  HT_RETURN_IF_ERROR(atoms.FlushCounters(txn));
  return summary;
}

Result<storage::RepackSummary> AtomEngine::RepackPayloadBlocks() {
  // A write moves at most this many blocks' live members (each block is at
  // most storage::kBlockBytes), so other writes wait little.
  constexpr size_t kRepackBlocksPerWrite = 32;
  storage::RepackSummary total;
  uint64_t from = 0;
  while (true) {
    storage::RepackSummary batch;
    HT_RETURN_IF_ERROR(writer_.Write(
        [&](storage::WriteTxn& txn) -> Status {
          AtomTable atoms(tables_);
          HT_ASSIGN_OR_RETURN(batch, atoms.RepackSparseBlocks(txn, from, kRepackBlocksPerWrite));
          return atoms.FlushCounters(txn);
        },
        0, /*items=*/0));
    total.blocks += batch.blocks;
    total.atoms += batch.atoms;
    total.dead_bytes += batch.dead_bytes;
    from = batch.next_block;
    if (batch.done) break;
  }
  total.done = true;
  total.next_block = from;
  return total;
}

Result<DedupReport> AtomEngine::DedupStats(int top_n) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  AtomTable atoms(tables_);
  DedupReport report;
  HT_ASSIGN_OR_RETURN(report.top_atoms, atoms.TopByReferences(txn, static_cast<size_t>(top_n)));
  for (auto& atom : report.top_atoms) HT_RETURN_IF_ERROR(atoms.ResolveCanonicalText(txn, &atom));
  HT_ASSIGN_OR_RETURN(auto counters, atoms.ReadCounters(txn));
  for (auto& [modality, counter] : counters) {
    report.total.set_unique_atoms(report.total.unique_atoms() + counter.unique_atoms());
    report.total.set_total_references(report.total.total_references() + counter.total_references());
    report.total.set_unique_bytes(report.total.unique_bytes() + counter.unique_bytes());
    report.total.set_logical_bytes(report.total.logical_bytes() + counter.logical_bytes());
    report.total.set_documents(report.total.documents() + counter.documents());
    report.total.set_document_bytes(report.total.document_bytes() + counter.document_bytes());
    report.total.set_compressed_away_bytes(report.total.compressed_away_bytes() +
                                           counter.compressed_away_bytes());
    report.modalities.push_back(ModalityStats{modality, std::move(counter)});
  }
  report.data_used_bytes = env_.used_bytes();
  std::error_code ec;
  const auto file_size =
      std::filesystem::file_size(std::filesystem::path(env_.options().path) / "data.mdb", ec);
  report.data_file_bytes = ec ? 0 : static_cast<uint64_t>(file_size);
  return report;
}

}  // namespace hartonomous::engine
