// Atom record codec: the stored form of an AtomRecord (schema version 5) and
// the full record a read returns. The stored form leaves out what the row's
// key and its other fields already say, which is a fifth of a small atom's
// record (sentences, image patches):
//   - atom_id: the row's key, be64(atom_id);
//   - updated_at_us when it equals created_at_us (absent: created_at_us);
//   - modality and subtype when they are well-known names: their codes go
//     into AtomRecord.kind (modality code + 16 * subtype code, 0 = the name
//     is in its string field). The code lists below are part of the format:
//     names are only ever appended;
//   - metadata that is exactly an image patch's shape as the image
//     decomposer writes it ({"bytes_per_sample":B,"channels":C,"height":H,
//     "width":W}, the same text on every patch) as AtomRecord.patch_shape
//     [B, C, H, W]; any other text, spacing or key order stays text.
// Rows written before version 5 (every field present, kind 0) read
// unchanged.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/records.pb.h"
#include "storage/tables/record_codec.h"

namespace hartonomous::storage {

// Index = code; code 0 is "not coded".
inline constexpr std::string_view kAtomModalityCodes[] = {"",      "text",   "image", "audio",
                                                          "video", "tensor", "binary"};
inline constexpr std::string_view kAtomSubtypeCodes[] = {
    "",      "document", "paragraph", "sentence",     "separator", "patch",         "header",
    "frame", "trailer",  "chunk",     "frame_header", "padding",   "inference_text"};

// The record as it is stored: *stored is atom without the fields above.
void ToStoredAtomRecord(const AtomRecord& atom, AtomRecord* stored);

// Puts back what the stored form of the row keyed atom_id left out.
// DataLoss "atoms: record <id> is corrupt" for a kind naming no code or
// beside a string it would replace, and for a patch_shape that is not four
// numbers or is beside metadata.
Status RestoreAtomRecord(uint64_t atom_id, AtomRecord* atom);

// The metadata text of a patch of that shape, as the image decomposer
// writes it.
std::string PatchShapeMetadata(uint32_t bytes_per_sample, uint32_t channels, uint32_t height,
                               uint32_t width);

// ParseRecord + RestoreAtomRecord: the full record of a stored row.
Result<AtomRecord> ParseAtomRecord(std::string_view bytes, uint64_t atom_id);

// Every IdTable<AtomRecord> read returns the full record.
template <>
struct StoredRecordForm<AtomRecord> {
  static Status Restore(uint64_t id, AtomRecord* record) { return RestoreAtomRecord(id, record); }
};

}  // namespace hartonomous::storage
