#include "server/engine/dedup/dedup_matcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "index/kernels.h"
#include "server/engine/dedup/policy_engine.h"
#include "server/engine/vectors/embedding_engine.h"
#include "storage/tables/atom_table.h"

namespace hartonomous::engine {

namespace {

using Json = nlohmann::ordered_json;

std::string Prefixed(std::string_view field, std::string_view name) {
  if (field.empty()) return std::string(name);
  return std::string(field) + "." + std::string(name);
}

// The metadata as an object to add the audit to, or nullopt when the text
// does not parse within the JSON limits (stored by an older server); such
// metadata is left as it is rather than rebuilt from a partial value.
std::optional<Json> ParseObject(const std::string& metadata) {
  if (metadata.empty()) return Json::object();
  auto j = ParseOrderedJson("metadata", metadata);
  if (!j.ok()) {
    spdlog::warn("dedup audit not recorded: {}", j.status().message());
    return std::nullopt;
  }
  if (!j->is_object()) return Json::object();
  return std::move(j).value();
}

void PutCandidates(const DedupDecision& d, Json* out) {
  if (d.semantic_nearest) {
    (*out)["semantic_nearest"] =
        Json{{"atom_id", d.semantic_nearest->atom_id}, {"similarity", d.semantic_nearest->value}};
  }
  if (d.spatial_nearest) {
    (*out)["spatial_nearest"] =
        Json{{"atom_id", d.spatial_nearest->atom_id}, {"distance", d.spatial_nearest->value}};
  }
}

}  // namespace

const char* DedupRuleName(DedupRule rule) {
  switch (rule) {
    case DedupRule::kNone:
      return "none";
    case DedupRule::kHash:
      return "hash";
    case DedupRule::kSemantic:
      return "semantic";
    case DedupRule::kSpatial:
      return "spatial";
  }
  return "none";
}

DedupMatcher::DedupMatcher(storage::Env& env, const storage::Tables& tables, PolicyEngine& policies,
                           EmbeddingEngine& embeddings)
    : env_(env), tables_(tables), policies_(policies), embeddings_(embeddings) {}

std::optional<double> DedupMatcher::Cosine(const std::vector<float>& a,
                                           const std::vector<float>& b) {
  float sums[3];  // a.b, a.a, b.b in one pass of the chosen kernel
  index::Kernels().dot_norms(a.data(), b.data(), std::min(a.size(), b.size()), sums);
  const double dot = sums[0], na = sums[1], nb = sums[2];
  if (!(na > 0) || !(nb > 0)) return std::nullopt;
  const double c = dot / (std::sqrt(na) * std::sqrt(nb));
  return std::clamp(c, -1.0, 1.0);
}

bool DedupMatcher::Meets(const storage::PolicyRecord& policy, DedupRule rule, double value) {
  switch (rule) {
    case DedupRule::kSemantic:
      return policy.has_semantic_threshold() && value >= policy.semantic_threshold();
    case DedupRule::kSpatial:
      return policy.has_spatial_threshold() && value <= policy.spatial_threshold();
    case DedupRule::kNone:
    case DedupRule::kHash:
      return false;
  }
  return false;
}

Status DedupMatcher::CheckEmbedding(std::string_view field, const EmbeddingAttachment& e) {
  const std::string name = Prefixed(field, "embedding");
  auto info = embeddings_.GetCollection(e.collection);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(name + ".collection: no collection named '" + e.collection + "'");
    }
    return info.status();
  }
  if (e.vector.size() != info->record.dimension()) {
    return Status::InvalidArgument(name + ".vector: " + std::to_string(e.vector.size()) +
                                   " components but collection '" + e.collection +
                                   "' has dimension " + std::to_string(info->record.dimension()));
  }
  return Status::Ok();
}

Result<DedupPlan> DedupMatcher::Plan(std::string_view field, const std::string& policy,
                                     const EmbeddingAttachment* embedding) {
  DedupPlan plan;
  auto found = policies_.Get(PolicyKey{0, policy});
  if (!found.ok()) {
    if (found.status().code() == Status::Code::kNotFound) {
      return Status::NotFound(Prefixed(field, "policy") + ": no policy is named '" + policy + "'");
    }
    return found.status();
  }
  plan.policy = std::move(found).value();
  if (!plan.policy.is_active()) {
    return Status::FailedPrecondition(Prefixed(field, "policy") + ": policy '" + policy +
                                      "' is inactive; activate it or name another one");
  }
  if (embedding == nullptr) return plan;
  HT_RETURN_IF_ERROR(CheckEmbedding(field, *embedding));
  if (plan.policy.has_semantic_threshold()) {
    HT_ASSIGN_OR_RETURN(plan.semantic_nearest, NearestSemantic(field, *embedding));
  }
  if (plan.policy.has_spatial_threshold()) {
    HT_ASSIGN_OR_RETURN(plan.spatial_nearest, NearestSpatial(*embedding));
  }
  return plan;
}

Result<std::optional<DedupCandidate>> DedupMatcher::NearestSpatial(const EmbeddingAttachment& e) {
  // Nearest first; inactive atoms are skipped, widening while every
  // candidate found was inactive.
  for (size_t k = kCandidates;; k *= 4) {
    HT_ASSIGN_OR_RETURN(auto found, embeddings_.NearestByProjection(e.collection, e.vector, k));
    std::optional<DedupCandidate> best;
    {
      storage::ReadTxn txn(env_);
      HT_RETURN_IF_ERROR(txn.status());
      storage::AtomTable atoms(tables_);
      for (const PointMatch& m : found) {
        if (best && m.distance > best->value) break;
        HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, m.atom_id));
        if (!atom || !atom->is_active()) continue;
        if (!best || m.distance < best->value ||
            (m.distance == best->value && m.atom_id < best->atom_id)) {
          best = DedupCandidate{m.atom_id, m.distance};
        }
      }
    }
    if (best || found.size() < k || k >= kMaxSpatialCandidates) return best;
  }
}

Result<std::optional<DedupCandidate>> DedupMatcher::NearestSemantic(std::string_view field,
                                                                    const EmbeddingAttachment& e) {
  std::vector<float> probe = e.vector;
  std::optional<DedupCandidate> best;
  if (!Cosine(probe, probe)) {
    return Status::InvalidArgument(Prefixed(field, "embedding.vector") +
                                   ": all components are zero, so cosine similarity is "
                                   "undefined (the policy has a semantic threshold)");
  }
  SearchQuery query;
  query.collection = e.collection;
  query.vector = std::move(probe);
  query.k = kCandidates;
  query.filter.is_active = true;  // active atoms only
  HT_ASSIGN_OR_RETURN(SearchResult found, embeddings_.Search(query));
  for (const SearchHit& hit : found.hits) {
    auto rows = embeddings_.GetEmbeddings(hit.atom_id, e.collection);
    if (!rows.ok()) {
      if (rows.status().code() == Status::Code::kNotFound) continue;  // purged meanwhile
      return rows.status();
    }
    for (const auto& row : *rows) {
      std::vector<float> v(row.vector().size() / sizeof(float));
      std::memcpy(v.data(), row.vector().data(), v.size() * sizeof(float));
      if (v.size() != e.vector.size()) continue;
      auto similarity = Cosine(e.vector, v);
      if (!similarity) continue;
      if (!best || *similarity > best->value ||
          (*similarity == best->value && hit.atom_id < best->atom_id)) {
        best = DedupCandidate{hit.atom_id, *similarity};
      }
    }
  }
  return best;
}

Result<DedupDecision> DedupMatcher::Decide(storage::Txn& txn, const DedupPlan& plan) const {
  DedupDecision decision;
  decision.policy = plan.policy.policy_name();
  decision.semantic_nearest = plan.semantic_nearest;
  decision.spatial_nearest = plan.spatial_nearest;
  storage::AtomTable atoms(tables_);
  const std::pair<DedupRule, const std::optional<DedupCandidate>*> rules[] = {
      {DedupRule::kSemantic, &plan.semantic_nearest},
      {DedupRule::kSpatial, &plan.spatial_nearest},
  };
  for (const auto& [rule, candidate] : rules) {
    if (!*candidate || !Meets(plan.policy, rule, (*candidate)->value)) continue;
    // The candidate was active when searched; it must still be.
    HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, (*candidate)->atom_id));
    if (!atom || !atom->is_active()) continue;
    decision.rule = rule;
    decision.matched_atom_id = atom->atom_id();
    return decision;
  }
  return decision;
}

Status DedupMatcher::StoreEmbedding(storage::WriteTxn& txn, std::string_view field,
                                    uint64_t atom_id, const EmbeddingAttachment& e) {
  EmbeddingInput input;
  input.atom_id = atom_id;
  input.vector = e.vector;
  input.metadata = e.metadata;
  return embeddings_.PutEmbeddingInTxn(txn, Prefixed(field, "embedding"), e.collection, input);
}

std::string DedupMatcher::AuditNew(const std::string& metadata, const DedupDecision& decision) {
  std::optional<Json> parsed = ParseObject(metadata);
  if (!parsed) return metadata;
  Json& j = *parsed;
  Json audit = Json{{"policy", decision.policy}, {"rule", DedupRuleName(decision.rule)}};
  PutCandidates(decision, &audit);
  j["dedup"] = std::move(audit);
  return j.dump();
}

std::string DedupMatcher::AuditMatched(const std::string& metadata, const DedupDecision& decision,
                                       const Sha256Digest& dropped_hash, int64_t at_us) {
  std::optional<Json> parsed = ParseObject(metadata);
  if (!parsed) return metadata;
  Json& j = *parsed;
  Json& audit = j["dedup"];
  if (!audit.is_object()) audit = Json::object();
  uint64_t matches = 0;
  if (auto it = audit.find("matches"); it != audit.end() && it->is_number_unsigned()) {
    matches = it->get<uint64_t>();
  }
  audit["matches"] = matches + 1;
  Json last = Json{{"policy", decision.policy}, {"rule", DedupRuleName(decision.rule)}};
  if (decision.rule == DedupRule::kSemantic && decision.semantic_nearest) {
    last["similarity"] = decision.semantic_nearest->value;
  }
  if (decision.rule == DedupRule::kSpatial && decision.spatial_nearest) {
    last["distance"] = decision.spatial_nearest->value;
  }
  last["content_hash"] = ToHex(dropped_hash);
  last["at_us"] = at_us;
  audit["last"] = std::move(last);
  return j.dump();
}

}  // namespace hartonomous::engine
