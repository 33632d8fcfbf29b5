#include "server/rpc/search_convert.h"

#include <cstring>

#include "server/rpc/timestamp.h"

namespace hartonomous::rpc {
namespace {

index::Metric ToMetric(v1::Metric metric) {
  switch (metric) {
    case v1::METRIC_L2: return index::Metric::kL2;
    case v1::METRIC_INNER_PRODUCT: return index::Metric::kInnerProduct;
    default: return index::Metric::kCosine;
  }
}

v1::Metric FromMetricName(const std::string& name) {
  if (name == "l2") return v1::METRIC_L2;
  if (name == "ip") return v1::METRIC_INNER_PRODUCT;
  return v1::METRIC_COSINE;
}

v1::SearchPath ToProto(engine::SearchPath path) {
  switch (path) {
    case engine::SearchPath::kAnn: return v1::SEARCH_PATH_ANN;
    case engine::SearchPath::kAnnPostFilter: return v1::SEARCH_PATH_ANN_POST_FILTER;
    case engine::SearchPath::kExact: return v1::SEARCH_PATH_EXACT;
    case engine::SearchPath::kExactFiltered: return v1::SEARCH_PATH_EXACT_FILTERED;
  }
  return v1::SEARCH_PATH_UNSPECIFIED;
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
  if (spec.index().ef_construction() != 0) out.params.ef_construction = spec.index().ef_construction();
  if (spec.index().ef_search() != 0) out.params.ef_search = spec.index().ef_search();
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
  engine::SearchQuery q;
  q.collection = r.collection();
  q.vector.assign(r.vector().begin(), r.vector().end());
  q.atom_id = r.atom_id();
  q.k = r.limit();
  q.ef = r.params().ef();
  q.exact = r.params().exact();
  const auto& f = r.filter();
  q.filter.modality = f.modality();
  q.filter.subtype = f.subtype();
  q.filter.source_type = f.source_type();
  q.filter.active_only = f.active_only();
  if (f.has_created_after()) q.filter.created_after_us = ToMicros(f.created_after());
  if (f.has_created_before()) q.filter.created_before_us = ToMicros(f.created_before());
  for (const auto& [key, value] : f.metadata_equals()) q.filter.metadata_equals.emplace_back(key, value);
  std::sort(q.filter.metadata_equals.begin(), q.filter.metadata_equals.end());
  q.with_canonical_text = r.with_canonical_text();
  q.with_metadata = r.with_metadata();
  return q;
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
  out->set_vector_count(info.vector_count);
  out->set_deleted_count(info.deleted_count);
  out->set_memory_bytes(info.memory_bytes);
  auto* snap = out->mutable_snapshot();
  snap->set_watermark(info.snapshot.watermark);
  if (info.snapshot.saved_at_us != 0) ToTimestamp(info.snapshot.saved_at_us, snap->mutable_saved_at());
  snap->set_loaded_from_snapshot(info.snapshot.loaded_from_snapshot);
  snap->set_replayed_at_start(info.snapshot.replayed_at_start);
  snap->set_removed_at_start(info.snapshot.removed_at_start);
  snap->set_changes_since_snapshot(info.snapshot.changes_since_snapshot);
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
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
    auto* r = out->add_results();
    r->set_atom_id(hit.atom_id);
    r->set_embedding_id(hit.embedding_id);
    r->set_distance(hit.distance);
    r->set_canonical_text(std::move(hit.canonical_text));
    r->set_metadata(std::move(hit.metadata));
  }
}

}  // namespace hartonomous::rpc
