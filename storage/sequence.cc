#include "storage/sequence.h"

#include "storage/key_codec.h"

namespace hartonomous::storage {

Result<uint64_t> Sequence::Next() {
  if (!loaded_) {
    std::string_view value;
    HT_ASSIGN_OR_RETURN(bool found, txn_.Get(dbi_, name_, &value));
    if (found && value.size() != 8) return Status::DataLoss("sequence " + name_ + ": malformed");
    last_ = found ? ReadBe64(value) : 0;
    loaded_ = true;
  }
  dirty_ = true;
  return ++last_;
}

Status Sequence::Flush() {
  if (!dirty_) return Status::Ok();
  dirty_ = false;
  return txn_.Put(dbi_, name_, Be64Key(last_));
}

}  // namespace hartonomous::storage
