#include "storage/tables/atom_record_codec.h"

#include <iterator>
#include <string>

namespace hartonomous::storage {
namespace {

constexpr uint32_t kModalityCodes = 16;  // kind = modality + kModalityCodes * subtype
static_assert(std::size(kAtomModalityCodes) <= kModalityCodes);

template <size_t N>
uint32_t CodeOf(const std::string_view (&codes)[N], const std::string& name) {
  if (name.empty()) return 0;
  for (uint32_t i = 1; i < N; ++i) {
    if (codes[i] == name) return i;
  }
  return 0;
}

// Reads a decimal uint32 at *at; advances past it.
bool ReadNumber(std::string_view text, size_t* at, uint32_t* out) {
  uint64_t value = 0;
  const size_t begin = *at;
  while (*at < text.size() && text[*at] >= '0' && text[*at] <= '9' && *at - begin < 10) {
    value = value * 10 + static_cast<uint64_t>(text[*at] - '0');
    ++*at;
  }
  if (*at == begin || value > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

// [B, C, H, W] when metadata is exactly PatchShapeMetadata(B, C, H, W).
bool ParsePatchShape(std::string_view text, uint32_t shape[4]) {
  static constexpr std::string_view kKeys[] = {
      "{\"bytes_per_sample\":", ",\"channels\":", ",\"height\":", ",\"width\":"};
  size_t at = 0;
  for (int i = 0; i < 4; ++i) {
    if (text.substr(at, kKeys[i].size()) != kKeys[i]) return false;
    at += kKeys[i].size();
    if (!ReadNumber(text, &at, &shape[i])) return false;
  }
  // Written back exactly (no leading zeros, nothing after the brace).
  return text == PatchShapeMetadata(shape[0], shape[1], shape[2], shape[3]);
}

Status Corrupt(uint64_t atom_id) {
  return Status::DataLoss("atoms: record " + std::to_string(atom_id) + " is corrupt");
}

}  // namespace

std::string PatchShapeMetadata(uint32_t bytes_per_sample, uint32_t channels, uint32_t height,
                               uint32_t width) {
  return "{\"bytes_per_sample\":" + std::to_string(bytes_per_sample) +
         ",\"channels\":" + std::to_string(channels) + ",\"height\":" + std::to_string(height) +
         ",\"width\":" + std::to_string(width) + "}";
}

void ToStoredAtomRecord(const AtomRecord& atom, AtomRecord* stored) {
  *stored = atom;
  stored->clear_atom_id();
  if (stored->updated_at_us() == stored->created_at_us()) stored->clear_updated_at_us();
  const uint32_t modality = CodeOf(kAtomModalityCodes, atom.modality());
  const uint32_t subtype = CodeOf(kAtomSubtypeCodes, atom.subtype());
  if (modality != 0) stored->clear_modality();
  if (subtype != 0) stored->clear_subtype();
  stored->set_kind(modality + kModalityCodes * subtype);
  if (uint32_t shape[4]; !atom.metadata().empty() && ParsePatchShape(atom.metadata(), shape)) {
    stored->clear_metadata();
    stored->mutable_patch_shape()->Add(shape, shape + 4);
  }
}

Status RestoreAtomRecord(uint64_t atom_id, AtomRecord* atom) {
  atom->set_atom_id(atom_id);
  if (atom->updated_at_us() == 0) atom->set_updated_at_us(atom->created_at_us());
  if (const auto& shape = atom->patch_shape(); !shape.empty()) {
    if (shape.size() != 4 || !atom->metadata().empty()) return Corrupt(atom_id);
    atom->set_metadata(PatchShapeMetadata(shape[0], shape[1], shape[2], shape[3]));
    atom->clear_patch_shape();
  }
  const uint32_t kind = atom->kind();
  if (kind == 0) return Status::Ok();
  const uint32_t modality = kind % kModalityCodes;
  const uint32_t subtype = kind / kModalityCodes;
  if (modality >= std::size(kAtomModalityCodes) || subtype >= std::size(kAtomSubtypeCodes) ||
      (modality != 0 && !atom->modality().empty()) || (subtype != 0 && !atom->subtype().empty())) {
    return Corrupt(atom_id);
  }
  if (modality != 0) atom->set_modality(std::string(kAtomModalityCodes[modality]));
  if (subtype != 0) atom->set_subtype(std::string(kAtomSubtypeCodes[subtype]));
  atom->clear_kind();
  return Status::Ok();
}

Result<AtomRecord> ParseAtomRecord(std::string_view bytes, uint64_t atom_id) {
  HT_ASSIGN_OR_RETURN(AtomRecord atom, ParseRecord<AtomRecord>(bytes, "atoms", atom_id));
  HT_RETURN_IF_ERROR(RestoreAtomRecord(atom_id, &atom));
  return atom;
}

}  // namespace hartonomous::storage
