#include "server/rpc/atom/policy_convert.h"

#include <algorithm>

#include "server/rpc/atom/atom_convert.h"

namespace hartonomous::rpc {
storage::PolicyRecord ToPolicyRecord(const v1::DeduplicationPolicy& p) {
  storage::PolicyRecord r;
  r.set_policy_name(p.policy_name());
  r.set_hash_enabled(p.hash_enabled());
  r.set_has_semantic_threshold(p.has_semantic_threshold());
  r.set_semantic_threshold(p.semantic_threshold());
  r.set_has_spatial_threshold(p.has_spatial_threshold());
  r.set_spatial_threshold(p.spatial_threshold());
  r.set_is_active(p.is_active());
  r.set_metadata(p.metadata());
  return r;
}

void ToProto(const storage::PolicyRecord& r, v1::DeduplicationPolicy* out) {
  out->set_policy_id(r.policy_id());
  out->set_policy_name(r.policy_name());
  out->set_hash_enabled(r.hash_enabled());
  if (r.has_semantic_threshold()) out->set_semantic_threshold(r.semantic_threshold());
  if (r.has_spatial_threshold()) out->set_spatial_threshold(r.spatial_threshold());
  out->set_is_active(r.is_active());
  out->set_metadata(r.metadata());
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
  ToTimestamp(r.updated_at_us(), out->mutable_updated_at());
}

engine::PolicyPatch ToPolicyPatch(const v1::DeduplicationPolicy& p,
                                  const google::protobuf::FieldMask& mask) {
  auto wants = [&mask](const char* path) {
    return mask.paths_size() == 0 ||
           std::find(mask.paths().begin(), mask.paths().end(), path) != mask.paths().end();
  };
  engine::PolicyPatch patch;
  if (wants("policy_name")) patch.policy_name = p.policy_name();
  if (wants("hash_enabled")) patch.hash_enabled = p.hash_enabled();
  if (wants("semantic_threshold")) {
    patch.semantic_threshold =
        p.has_semantic_threshold() ? std::optional<double>(p.semantic_threshold()) : std::nullopt;
  }
  if (wants("spatial_threshold")) {
    patch.spatial_threshold =
        p.has_spatial_threshold() ? std::optional<double>(p.spatial_threshold()) : std::nullopt;
  }
  if (wants("is_active")) patch.is_active = p.is_active();
  if (wants("metadata")) patch.metadata = p.metadata();
  return patch;
}

}  // namespace hartonomous::rpc
