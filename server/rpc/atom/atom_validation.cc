#include "server/rpc/atom/atom_validation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "base/json_limits.h"
#include "base/sha256.h"
#include "index/vector_index.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/common/paging.h"
#include "server/engine/documents/document_engine.h"
#include "server/engine/graph/graph_engine.h"
#include "server/rpc/search/search_validation.h"

namespace hartonomous::rpc {
namespace {

constexpr int kDefaultTopN = 10;
constexpr char kDedupAuditKey[] = "dedup";

std::string Field(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return std::string(prefix) + "." + std::string(name);
}

bool IsToken(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool IsPolicyName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The embedding sent with an atom: the collection's name, finite components
// (the dimension is checked against the collection by the engine).
Status ValidateAtomEmbedding(const std::string& field, const v1::AtomEmbedding& e) {
  if (e.collection().empty()) {
    return Status::InvalidArgument(field + ".collection: required when an embedding is given");
  }
  HT_RETURN_IF_ERROR(ValidateCollectionName(field + ".collection", e.collection()));
  if (e.vector().empty() || e.vector_size() > static_cast<int>(index::kMaxDimension)) {
    return Status::InvalidArgument(field + ".vector: required, 1-" +
                                   std::to_string(index::kMaxDimension) + " components, got " +
                                   std::to_string(e.vector_size()));
  }
  for (int i = 0; i < e.vector_size(); ++i) {
    if (!std::isfinite(e.vector(i))) {
      return Status::InvalidArgument(field + ".vector[" + std::to_string(i) +
                                     "]: must be finite, got " +
                                     (std::isnan(e.vector(i)) ? "NaN" : "Inf"));
    }
  }
  return ValidateJsonObject(field + ".metadata", e.metadata(), kMaxMetadataBytes);
}

struct LengthRule {
  const char* field;
  const std::string& (v1::IngestAtomRequest::*get)() const;
  size_t max;
};

const LengthRule kLengthRules[] = {
    {"subtype", &v1::IngestAtomRequest::subtype, 64},
    {"source_uri", &v1::IngestAtomRequest::source_uri, 2048},
    {"source_type", &v1::IngestAtomRequest::source_type, 64},
    {"canonical_text", &v1::IngestAtomRequest::canonical_text, size_t{1} << 20},
    {"payload_locator", &v1::IngestAtomRequest::payload_locator, 2048},
    {"metadata", &v1::IngestAtomRequest::metadata, kMaxMetadataBytes},
};

}  // namespace

Status ValidateIngest(const v1::IngestAtomRequest& request, const Limits& limits,
                      std::string_view prefix) {
  if (request.content().empty()) {
    return Status::InvalidArgument(Field(prefix, "content") + ": must not be empty");
  }
  if (request.content().size() > limits.max_content_bytes) {
    return Status::ResourceExhausted(
        Field(prefix, "content") + ": " + std::to_string(request.content().size()) +
        " bytes exceeds the limit of " + std::to_string(limits.max_content_bytes) + " bytes");
  }
  if (!IsToken(request.modality(), 32)) {
    return Status::InvalidArgument(Field(prefix, "modality") +
                                   ": required, 1-32 characters of [a-z0-9_-] (e.g. 'text', "
                                   "'image', 'audio', 'video', 'tensor')");
  }
  for (const auto& rule : kLengthRules) {
    if ((request.*rule.get)().size() > rule.max) {
      return Status::InvalidArgument(Field(prefix, rule.field) + ": longer than " +
                                     std::to_string(rule.max) + " bytes");
    }
  }
  HT_ASSIGN_OR_RETURN(
      const nlohmann::json metadata,
      ParseJsonObject(Field(prefix, "metadata"), request.metadata(), kMaxMetadataBytes));
  if (metadata.contains(kDedupAuditKey)) {
    return Status::InvalidArgument(Field(prefix, "metadata") + ": the top-level key '" +
                                   kDedupAuditKey +
                                   "' is reserved for the server's deduplication audit");
  }
  if (request.has_spatial_key()) {
    const auto& p = request.spatial_key();
    if (!std::isfinite(p.x()) || !std::isfinite(p.y()) || !std::isfinite(p.z())) {
      return Status::InvalidArgument(Field(prefix, "spatial_key") + ": coordinates must be finite");
    }
  }
  if (request.has_embedding()) {
    HT_RETURN_IF_ERROR(ValidateAtomEmbedding(Field(prefix, "embedding"), request.embedding()));
  }
  if (!request.policy().empty() && !IsPolicyName(request.policy())) {
    return Status::InvalidArgument(Field(prefix, "policy") +
                                   ": 1-64 bytes of [A-Za-z0-9_.-], or empty for exact SHA-256 "
                                   "matching only");
  }
  return Status::Ok();
}

Status ValidateGetAtom(const v1::GetAtomRequest& request) {
  switch (request.key_case()) {
    case v1::GetAtomRequest::kAtomId:
      return ValidateAtomId(request.atom_id());
    case v1::GetAtomRequest::kContentHash:
      if (!ParseSha256Hex(request.content_hash())) {
        return Status::InvalidArgument("content_hash: must be 64 hexadecimal characters");
      }
      return Status::Ok();
    case v1::GetAtomRequest::KEY_NOT_SET:
      return Status::InvalidArgument("atom_id or content_hash: one is required");
  }
  return Status::InvalidArgument("key: unknown");
}

Status ValidateListAtoms(const v1::ListAtomsRequest& request) {
  HT_RETURN_IF_ERROR(ValidatePageSize(request.page_size()));
  if (!request.modality().empty() && !IsToken(request.modality(), 32)) {
    return Status::InvalidArgument("modality: 1-32 characters of [a-z0-9_-], or empty for any");
  }
  return Status::Ok();
}

namespace {

const char* const kPolicyMaskPaths[] = {"policy_name",       "hash_enabled", "semantic_threshold",
                                        "spatial_threshold", "is_active",    "metadata"};

}  // namespace

Status ValidatePolicy(const v1::DeduplicationPolicy& p, const google::protobuf::FieldMask* mask) {
  auto in_mask = [mask](std::string_view path) {
    if (mask == nullptr || mask->paths_size() == 0) return true;
    for (const auto& m : mask->paths()) {
      if (m == path) return true;
    }
    return false;
  };
  if (mask != nullptr) {
    for (const auto& path : mask->paths()) {
      if (std::find(std::begin(kPolicyMaskPaths), std::end(kPolicyMaskPaths), path) ==
          std::end(kPolicyMaskPaths)) {
        return Status::InvalidArgument("update_mask: '" + path +
                                       "' is not an updatable policy field");
      }
    }
  }
  if (in_mask("policy_name") && !IsPolicyName(p.policy_name())) {
    return Status::InvalidArgument("policy.policy_name: required, 1-64 bytes of [A-Za-z0-9_.-]");
  }
  if (in_mask("semantic_threshold") && p.has_semantic_threshold() &&
      !(p.semantic_threshold() > 0.0 && p.semantic_threshold() <= 1.0)) {
    return Status::InvalidArgument(
        "policy.semantic_threshold: a cosine similarity in (0, 1], or unset to disable");
  }
  if (in_mask("spatial_threshold") && p.has_spatial_threshold() &&
      !(std::isfinite(p.spatial_threshold()) && p.spatial_threshold() >= 0.0)) {
    return Status::InvalidArgument(
        "policy.spatial_threshold: a finite distance >= 0, or unset to disable");
  }
  if (in_mask("metadata")) {
    HT_RETURN_IF_ERROR(ValidateJsonObject("policy.metadata", p.metadata(), kMaxMetadataBytes));
  }
  return Status::Ok();
}

Status ValidatePolicyKey(uint64_t policy_id, std::string_view policy_name, bool key_set) {
  if (!key_set || (policy_id == 0 && policy_name.empty())) {
    return Status::InvalidArgument("policy_id or policy_name: one is required");
  }
  if (policy_id == 0 && !IsPolicyName(policy_name)) {
    return Status::InvalidArgument("policy_name: 1-64 bytes of [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

Status ValidateTopN(int32_t top_n) {
  if (top_n < 0) return Status::InvalidArgument("top_n: must be >= 0 (0 = default of 10)");
  return Status::Ok();
}

bool IsRelationType(std::string_view type) { return IsToken(type, 32); }

Status ValidateDocumentHeader(const v1::IngestDocumentRequest& r) {
  if (!r.modality().empty() && !IsToken(r.modality(), 32)) {
    return Status::InvalidArgument(
        "modality: 1-32 characters of [a-z0-9_-] ('text', 'image', 'audio', 'video', ...), or "
        "empty to choose from the content");
  }
  if (r.source_uri().size() > 2048)
    return Status::InvalidArgument("source_uri: longer than 2048 bytes");
  if (r.source_type().size() > 64)
    return Status::InvalidArgument("source_type: longer than 64 bytes");
  HT_RETURN_IF_ERROR(ValidateJsonObject("metadata", r.metadata(), kMaxMetadataBytes,
                                        engine::kMaxDocumentMetadataDepth));
  return engine::ValidateOptions(ToDecomposeOptions(r.options()));
}

engine::DecomposeOptions ToDecomposeOptions(const v1::DecompositionOptions& o) {
  engine::DecomposeOptions out;
  if (o.patch_width() != 0) out.patch_width = o.patch_width();
  if (o.patch_height() != 0) out.patch_height = o.patch_height();
  if (o.frame_ms() != 0) out.frame_ms = o.frame_ms();
  if (o.chunk_min_bytes() != 0) out.chunk_min = o.chunk_min_bytes();
  if (o.chunk_avg_bytes() != 0) out.chunk_avg = o.chunk_avg_bytes();
  if (o.chunk_max_bytes() != 0) out.chunk_max = o.chunk_max_bytes();
  out.keep_original = o.keep_original();
  out.format = o.format();
  return out;
}

Status ValidateDocumentId(uint64_t document_id) {
  if (document_id == 0) return Status::InvalidArgument("document_id: required, must be > 0");
  return Status::Ok();
}

Status ValidateDeleteDocument(const v1::DeleteDocumentRequest& request) {
  if (request.source_uri().size() > 2048)
    return Status::InvalidArgument("source_uri: longer than 2048 bytes");
  if (request.document_id() == 0 && request.source_uri().empty()) {
    return Status::InvalidArgument(
        "document_id: required, must be > 0 (or name the document by source_uri)");
  }
  return Status::Ok();
}

Status ValidateAddRelations(const v1::AddRelationsRequest& request) {
  if (request.relations().empty()) {
    return Status::InvalidArgument("relations: at least one relation is required");
  }
  if (request.relations_size() > 10000) {
    return Status::InvalidArgument("relations: at most 10000 per request");
  }
  for (int i = 0; i < request.relations_size(); ++i) {
    const auto& r = request.relations(i);
    const std::string field = "relations[" + std::to_string(i) + "]";
    if (r.source_atom_id() == 0) {
      return Status::InvalidArgument(field + ".source_atom_id: required, must be > 0");
    }
    if (r.target_atom_id() == 0) {
      return Status::InvalidArgument(field + ".target_atom_id: required, must be > 0");
    }
    if (!IsRelationType(r.relation_type())) {
      return Status::InvalidArgument(field +
                                     ".relation_type: required, 1-32 characters of [a-z0-9_-]");
    }
    if (r.has_weight() && !std::isfinite(r.weight())) {
      return Status::InvalidArgument(field + ".weight: must be finite");
    }
    HT_RETURN_IF_ERROR(
        ValidateJsonObject(field + ".metadata", r.metadata(), kMaxRelationMetadataBytes));
  }
  return Status::Ok();
}

Status ValidateListRelations(const v1::ListRelationsRequest& request) {
  HT_RETURN_IF_ERROR(ValidateAtomId(request.atom_id()));
  HT_RETURN_IF_ERROR(ValidatePageSize(request.page_size()));
  if (!request.relation_type().empty() && !IsRelationType(request.relation_type())) {
    return Status::InvalidArgument(
        "relation_type: 1-32 characters of [a-z0-9_-], or empty for any");
  }
  if (!v1::RelationDirection_IsValid(request.direction())) {
    return Status::InvalidArgument("direction: must be CHILDREN or PARENTS");
  }
  return Status::Ok();
}

Status ValidateTraverse(const v1::TraverseRelationsRequest& request) {
  HT_RETURN_IF_ERROR(ValidateAtomId(request.atom_id()));
  if (request.max_depth() > engine::GraphEngine::kMaxDepth) {
    return Status::InvalidArgument("max_depth: at most " +
                                   std::to_string(engine::GraphEngine::kMaxDepth));
  }
  if (request.max_nodes() > engine::GraphEngine::kMaxNodes) {
    return Status::InvalidArgument("max_nodes: at most " +
                                   std::to_string(engine::GraphEngine::kMaxNodes));
  }
  for (int i = 0; i < request.relation_types_size(); ++i) {
    if (!IsRelationType(request.relation_types(i))) {
      return Status::InvalidArgument("relation_types[" + std::to_string(i) +
                                     "]: 1-32 characters of [a-z0-9_-]");
    }
  }
  if (!v1::RelationDirection_IsValid(request.direction())) {
    return Status::InvalidArgument("direction: must be CHILDREN or PARENTS");
  }
  return Status::Ok();
}

int EffectiveTopN(int32_t top_n) {
  if (top_n == 0) return kDefaultTopN;
  return std::min<int>(top_n, engine::AtomEngine::kMaxTopN);
}

}  // namespace hartonomous::rpc
