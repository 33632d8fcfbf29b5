// Helpers for the decomposer tests: flattening a decomposition as the
// document engine does, reassembling it, and seeded random inputs.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::testing {

inline std::string FlattenPart(const engine::Part& part) {
  if (!part.composite) return part.content;
  std::string out;
  for (const auto& child : part.children) out += FlattenPart(child);
  return out;
}

// Reassembles d through engine::Reassemble, exactly as GetDocument does.
inline Result<std::string> RoundTrip(const engine::Decomposition& d, bool original = false) {
  std::vector<std::string> contents;
  for (const auto& p : d.parts) contents.push_back(FlattenPart(p));
  std::vector<engine::PartView> views;
  for (size_t i = 0; i < d.parts.size(); ++i) {
    views.push_back(engine::PartView{d.parts[i].subtype, contents[i]});
  }
  // Through text, as the manifest stores it.
  const auto info = nlohmann::json::parse(d.info.dump());
  return engine::Reassemble(d.format, info, views, original);
}

inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

inline size_t CountSubtype(const engine::Decomposition& d, const std::string& subtype) {
  size_t n = 0;
  for (const auto& p : d.parts) n += p.subtype == subtype ? 1 : 0;
  return n;
}

}  // namespace hartonomous::testing
