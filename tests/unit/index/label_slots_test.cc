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
