// Conversions between hartonomous.v1 DeduplicationPolicy messages and
// storage records / engine patches.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/field_mask.pb.h>

#include "hartonomous/v1/atom_service.pb.h"
#include "server/engine/dedup/policy_engine.h"

namespace hartonomous::rpc {

storage::PolicyRecord ToPolicyRecord(const v1::DeduplicationPolicy& policy);
void ToProto(const storage::PolicyRecord& record, v1::DeduplicationPolicy* out);
// REQUIRES: the mask was validated (ValidatePolicy). Empty mask = every field.
engine::PolicyPatch ToPolicyPatch(const v1::DeduplicationPolicy& policy,
                                  const google::protobuf::FieldMask& mask);

}  // namespace hartonomous::rpc
