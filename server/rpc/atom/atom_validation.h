// Field-by-field validation of hartonomous.v1.AtomService requests (atoms,
// documents, relations, policies), table-driven. Each rule names the field
// and the rule in its message ("modality: must match [a-z0-9_-]{1,32}").
// Runs before any proto -> domain conversion; the engine trusts its result.
// The rules shared with other services are in common/validation.h.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/field_mask.pb.h>

#include <cstddef>
#include <string_view>

#include "base/status.h"
#include "hartonomous/v1/atom_service.pb.h"
#include "server/engine/documents/decompose/decomposition.h"
#include "server/rpc/common/validation.h"

namespace hartonomous::rpc {

struct Limits {
  // Largest atom content accepted. Default: 64 MiB (--max-content-bytes).
  size_t max_content_bytes = size_t{64} << 20;
  // Largest total content of one IngestAtoms stream. Default: 256 MiB.
  size_t max_batch_bytes = size_t{256} << 20;
  // Largest response of a read RPC (engine::ResponseBudget). Default:
  // 256 MiB (--max-response-bytes).
  size_t max_response_bytes = size_t{256} << 20;
};

// field: the path used in messages, e.g. "atoms[3]".
Status ValidateIngest(const v1::IngestAtomRequest& request, const Limits& limits,
                      std::string_view field_prefix = "");
Status ValidateGetAtom(const v1::GetAtomRequest& request);
Status ValidateListAtoms(const v1::ListAtomsRequest& request);
Status ValidateTopN(int32_t top_n);

// policy: the fields of a policy to create or of an update (mask paths
// only, when mask is non-empty).
Status ValidatePolicy(const v1::DeduplicationPolicy& policy,
                      const google::protobuf::FieldMask* mask = nullptr);
// The oneof key of Get/DeletePolicy.
Status ValidatePolicyKey(uint64_t policy_id, std::string_view policy_name, bool key_set);
// The first message of an IngestDocument stream (its non-content fields).
Status ValidateDocumentHeader(const v1::IngestDocumentRequest& request);
// Options with 0 = default filled in; the ranges are checked by
// engine::ValidateOptions (messages name options.<field>).
engine::DecomposeOptions ToDecomposeOptions(const v1::DecompositionOptions& options);
Status ValidateDocumentId(uint64_t document_id);
// document_id > 0 or a source_uri (at most 2048 bytes), or both.
Status ValidateDeleteDocument(const v1::DeleteDocumentRequest& request);
Status ValidateAddRelations(const v1::AddRelationsRequest& request);
Status ValidateListRelations(const v1::ListRelationsRequest& request);
Status ValidateTraverse(const v1::TraverseRelationsRequest& request);
// [a-z0-9_-]{1,32}
bool IsRelationType(std::string_view type);

int EffectiveTopN(int32_t top_n);

// Byte limit of relation metadata (JSON, see ValidateJsonObject).
inline constexpr size_t kMaxRelationMetadataBytes = size_t{1} << 16;

}  // namespace hartonomous::rpc
