// The values of one field across a sequence of results, for comparing ids
// and labels in order.
#pragma once

#include <vector>

namespace hartonomous::testing {

// item.*field for each item, in order: FieldOf(hits, &SearchHit::atom_id).
template <typename Items, typename T, typename F>
std::vector<F> FieldOf(const Items& items, F T::*field) {
  std::vector<F> out;
  for (const auto& item : items) out.push_back(item.*field);
  return out;
}

}  // namespace hartonomous::testing
