#include "server/engine/vectors/filter_matches.h"

#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "storage/tables/atom_table.h"
#include "storage/tables/embedding_table.h"

namespace hartonomous::engine {
namespace {

// A dense bitmap when it costs at most this many bits per matching label.
constexpr uint64_t kMaxBitsPerLabel = 64;

void AppendField(std::string* key, std::string_view field) {
  key->append(std::to_string(field.size()));
  key->push_back(':');
  key->append(field);
}

// An unambiguous text for the filter (fields length-prefixed).
std::string FilterKey(const AtomFilter& f) {
  std::string key;
  AppendField(&key, f.modality);
  AppendField(&key, f.subtype);
  AppendField(&key, f.source_type);
  AppendField(&key, f.is_active ? (*f.is_active ? "1" : "0") : "");
  AppendField(&key, f.created_after_us ? std::to_string(*f.created_after_us) : "");
  AppendField(&key, f.created_before_us ? std::to_string(*f.created_before_us) : "");
  for (const auto& [name, value] : f.metadata_equals) {
    AppendField(&key, name);
    AppendField(&key, value);
  }
  return key;
}

}  // namespace

FilterMatches::FilterMatches(std::vector<uint64_t> labels, size_t rows)
    : labels_(std::move(labels)), rows_(rows) {
  if (labels_.empty()) return;
  first_ = labels_.front();
  const uint64_t span = labels_.back() - first_ + 1;
  if (span / kMaxBitsPerLabel > labels_.size()) return;
  bits_.assign(span / 64 + 1, 0);
  for (uint64_t l : labels_) bits_[(l - first_) / 64] |= uint64_t{1} << ((l - first_) % 64);
}

Result<std::shared_ptr<const FilterMatches>> FilterMatches::Build(storage::Txn& txn,
                                                                  const storage::Tables& tables,
                                                                  uint64_t collection_id,
                                                                  const AtomFilter& filter) {
  const storage::EmbeddingTable rows(tables);
  const storage::AtomTable atoms(tables);
  std::vector<uint64_t> labels;
  size_t scanned = 0;
  HT_RETURN_IF_ERROR(
      rows.Scan(txn, collection_id, 0, [&](const storage::EmbeddingRef& ref) -> Status {
        ++scanned;
        HT_ASSIGN_OR_RETURN(auto atom, atoms.Get(txn, ref.atom_id()));
        if (atom && filter.Matches(*atom)) labels.push_back(ref.embedding_id());
        return Status::Ok();
      }));
  std::sort(labels.begin(), labels.end());  // the scan's order already; kept as a contract
  return std::shared_ptr<const FilterMatches>(new FilterMatches(std::move(labels), scanned));
}

bool FilterMatches::Matches(uint64_t label) const {
  if (!bits_.empty()) {
    if (label < first_) return false;
    const uint64_t at = label - first_;
    if (at / 64 >= bits_.size()) return false;
    return (bits_[at / 64] >> (at % 64)) & 1;
  }
  return std::binary_search(labels_.begin(), labels_.end(), label);
}

double FilterMatches::selectivity() const {
  return rows_ == 0 ? 0.0 : static_cast<double>(labels_.size()) / static_cast<double>(rows_);
}

SnapshotId SnapshotOf(const storage::Env& env, const storage::Txn& txn) {
  SnapshotId id;
  id.txn_id = static_cast<uint64_t>(mdb_txn_id(txn.raw()));
  mdb_filehandle_t fd;
  struct stat st;
  if (mdb_env_get_fd(env.raw(), &fd) == 0 && ::fstat(fd, &st) == 0) {
    id.file = (static_cast<uint64_t>(st.st_dev) << 32) ^ static_cast<uint64_t>(st.st_ino);
  }
  return id;
}

FilterMatchCache::Found FilterMatchCache::Find(uint64_t collection_id, const AtomFilter& filter,
                                               SnapshotId snapshot) const {
  const std::string key = FilterKey(filter);
  MutexLock lock(&mu_);
  if (snapshot.file != file_) {  // compacted: another file, transaction ids start over
    entries_.clear();
    file_ = snapshot.file;
  }
  for (auto& e : entries_) {
    if (e.collection_id != collection_id || e.key != key) continue;
    e.used = ++clock_;
    Found found;
    found.selectivity = e.matches->selectivity();
    if (e.snapshot == snapshot) found.matches = e.matches;
    return found;
  }
  return {};
}

void FilterMatchCache::Put(uint64_t collection_id, const AtomFilter& filter, SnapshotId snapshot,
                           std::shared_ptr<const FilterMatches> matches) {
  std::string key = FilterKey(filter);
  MutexLock lock(&mu_);
  if (snapshot.file != file_) return;  // built in a file compacted since
  for (auto& e : entries_) {
    if (e.collection_id != collection_id || e.key != key) continue;
    e.snapshot = snapshot;
    e.matches = std::move(matches);
    e.used = ++clock_;
    return;
  }
  if (entries_.size() >= kMaxEntries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const Entry& a, const Entry& b) { return a.used < b.used; });
    entries_.erase(oldest);
  }
  entries_.push_back(Entry{collection_id, std::move(key), snapshot, std::move(matches), ++clock_});
}

}  // namespace hartonomous::engine
