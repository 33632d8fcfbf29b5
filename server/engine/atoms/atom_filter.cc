#include "server/engine/atoms/atom_filter.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/json_limits.h"
#include "base/mutex.h"

namespace hartonomous::engine {
namespace {

// Logs that an atom's stored metadata cannot be read, once per atom for the
// life of the process (up to kMaxWarned atoms; then once more, to say so).
void WarnUnreadableMetadata(uint64_t atom_id, const Status& why) {
  constexpr size_t kMaxWarned = 4096;
  static Mutex mu;
  static std::unordered_set<uint64_t> warned GUARDED_BY(mu);
  MutexLock lock(&mu);
  if (warned.size() > kMaxWarned || !warned.insert(atom_id).second) return;
  if (warned.size() > kMaxWarned) {
    spdlog::warn("more atoms with unreadable metadata; no further warnings");
    return;
  }
  spdlog::warn("atom {}: stored {}; it matches no metadata filter", atom_id, why.message());
}

}  // namespace

bool AtomFilter::empty() const {
  return modality.empty() && subtype.empty() && source_type.empty() && !is_active &&
         !created_after_us && !created_before_us && metadata_equals.empty();
}

bool AtomFilter::Matches(const storage::AtomRecord& a) const {
  if (!modality.empty() && a.modality() != modality) return false;
  if (!subtype.empty() && a.subtype() != subtype) return false;
  if (!source_type.empty() && a.source_type() != source_type) return false;
  if (is_active && a.is_active() != *is_active) return false;
  if (created_after_us && a.created_at_us() < *created_after_us) return false;
  if (created_before_us && a.created_at_us() >= *created_before_us) return false;
  if (metadata_equals.empty()) return true;
  if (a.metadata().empty()) return false;
  // Metadata stored by an older server may be nested past the limit: it
  // matches nothing rather than being parsed without a bound.
  auto parsed = ParseJson("metadata", a.metadata());
  if (!parsed.ok()) {
    WarnUnreadableMetadata(a.atom_id(), parsed.status());
    return false;
  }
  const nlohmann::json& json = *parsed;
  if (!json.is_object()) return false;
  for (const auto& [key, want] : metadata_equals) {
    auto v = json.find(key);
    if (v == json.end()) return false;
    const std::string have = v->is_string() ? v->get<std::string>() : v->dump();
    if (have != want) return false;
  }
  return true;
}

}  // namespace hartonomous::engine
