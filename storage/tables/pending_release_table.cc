#include "storage/tables/pending_release_table.h"

#include <string>
#include <string_view>

#include "storage/key_codec.h"

namespace hartonomous::storage {
namespace {

Result<uint64_t> References(std::string_view value, uint64_t atom_id) {
  if (value.size() != sizeof(uint64_t)) {
    return Status::DataLoss("atom_pending_releases: the entry of atom " + std::to_string(atom_id) +
                            " is corrupt");
  }
  return ReadBe64(value);
}

}  // namespace

Status PendingReleaseTable::Add(WriteTxn& txn, uint64_t atom_id, uint64_t references) const {
  if (references == 0) return Status::InvalidArgument("references: must be at least 1");
  const std::string key = Be64Key(atom_id);
  std::string_view value;
  HT_ASSIGN_OR_RETURN(bool found, txn.Get(dbi_, key, &value));
  uint64_t total = references;
  if (found) {
    HT_ASSIGN_OR_RETURN(uint64_t queued, References(value, atom_id));
    total += queued;
  }
  return txn.Put(dbi_, key, Be64Key(total));
}

Status PendingReleaseTable::Scan(
    Txn& txn, const std::function<bool(uint64_t atom_id, uint64_t references)>& visit) const {
  auto cursor = txn.OpenCursor(dbi_);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->First());
  while (valid) {
    if (cursor->key().size() != sizeof(uint64_t)) {
      return Status::DataLoss("atom_pending_releases: a key is corrupt");
    }
    const uint64_t atom_id = ReadBe64(cursor->key());
    HT_ASSIGN_OR_RETURN(uint64_t references, References(cursor->value(), atom_id));
    if (!visit(atom_id, references)) return Status::Ok();
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return Status::Ok();
}

Status PendingReleaseTable::Remove(WriteTxn& txn, uint64_t atom_id) const {
  return txn.Del(dbi_, Be64Key(atom_id)).status();
}

Result<uint64_t> PendingReleaseTable::Count(Txn& txn) const { return txn.Count(dbi_); }

}  // namespace hartonomous::storage
