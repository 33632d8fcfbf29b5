#include "index/filtered_search.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <queue>
#include <utility>

#include "index/distance.h"

namespace hartonomous::index {
namespace {

// Per-thread visited marks: a node is visited when its mark equals the
// current tag; a new search takes the next tag (clearing on wrap-around).
class VisitedMarks {
 public:
  void Start(size_t capacity) {
    if (marks_.size() < capacity) marks_.resize(capacity, 0);
    if (++tag_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      tag_ = 1;
    }
  }
  bool Visited(uint32_t id) const { return marks_[id] == tag_; }
  void Mark(uint32_t id) { marks_[id] = tag_; }

 private:
  std::vector<uint16_t> marks_;
  uint16_t tag_ = 0;
};

VisitedMarks& ThreadMarks() {
  thread_local VisitedMarks marks;
  return marks;
}

// Reads of one graph's blocks.
class Graph {
 public:
  explicit Graph(const HnswGraphView& v) : v_(v) {}
  const uint32_t* Links0(uint32_t id, size_t* count) const {
    return List(v_.level0 + size_t{id} * v_.element_bytes + v_.links0_offset, count);
  }
  const uint32_t* Links(uint32_t id, int level, size_t* count) const {
    return List(v_.upper[id] + static_cast<size_t>(level - 1) * v_.upper_bytes, count);
  }
  bool Deleted(uint32_t id) const {
    const auto* header = reinterpret_cast<const unsigned char*>(
        v_.level0 + size_t{id} * v_.element_bytes + v_.links0_offset);
    return (header[2] & 0x01) != 0;
  }
  const void* Element(uint32_t id) const {
    return v_.level0 + size_t{id} * v_.element_bytes + v_.data_offset;
  }
  uint64_t Label(uint32_t id) const {
    uint64_t label;
    std::memcpy(&label, v_.level0 + size_t{id} * v_.element_bytes + v_.label_offset, sizeof(label));
    return label;
  }
  void Prefetch(uint32_t id) const {
    const char* p = v_.level0 + size_t{id} * v_.element_bytes + v_.data_offset;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
  }

 private:
  static const uint32_t* List(const char* at, size_t* count) {
    uint32_t header;
    std::memcpy(&header, at, sizeof(header));
    *count = header & 0xffffu;
    return reinterpret_cast<const uint32_t*>(at) + 1;
  }
  const HnswGraphView& v_;
};

using Scored = std::pair<float, uint32_t>;  // (distance, element id)

}  // namespace

std::vector<Neighbor> FilteredGraphSearch(const HnswGraphView& view, const void* query, size_t ef,
                                          size_t expand_to, const LabelFilter& filter,
                                          FilteredSearchStats* stats) {
  std::vector<Neighbor> out;
  if (view.max_level < 0 || ef == 0) return out;
  const Graph g(view);
  const MetricFunction metric = view.distance;
  const BoundedMetricFunction bounded = view.bounded;
  const void* param = view.param;
  size_t scored = 0, checks = 0;
  // The distance, or with a bounded function possibly some value > bound
  // when it exceeds it.
  auto distance = [&](uint32_t id, float bound) {
    ++scored;
    return bounded != nullptr ? bounded(query, g.Element(id), param, bound)
                              : metric(query, g.Element(id), param);
  };
  auto matches = [&](uint32_t id) {
    ++checks;
    return filter.Matches(g.Label(id));
  };
  constexpr float kInf = std::numeric_limits<float>::infinity();

  // Upper levels: greedy, unfiltered.
  uint32_t cur = view.entry;
  float cur_dist = distance(cur, kInf);
  for (int level = view.max_level; level > 0; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      size_t n = 0;
      const uint32_t* links = g.Links(cur, level, &n);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t c = links[i];
        if (c >= view.capacity) continue;
        const float d = distance(c, cur_dist);
        if (d < cur_dist) {
          cur_dist = d;
          cur = c;
          changed = true;
        }
      }
    }
  }

  // Level 0: candidates (min-heap) hold every node scored below the bound;
  // results (max-heap) the best ef matching, not deleted ones, whose worst
  // is the bound.
  VisitedMarks& visited = ThreadMarks();
  visited.Start(view.capacity);
  std::priority_queue<Scored, std::vector<Scored>, std::greater<Scored>> candidates;
  std::priority_queue<Scored> results;
  auto bound = [&] { return results.size() < ef ? kInf : results.top().first; };
  // Takes a scored node into the candidates, and the results if it matches.
  auto admit = [&](uint32_t x, float dx, bool match) {
    candidates.emplace(dx, x);
    if (match && !g.Deleted(x)) {
      results.emplace(dx, x);
      if (results.size() > ef) results.pop();
    }
  };
  visited.Mark(cur);
  admit(cur, cur_dist, matches(cur));

  std::vector<uint32_t> next;      // matching, unvisited (two-hop) neighbours
  std::vector<uint32_t> rejected;  // unvisited neighbours that do not match
  while (!candidates.empty()) {
    const auto [d, c] = candidates.top();
    if (d > bound()) break;
    candidates.pop();
    next.clear();
    rejected.clear();
    size_t n = 0;
    const uint32_t* links = g.Links0(c, &n);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t x = links[i];
      if (x >= view.capacity || visited.Visited(x)) continue;
      visited.Mark(x);
      (matches(x) ? next : rejected).push_back(x);
    }
    for (size_t r = 0; r < rejected.size() && next.size() < expand_to; ++r) {
      size_t m = 0;
      const uint32_t* second = g.Links0(rejected[r], &m);
      for (size_t i = 0; i < m && next.size() < expand_to; ++i) {
        const uint32_t x = second[i];
        if (x >= view.capacity || visited.Visited(x) || !matches(x)) continue;
        visited.Mark(x);
        next.push_back(x);
      }
    }
    for (size_t i = 0; i < next.size(); ++i) {
      if (i + 1 < next.size()) g.Prefetch(next[i + 1]);
      const float limit = bound();
      const float dx = distance(next[i], limit);
      if (dx < limit) admit(next[i], dx, true);
    }
    for (size_t i = 0; i < rejected.size(); ++i) {
      if (i + 1 < rejected.size()) g.Prefetch(rejected[i + 1]);
      const float limit = bound();
      const float dx = distance(rejected[i], limit);
      if (dx < limit) admit(rejected[i], dx, false);
    }
  }

  out.reserve(results.size());
  while (!results.empty()) {
    out.push_back({g.Label(results.top().second), results.top().first});
    results.pop();
  }
  SortAndTruncate(&out, out.size());
  if (stats != nullptr) {
    stats->scored += scored;
    stats->filter_checks += checks;
  }
  return out;
}

}  // namespace hartonomous::index
