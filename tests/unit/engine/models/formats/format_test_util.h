// Helpers for the model-format tests: seeded bytes, hand-made files, and
// assertions on refusals.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/engine/models/formats/model_layout.h"

namespace hartonomous::engine::models::testing {

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

inline std::string Le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file from literal header JSON and data bytes.
inline std::string RawSafetensors(std::string_view json, std::string_view data) {
  return Le64(json.size()) + std::string(json) + std::string(data);
}

// REQUIREs status to be INVALID_ARGUMENT with every needle in its message.
inline void RequireInvalid(const Status& status, std::initializer_list<std::string_view> needles) {
  INFO(status.ToString());
  REQUIRE(status.code() == Status::Code::kInvalidArgument);
  for (std::string_view n : needles) {
    INFO("expected in message: " << n);
    CHECK(status.message().find(n) != std::string::npos);
  }
}

// REQUIREs the layout to be valid and its segments to rebuild file.
inline void RequireRoundTrip(const ModelLayout& layout, std::string_view file) {
  REQUIRE(ValidateLayout(layout).ok());
  REQUIRE(layout.file_size == file.size());
  REQUIRE(ConcatenateSegments(layout, file) == file);
}

}  // namespace hartonomous::engine::models::testing
