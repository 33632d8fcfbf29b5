// FilteredGraphSearch: a k-nearest-neighbour search over an HNSW graph that
// evaluates a label filter inside the traversal: it stops once its list of
// matching rows can no longer improve, instead of asking an unfiltered
// search for ever more candidates and dropping those that do not match. Its
// cost still grows as matching rows get rarer around the query (it walks
// the rows in between).
//
// The upper levels are descended greedily without the filter (they only
// pick the level-0 entry). At level 0 only matching, not deleted nodes enter
// the result list (up to ef of them, whose worst distance bounds the
// search), while every node is traversed: rejected neighbours are scored
// and expanded like matching ones when they are closer than the bound (on
// clustered data the matching rows nearest a query often sit among rows
// that do not match, reachable only through them). Matching nodes are
// reached early, ACORN-style: when a node has fewer than `expand_to`
// matching unvisited neighbours, the matching neighbours of its rejected
// neighbours (two hops) are scored with them, which fills the result list,
// and so tightens the bound, sooner.
//
// The graph is read through HnswGraphView: hnswlib 0.6's memory layout
// (level-0 blocks of link list + vector + label, upper-level link lists per
// element). The caller keeps the graph from being resized or freed while
// the search runs and may let inserts run alongside (as hnswlib's own
// searchKnn does: links are read as they are).
//
// Distances: the view's functions (the graph's elements: the metric's float
// distance over the kernels chosen for the CPU, or codes); the query is an
// element (floats Prepared, i.e. normalised for cosine, or a code).
//
// Thread-safety: reentrant; each thread uses its own visited marks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/distance.h"
#include "index/vector_index.h"

namespace hartonomous::index {

// An HNSW graph as hnswlib 0.6 lays it out. A link list is a 32-bit header
// (low 16 bits: the number of links; at level 0, bit 0 of byte 2 marks the
// element deleted) followed by 32-bit element ids.
struct HnswGraphView {
  const char* level0 = nullptr;  // element i's block at level0 + i * element_bytes
  size_t element_bytes = 0;
  size_t links0_offset = 0;  // in the block: the level-0 link list
  size_t data_offset = 0;    // the element (the vector's floats, or its code)
  size_t label_offset = 0;   // the label (uint64_t)
  // Element i's level-l list (l >= 1) at upper[i] + (l - 1) * upper_bytes.
  char* const* upper = nullptr;
  size_t upper_bytes = 0;
  size_t capacity = 0;  // every element id is below it
  uint32_t entry = 0;   // the entry point, at level max_level
  int max_level = -1;   // -1: the graph is empty
  // The elements' distance (floats or codes, as the graph stores them; the
  // query is in the same form) as fn(query, element, param), and when set
  // the same abandoned past a bound (BoundedMetricFunction), used wherever
  // only a distance under the current bound matters.
  MetricFunction distance = nullptr;
  BoundedMetricFunction bounded = nullptr;
  const void* param = nullptr;
};

struct FilteredSearchStats {
  size_t scored = 0;         // distances computed
  size_t filter_checks = 0;  // LabelFilter::Matches calls
};

// Up to ef matching neighbours (filter.Matches(label), not deleted), nearest
// first by (distance, label). expand_to: matching neighbours wanted per
// expanded node before two-hop expansion stops (0 = no two-hop expansion).
std::vector<Neighbor> FilteredGraphSearch(const HnswGraphView& graph, const void* query, size_t ef,
                                          size_t expand_to, const LabelFilter& filter,
                                          FilteredSearchStats* stats = nullptr);

}  // namespace hartonomous::index
