// AtomFilter: the one predicate over an atom's fields, shared by listing
// (AtomEngine::List, the ListAtoms RPC) and by the atom filters of vector
// searches (Search, HybridSearch; the search RPCs' AtomFilter). Every field
// left at its default accepts any atom.
//
// Stored metadata nested deeper than kMaxJsonDepth (written by an older
// server that did not bound it) is never parsed without the bound: such an
// atom matches no metadata filter, and is logged once per atom.
//
// Thread-safety: a value type; Matches is safe from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/records.pb.h"

namespace hartonomous::engine {

struct AtomFilter {
  std::string modality;     // empty = any
  std::string subtype;      // empty = any
  std::string source_type;  // empty = any
  // nullopt = any; true = active atoms only (a search's active_only);
  // false = inactive atoms only.
  std::optional<bool> is_active;
  std::optional<int64_t> created_after_us;   // inclusive
  std::optional<int64_t> created_before_us;  // exclusive
  // Top-level metadata keys: a JSON string value compares as text, any other
  // value as its compact JSON text ("3", "true", "[1,2]"). An atom without
  // metadata, or whose metadata is not a JSON object, matches none.
  std::vector<std::pair<std::string, std::string>> metadata_equals;

  // True when every field accepts any atom.
  bool empty() const;
  bool Matches(const storage::AtomRecord& atom) const;
};

}  // namespace hartonomous::engine
