#include "index/label_slots.h"

#include <catch2/catch.hpp>
#include <random>
#include <unordered_map>

using hartonomous::index::LabelSlots;

TEST_CASE("label slots find what was inserted, through growth, and nothing else") {
  LabelSlots slots;
  CHECK_FALSE(slots.Find(1).has_value());
  std::mt19937_64 rng(3);
  std::unordered_map<uint64_t, uint32_t> expected;
  for (uint32_t i = 0; i < 50000; ++i) {
    const uint64_t label = i % 7 == 0 ? i : rng();  // dense and random labels
    slots.Insert(label, i);
    expected[label] = i;
  }
  CHECK(slots.size() == expected.size());
  for (const auto& [label, slot] : expected) REQUIRE(slots.Find(label) == slot);
  size_t stray = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t label = rng();
    if (expected.count(label) == 0) stray += slots.Find(label).has_value();
  }
  CHECK(stray == 0);
  // Overwrite keeps the size.
  const uint64_t some = expected.begin()->first;
  slots.Insert(some, 7);
  CHECK(slots.Find(some) == 7u);
  CHECK(slots.size() == expected.size());
  // Label 0 and the largest label are ordinary keys.
  slots.Insert(0, 1);
  slots.Insert(UINT64_MAX, 2);
  CHECK(slots.Find(0) == 1u);
  CHECK(slots.Find(UINT64_MAX) == 2u);
}

TEST_CASE("dense labels go to the direct array in either order, sparse ones to the table") {
  {
    LabelSlots ascending;
    for (uint32_t i = 0; i < 20000; ++i) ascending.Insert(1000 + i, i);
    CHECK(ascending.dense_count() == 20000);
    for (uint32_t i = 0; i < 20000; ++i) REQUIRE(ascending.Find(1000 + i) == i);
    CHECK_FALSE(ascending.Find(999).has_value());
    CHECK_FALSE(ascending.Find(21000).has_value());
  }
  {
    LabelSlots descending;
    for (uint32_t i = 0; i < 20000; ++i) descending.Insert(50000 - i, i);
    CHECK(descending.dense_count() == 20000);
    for (uint32_t i = 0; i < 20000; ++i) REQUIRE(descending.Find(50000 - i) == i);
  }
  {
    // Labels a million apart never widen the window past a quarter full.
    LabelSlots sparse;
    for (uint32_t i = 0; i < 5000; ++i) sparse.Insert(uint64_t{i} * 1000000, i);
    CHECK(sparse.size() == 5000);
    CHECK(sparse.dense_count() <= 1);
    for (uint32_t i = 0; i < 5000; ++i) REQUIRE(sparse.Find(uint64_t{i} * 1000000) == i);
  }
  {
    // 9000 is too far below 10000 at first and is hashed; the window then
    // grows down to it and takes it over.
    LabelSlots moved;
    moved.Insert(10000, 0);
    moved.Insert(9000, 1);
    CHECK(moved.dense_count() == 1);
    for (uint32_t label = 9999; label > 9000; --label) moved.Insert(label, label);
    CHECK(moved.size() == 1001);
    CHECK(moved.dense_count() == 1001);
    CHECK(moved.Find(9000) == 1u);
    CHECK(moved.Find(10000) == 0u);
    CHECK(moved.Find(9500) == 9500u);
    moved.Insert(9000, 2);  // overwrite in the window
    CHECK(moved.Find(9000) == 2u);
    CHECK(moved.size() == 1001);
  }
}
