// libFuzzer target for the JSON every request field and stored record goes
// through: ParseJson (depth-bounded, non-recursive) and ParseJsonObject (the
// request-field check). For any input:
//   - neither crashes, hangs or recurses per level (the input may be nested
//     65,536 deep; ASan's stack limit catches recursion);
//   - a failure is INVALID_ARGUMENT;
//   - ParseJson agrees with nlohmann's own unbounded parse: the same value
//     when that value is nested at most kMaxJsonDepth deep, a depth error
//     when it is deeper, a failure when nlohmann fails;
//   - an accepted value survives dump() and a re-parse unchanged;
//   - ParseJsonObject accepts exactly the empty text and JSON objects that
//     ParseJson accepts within the byte limit.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_limits.h"

using namespace hartonomous;

namespace {

// Nesting depth without recursion (a value may be 65,536 levels deep).
size_t Depth(const nlohmann::json& root) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&root, 0}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const auto& child : *v) stack.emplace_back(&child, d + 1);
  }
  return deepest;
}

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto bounded = ParseJson("metadata", text);
  if (!bounded.ok()) Require(bounded.status().code() == Status::Code::kInvalidArgument);

  // nlohmann's parser is iterative; its DOM destructor too (3.10+).
  nlohmann::json reference = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (reference.is_discarded()) {
    Require(!bounded.ok());
  } else if (Depth(reference) > kMaxJsonDepth) {
    Require(!bounded.ok());
    Require(bounded.status().message() == "metadata: JSON nested deeper than 64 levels");
  } else {
    Require(bounded.ok());
    Require(*bounded == reference);  // recursive, but at most 64 levels
  }

  if (bounded.ok()) {
    auto again = ParseJson("metadata", bounded->dump());
    Require(again.ok());
    Require(*again == *bounded);
    auto ordered = ParseOrderedJson("metadata", text);
    Require(ordered.ok());
  }

  constexpr size_t kMaxBytes = 4096;
  auto object = ParseJsonObject("metadata", text, kMaxBytes);
  const bool want = size <= kMaxBytes && (size == 0 || (bounded.ok() && bounded->is_object()));
  Require(object.ok() == want);
  if (!object.ok()) Require(object.status().code() == Status::Code::kInvalidArgument);
  if (object.ok()) Require(object->is_object());
  return 0;
}
