#include "server/rpc/search/search_convert.h"

#include <cstring>

#include "server/rpc/common/timestamp.h"
#include "server/rpc/search/search_validation.h"

namespace hartonomous::rpc {
namespace {

index::Metric ToMetric(v1::Metric metric) {
  switch (metric) {
    case v1::METRIC_L2:
      return index::Metric::kL2;
    case v1::METRIC_INNER_PRODUCT:
      return index::Metric::kInnerProduct;
    default:
      return index::Metric::kCosine;
  }
}

v1::Metric FromMetricName(const std::string& name) {
  if (name == "l2") return v1::METRIC_L2;
  if (name == "ip") return v1::METRIC_INNER_PRODUCT;
  return v1::METRIC_COSINE;
}

v1::SearchPath ToProto(engine::SearchPath path) {
  switch (path) {
    case engine::SearchPath::kAnn:
      return v1::SEARCH_PATH_ANN;
    case engine::SearchPath::kAnnPostFilter:
      return v1::SEARCH_PATH_ANN_POST_FILTER;
    case engine::SearchPath::kExact:
      return v1::SEARCH_PATH_EXACT;
    case engine::SearchPath::kExactFiltered:
      return v1::SEARCH_PATH_EXACT_FILTERED;
    case engine::SearchPath::kAnnFilteredTraversal:
      return v1::SEARCH_PATH_ANN_FILTERED_TRAVERSAL;
  }
  return v1::SEARCH_PATH_UNSPECIFIED;
}

void ToProto(engine::SearchHit&& hit, v1::ScoredAtom* r) {
  r->set_atom_id(hit.atom_id);
  r->set_embedding_id(hit.embedding_id);
  r->set_distance(hit.distance);
  r->set_canonical_text(std::move(hit.canonical_text));
  r->set_metadata(std::move(hit.metadata));
}

// The fields Search and HybridSearch share: the collection, the query
// (vector or atom), the limit, the filter and what each hit carries.
template <typename Query, typename Request>
Query ToQuery(const Request& r) {
  Query q;
  q.collection = r.collection();
  q.vector.assign(r.vector().begin(), r.vector().end());
  q.atom_id = r.atom_id();
  q.k = r.limit();
  q.filter = ToAtomFilter(r.filter());
  q.with_canonical_text = r.with_canonical_text();
  q.with_metadata = r.with_metadata();
  return q;
}

}  // namespace

engine::CollectionSpec ToCollectionSpec(const v1::CollectionSpec& spec) {
  engine::CollectionSpec out;
  out.embedding_type = spec.embedding_type();
  out.model_id = spec.model_id();
  out.dimension = spec.dimension();
  out.metric = ToMetric(spec.metric());
  out.index_kind = spec.index().kind().empty() ? "hnsw" : spec.index().kind();
  if (spec.index().m() != 0) out.params.m = spec.index().m();
  if (spec.index().ef_construction() != 0)
    out.params.ef_construction = spec.index().ef_construction();
  if (spec.index().ef_search() != 0) out.params.ef_search = spec.index().ef_search();
  if (!spec.spatial_index().empty()) out.spatial_kind = spec.spatial_index();
  return out;
}

engine::EmbeddingInput ToEmbeddingInput(v1::EmbeddingInput&& in) {
  engine::EmbeddingInput out;
  out.atom_id = in.atom_id();
  size_t n = static_cast<size_t>(in.vector().size());
  if (in.uses_max_dimension_padding()) n = in.dimension();
  out.vector.assign(in.vector().begin(), in.vector().begin() + static_cast<ptrdiff_t>(n));
  out.metadata = std::move(*in.mutable_metadata());
  out.uses_max_dimension_padding = in.uses_max_dimension_padding();
  return out;
}

engine::SearchQuery ToSearchQuery(const v1::SearchRequest& r) {
  auto q = ToQuery<engine::SearchQuery>(r);
  q.ef = r.params().ef();
  q.exact = r.params().exact();
  return q;
}

engine::AtomFilter ToAtomFilter(const v1::AtomFilter& f) {
  engine::AtomFilter out;
  out.modality = f.modality();
  out.subtype = f.subtype();
  out.source_type = f.source_type();
  if (f.active_only()) out.is_active = true;
  if (f.has_created_after()) out.created_after_us = ToMicros(f.created_after());
  if (f.has_created_before()) out.created_before_us = ToMicros(f.created_before());
  for (const auto& [key, value] : f.metadata_equals()) out.metadata_equals.emplace_back(key, value);
  std::sort(out.metadata_equals.begin(), out.metadata_equals.end());
  return out;
}

engine::RefitOptions ToRefitOptions(const v1::RefitProjectionRequest& r) {
  engine::RefitOptions out;
  if (!r.kind().empty()) out.kind = r.kind();
  if (r.sample_size() != 0) out.sample_size = r.sample_size();
  out.coarse_cell = r.coarse_cell();
  out.seed = r.seed();
  return out;
}

index::Point3 FromProto(const v1::Point3& p) { return {p.x(), p.y(), p.z()}; }

engine::SpatialQueryInput ToSpatialQuery(const v1::SpatialQueryRequest& r) {
  engine::SpatialQueryInput in;
  in.collection = r.collection();
  in.space = r.space() == v1::SPATIAL_SPACE_COARSE ? engine::SpatialSpace::kCoarse
                                                   : engine::SpatialSpace::kFine;
  in.limit = r.limit() == 0 ? kDefaultSpatialLimit : r.limit();
  switch (r.shape_case()) {
    case v1::SpatialQueryRequest::kWithinBox:
      in.shape = engine::SpatialQueryInput::Shape::kBox;
      in.min = FromProto(r.within_box().min());
      in.max = FromProto(r.within_box().max());
      break;
    case v1::SpatialQueryRequest::kNearest:
      in.shape = engine::SpatialQueryInput::Shape::kNearest;
      in.center = FromProto(r.nearest().center());
      in.k = r.nearest().k();
      break;
    default:
      in.shape = engine::SpatialQueryInput::Shape::kRadius;
      in.center = FromProto(r.within_radius().center());
      in.radius = r.within_radius().radius();
      break;
  }
  return in;
}

engine::HybridSearchQuery ToHybridQuery(const v1::HybridSearchRequest& r) {
  auto q = ToQuery<engine::HybridSearchQuery>(r);
  if (r.has_center()) q.center = FromProto(r.center());
  if (r.stage1_case() == v1::HybridSearchRequest::kRadius) q.radius = r.radius();
  if (r.stage1_case() == v1::HybridSearchRequest::kKeepFraction)
    q.keep_fraction = r.keep_fraction();
  q.coarse_first = r.coarse_first();
  q.with_ann = r.mode() == v1::HYBRID_MODE_PREFILTER_AND_ANN;
  q.ef = r.ef();
  q.report_recall = r.report_recall();
  return q;
}

void ToProto(const index::Point3& p, v1::Point3* out) {
  out->set_x(p.x);
  out->set_y(p.y);
  out->set_z(p.z);
}

void ToProto(const storage::ProjectionRecord& r, uint64_t points, v1::ProjectionInfo* out) {
  out->set_kind(r.kind());
  out->set_version(r.version());
  ToProto(index::Point3{r.scale_x(), r.scale_y(), r.scale_z()}, out->mutable_scale());
  out->set_coarse_cell(r.coarse_cell());
  out->set_fitted_rows(r.fitted_rows());
  if (r.fitted_at_us() != 0) ToTimestamp(r.fitted_at_us(), out->mutable_fitted_at());
  out->set_points(points);
}

void ToProto(const engine::SpatialQueryResult& result, engine::ResponseBudget& budget,
             v1::SpatialQueryResponse* out) {
  out->set_truncated(result.truncated);
  for (const auto& hit : result.hits) {
    auto* h = out->add_hits();
    h->set_atom_id(hit.atom_id);
    h->set_embedding_id(hit.embedding_id);
    ToProto(hit.point, h->mutable_point());
    h->set_distance(hit.distance);
    if (!budget.TryChargeItem(h->ByteSizeLong())) {
      out->mutable_hits()->RemoveLast();
      out->set_truncated(true);
      break;
    }
  }
}

void ToProto(engine::HybridSearchResult&& result, v1::HybridSearchResponse* out) {
  for (auto& hit : result.hits) {
    ToProto(std::move(hit), out->add_results());
  }
  out->set_candidates(result.candidates);
  out->set_ann_candidates(result.ann_candidates);
  out->set_radius(result.radius);
  ToProto(result.center, out->mutable_center());
  if (result.recall) out->set_recall(*result.recall);
  out->set_projection_version(result.projection_version);
}

void ToProto(const engine::CollectionInfo& info, v1::Collection* out) {
  const auto& r = info.record;
  out->set_name(r.name());
  out->set_collection_id(r.collection_id());
  auto* spec = out->mutable_spec();
  spec->set_embedding_type(r.embedding_type());
  spec->set_model_id(r.model_id());
  spec->set_dimension(r.dimension());
  spec->set_metric(FromMetricName(r.metric()));
  spec->mutable_index()->set_kind(r.index_kind());
  spec->mutable_index()->set_m(r.m());
  spec->mutable_index()->set_ef_construction(r.ef_construction());
  spec->mutable_index()->set_ef_search(r.ef_search());
  spec->set_spatial_index(r.spatial_kind().empty() ? "rtree" : r.spatial_kind());
  out->set_vector_count(info.vector_count);
  out->set_deleted_count(info.deleted_count);
  out->set_memory_bytes(info.memory_bytes);
  out->set_bytes_per_vector(info.vector_count == 0 ? 0 : info.memory_bytes / info.vector_count);
  auto* snap = out->mutable_snapshot();
  snap->set_watermark(info.snapshot.watermark);
  if (info.snapshot.saved_at_us != 0)
    ToTimestamp(info.snapshot.saved_at_us, snap->mutable_saved_at());
  snap->set_loaded_from_snapshot(info.snapshot.loaded_from_snapshot);
  snap->set_replayed_at_start(info.snapshot.replayed_at_start);
  snap->set_removed_at_start(info.snapshot.removed_at_start);
  snap->set_changes_since_snapshot(info.snapshot.changes_since_snapshot);
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
  ToProto(info.projection, info.points, out->mutable_projection());
}

void ToProto(const storage::EmbeddingRecord& r, const std::string& collection, v1::Embedding* out) {
  out->set_embedding_id(r.embedding_id());
  out->set_atom_id(r.atom_id());
  out->set_model_id(r.model_id());
  out->set_embedding_type(r.embedding_type());
  out->set_dimension(r.dimension());
  const size_t n = r.vector().size() / sizeof(float);
  out->mutable_vector()->Resize(static_cast<int>(n), 0.0f);
  std::memcpy(out->mutable_vector()->mutable_data(), r.vector().data(), n * sizeof(float));
  out->set_metadata(r.metadata());
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
  out->set_uses_max_dimension_padding(r.uses_max_dimension_padding());
  out->set_collection(collection);
}

void ToProto(engine::SearchResult&& result, v1::SearchResponse* out) {
  out->set_path(ToProto(result.path));
  out->set_candidates_examined(result.candidates_examined);
  for (auto& hit : result.hits) {
    ToProto(std::move(hit), out->add_results());
  }
}

void ToProto(const engine::AddSummary& summary, v1::AddEmbeddingsResponse* out) {
  for (uint64_t id : summary.embedding_ids) out->add_embedding_ids(id);
  out->set_embeddings_added(summary.embedding_ids.size());
  out->set_embeddings_replaced(summary.replaced);
  out->set_collection_created(summary.collection_created);
}

}  // namespace hartonomous::rpc
