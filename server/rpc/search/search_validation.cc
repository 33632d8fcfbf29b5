#include "server/rpc/search/search_validation.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "index/spatial/spatial_index.h"
#include "index/vector_index.h"
#include "server/rpc/common/validation.h"

namespace hartonomous::rpc {
namespace {

std::string Join(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return std::string(prefix) + "." + std::string(name);
}

struct RangeRule {
  const char* field;
  uint32_t (v1::IndexConfig::*get)() const;
  uint32_t min, max;  // 0 is always allowed (= default)
};

const RangeRule kIndexRules[] = {
    {"m", &v1::IndexConfig::m, 2, 128},
    {"ef_construction", &v1::IndexConfig::ef_construction, 1, 4096},
    {"ef_search", &v1::IndexConfig::ef_search, 1, 4096},
};

Status Finite(std::string_view field, const google::protobuf::RepeatedField<float>& v) {
  for (int i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument(std::string(field) + "[" + std::to_string(i) +
                                     "]: must be finite, got " +
                                     (std::isnan(v[i]) ? "NaN" : "Inf"));
    }
  }
  return Status::Ok();
}

Status ValidateFilter(std::string_view field, const v1::AtomFilter& f) {
  if (f.has_created_after() && f.has_created_before() &&
      (f.created_after().seconds() > f.created_before().seconds() ||
       (f.created_after().seconds() == f.created_before().seconds() &&
        f.created_after().nanos() > f.created_before().nanos()))) {
    return Status::InvalidArgument(Join(field, "filter.created_after") +
                                   ": must not be later than filter.created_before");
  }
  for (const auto& [key, value] : f.metadata_equals()) {
    if (key.empty()) {
      return Status::InvalidArgument(Join(field, "filter.metadata_equals") +
                                     ": keys must not be empty");
    }
  }
  return Status::Ok();
}

Status ValidateLimit(std::string_view field, uint32_t k, const SearchLimits& limits) {
  if (k < 1 || k > limits.max_k) {
    return Status::InvalidArgument(std::string(field) + ": must be in [1, " +
                                   std::to_string(limits.max_k) + "], got " + std::to_string(k));
  }
  return Status::Ok();
}

Status FinitePoint(const std::string& field, const v1::Point3& p) {
  if (!std::isfinite(p.x()) || !std::isfinite(p.y()) || !std::isfinite(p.z())) {
    return Status::InvalidArgument(field + ": coordinates must be finite");
  }
  return Status::Ok();
}

Status ValidRadius(const std::string& field, double radius) {
  if (std::isnan(radius))
    return Status::InvalidArgument(field + ": must be a number >= 0, got NaN");
  if (!std::isfinite(radius) || radius < 0) {
    return Status::InvalidArgument(field + ": must be finite and >= 0, got " +
                                   std::to_string(radius));
  }
  return Status::Ok();
}

}  // namespace

Status ValidateCollectionName(std::string_view field, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.');
  }
  if (!ok) {
    return Status::InvalidArgument(std::string(field) +
                                   ": required, 1-128 characters of [A-Za-z0-9_.-]");
  }
  return Status::Ok();
}

Status ValidateCollectionSpec(std::string_view field, const v1::CollectionSpec& spec, bool create) {
  if (create && spec.embedding_type().empty()) {
    return Status::InvalidArgument(Join(field, "embedding_type") + ": required");
  }
  if (spec.embedding_type().size() > 64 || spec.embedding_type().find('\0') != std::string::npos) {
    return Status::InvalidArgument(Join(field, "embedding_type") +
                                   ": at most 64 characters, no NUL");
  }
  if ((create || spec.dimension() != 0) &&
      (spec.dimension() < 1 || spec.dimension() > index::kMaxDimension)) {
    return Status::InvalidArgument(Join(field, "dimension") + ": must be in [1, " +
                                   std::to_string(index::kMaxDimension) + "], got " +
                                   std::to_string(spec.dimension()));
  }
  if (!v1::Metric_IsValid(spec.metric())) {
    return Status::InvalidArgument(Join(field, "metric") + ": unknown value " +
                                   std::to_string(spec.metric()));
  }
  if (!spec.spatial_index().empty()) {
    const auto kinds = index::SpatialIndexKinds();
    if (std::find(kinds.begin(), kinds.end(), spec.spatial_index()) == kinds.end()) {
      std::string known;
      for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(Join(field, "spatial_index") + ": unknown kind '" +
                                     spec.spatial_index() + "' (known: " + known + ")");
    }
  }
  for (const auto& rule : kIndexRules) {
    const uint32_t v = (spec.index().*rule.get)();
    if (v != 0 && (v < rule.min || v > rule.max)) {
      return Status::InvalidArgument(Join(field, std::string("index.") + rule.field) +
                                     ": must be 0 (default) or in [" + std::to_string(rule.min) +
                                     ", " + std::to_string(rule.max) + "], got " +
                                     std::to_string(v));
    }
  }
  return Status::Ok();
}

Status ValidateCreateCollection(const v1::CreateCollectionRequest& request) {
  HT_RETURN_IF_ERROR(ValidateCollectionName("name", request.name()));
  if (!request.has_spec()) return Status::InvalidArgument("spec: required");
  return ValidateCollectionSpec("spec", request.spec(), /*create=*/true);
}

Status ValidateEmbeddingInput(std::string_view field, const v1::EmbeddingInput& in) {
  if (in.atom_id() == 0)
    return Status::InvalidArgument(Join(field, "atom_id") + ": required, must be > 0");
  const std::string vfield = Join(field, "vector");
  if (in.vector().empty()) return Status::InvalidArgument(vfield + ": must not be empty");
  HT_RETURN_IF_ERROR(Finite(vfield, in.vector()));
  if (in.uses_max_dimension_padding()) {
    if (static_cast<uint32_t>(in.vector().size()) != kPaddedDimension) {
      return Status::InvalidArgument(vfield + ": uses_max_dimension_padding requires " +
                                     std::to_string(kPaddedDimension) + " components, got " +
                                     std::to_string(in.vector().size()));
    }
    if (in.dimension() < 1 || in.dimension() > kPaddedDimension) {
      return Status::InvalidArgument(
          Join(field, "dimension") +
          ": with uses_max_dimension_padding, the real dimension in [1, " +
          std::to_string(kPaddedDimension) + "] is required");
    }
    for (int i = static_cast<int>(in.dimension()); i < in.vector().size(); ++i) {
      if (in.vector(i) != 0.0f) {
        return Status::InvalidArgument(vfield + "[" + std::to_string(i) +
                                       "]: padding beyond dimension " +
                                       std::to_string(in.dimension()) + " must be 0");
      }
    }
  } else {
    if (in.vector().size() > static_cast<int>(index::kMaxDimension)) {
      return Status::InvalidArgument(vfield + ": at most " + std::to_string(index::kMaxDimension) +
                                     " components, got " + std::to_string(in.vector().size()));
    }
    if (in.dimension() != 0 && in.dimension() != static_cast<uint32_t>(in.vector().size())) {
      return Status::InvalidArgument(Join(field, "dimension") + ": " +
                                     std::to_string(in.dimension()) + " but the vector has " +
                                     std::to_string(in.vector().size()) + " components");
    }
  }
  return ValidateJsonObject(Join(field, "metadata"), in.metadata(), kMaxMetadataBytes);
}

Status ValidateAddEmbeddingsMessage(const v1::AddEmbeddingsRequest& request, size_t first_index) {
  HT_RETURN_IF_ERROR(ValidateCollectionName("collection", request.collection()));
  if (request.has_create()) {
    HT_RETURN_IF_ERROR(ValidateCollectionSpec("create", request.create(), /*create=*/false));
  }
  for (int i = 0; i < request.embeddings_size(); ++i) {
    HT_RETURN_IF_ERROR(ValidateEmbeddingInput(
        "embeddings[" + std::to_string(first_index + static_cast<size_t>(i)) + "]",
        request.embeddings(i)));
  }
  return Status::Ok();
}

Status ValidateSearch(std::string_view field, const v1::SearchRequest& r,
                      const SearchLimits& limits) {
  HT_RETURN_IF_ERROR(ValidateCollectionName(Join(field, "collection"), r.collection()));
  if (r.vector().empty() == (r.atom_id() == 0)) {
    return Status::InvalidArgument(Join(field, "vector/atom_id") + ": exactly one is required");
  }
  HT_RETURN_IF_ERROR(Finite(Join(field, "vector"), r.vector()));
  HT_RETURN_IF_ERROR(ValidateLimit(Join(field, "limit"), r.limit(), limits));
  if (r.params().ef() > 4096) {
    return Status::InvalidArgument(Join(field, "params.ef") + ": must be in [0, 4096], got " +
                                   std::to_string(r.params().ef()));
  }
  return ValidateFilter(field, r.filter());
}

Status ValidateBatchSearch(const v1::BatchSearchRequest& request, const SearchLimits& limits) {
  if (request.searches().empty())
    return Status::InvalidArgument("searches: at least one is required");
  if (static_cast<size_t>(request.searches_size()) > limits.max_batch_searches) {
    return Status::InvalidArgument("searches: at most " +
                                   std::to_string(limits.max_batch_searches) + ", got " +
                                   std::to_string(request.searches_size()));
  }
  for (int i = 0; i < request.searches_size(); ++i) {
    HT_RETURN_IF_ERROR(
        ValidateSearch("searches[" + std::to_string(i) + "]", request.searches(i), limits));
  }
  return Status::Ok();
}

Status ValidateRefitProjection(const v1::RefitProjectionRequest& r) {
  HT_RETURN_IF_ERROR(ValidateCollectionName("collection", r.collection()));
  if (!r.kind().empty() && r.kind() != "pca" && r.kind() != "random") {
    return Status::InvalidArgument("kind: must be 'pca' or 'random', got '" + r.kind() + "'");
  }
  if (r.sample_size() != 0 && (r.sample_size() < 16 || r.sample_size() > 1000000)) {
    return Status::InvalidArgument("sample_size: must be 0 or in [16, 1000000], got " +
                                   std::to_string(r.sample_size()));
  }
  if (std::isnan(r.coarse_cell()) || !std::isfinite(r.coarse_cell()) || r.coarse_cell() < 0) {
    return Status::InvalidArgument(
        "coarse_cell: must be finite and >= 0 (0 = derived from the scale)");
  }
  return Status::Ok();
}

Status ValidateSpatialQuery(const v1::SpatialQueryRequest& r, const SearchLimits& limits) {
  if (r.space() != v1::SPATIAL_SPACE_ATOM) {
    HT_RETURN_IF_ERROR(ValidateCollectionName("collection", r.collection()));
  }
  if (!v1::SpatialSpace_IsValid(r.space())) {
    return Status::InvalidArgument("space: unknown value " + std::to_string(r.space()));
  }
  switch (r.shape_case()) {
    case v1::SpatialQueryRequest::kWithinRadius:
      HT_RETURN_IF_ERROR(FinitePoint("within_radius.center", r.within_radius().center()));
      HT_RETURN_IF_ERROR(ValidRadius("within_radius.radius", r.within_radius().radius()));
      break;
    case v1::SpatialQueryRequest::kWithinBox: {
      const auto& b = r.within_box();
      HT_RETURN_IF_ERROR(FinitePoint("within_box.min", b.min()));
      HT_RETURN_IF_ERROR(FinitePoint("within_box.max", b.max()));
      if (b.min().x() > b.max().x() || b.min().y() > b.max().y() || b.min().z() > b.max().z()) {
        return Status::InvalidArgument("within_box: min must be <= max on every axis");
      }
      break;
    }
    case v1::SpatialQueryRequest::kNearest:
      HT_RETURN_IF_ERROR(FinitePoint("nearest.center", r.nearest().center()));
      HT_RETURN_IF_ERROR(ValidateLimit("nearest.k", r.nearest().k(), limits));
      break;
    case v1::SpatialQueryRequest::SHAPE_NOT_SET:
      return Status::InvalidArgument(
          "shape: one of within_radius, within_box, nearest is required");
  }
  if (r.limit() > kMaxSpatialLimit) {
    return Status::InvalidArgument("limit: must be in [0, " + std::to_string(kMaxSpatialLimit) +
                                   "], got " + std::to_string(r.limit()));
  }
  return Status::Ok();
}

Status ValidateHybridSearch(const v1::HybridSearchRequest& r, const SearchLimits& limits) {
  HT_RETURN_IF_ERROR(ValidateCollectionName("collection", r.collection()));
  if (r.vector().empty() == (r.atom_id() == 0)) {
    return Status::InvalidArgument("vector/atom_id: exactly one is required");
  }
  HT_RETURN_IF_ERROR(Finite("vector", r.vector()));
  HT_RETURN_IF_ERROR(ValidateLimit("limit", r.limit(), limits));
  if (r.has_center()) HT_RETURN_IF_ERROR(FinitePoint("center", r.center()));
  switch (r.stage1_case()) {
    case v1::HybridSearchRequest::kRadius:
      HT_RETURN_IF_ERROR(ValidRadius("radius", r.radius()));
      break;
    case v1::HybridSearchRequest::kKeepFraction:
      if (!(r.keep_fraction() > 0 && r.keep_fraction() <= 1)) {
        return Status::InvalidArgument("keep_fraction: must be in (0, 1], got " +
                                       std::to_string(r.keep_fraction()));
      }
      if (r.coarse_first()) {
        return Status::InvalidArgument("coarse_first: applies to a radius, not to keep_fraction");
      }
      break;
    case v1::HybridSearchRequest::STAGE1_NOT_SET:
      return Status::InvalidArgument("radius/keep_fraction: exactly one is required");
  }
  if (!v1::HybridMode_IsValid(r.mode())) {
    return Status::InvalidArgument("mode: unknown value " + std::to_string(r.mode()));
  }
  if (r.ef() > 4096) {
    return Status::InvalidArgument("ef: must be in [0, 4096], got " + std::to_string(r.ef()));
  }
  return ValidateFilter("", r.filter());
}

}  // namespace hartonomous::rpc
