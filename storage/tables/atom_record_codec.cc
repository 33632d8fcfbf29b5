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

Status Corrupt(uint64_t atom_id) {
  return Status::DataLoss("atoms: record " + std::to_string(atom_id) + " is corrupt");
}

}  // namespace

void ToStoredAtomRecord(const AtomRecord& atom, AtomRecord* stored) {
  *stored = atom;
  stored->clear_atom_id();
  if (stored->updated_at_us() == stored->created_at_us()) stored->clear_updated_at_us();
  const uint32_t modality = CodeOf(kAtomModalityCodes, atom.modality());
  const uint32_t subtype = CodeOf(kAtomSubtypeCodes, atom.subtype());
  if (modality != 0) stored->clear_modality();
  if (subtype != 0) stored->clear_subtype();
  stored->set_kind(modality + kModalityCodes * subtype);
}

Status RestoreAtomRecord(uint64_t atom_id, AtomRecord* atom) {
  atom->set_atom_id(atom_id);
  if (atom->updated_at_us() == 0) atom->set_updated_at_us(atom->created_at_us());
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
