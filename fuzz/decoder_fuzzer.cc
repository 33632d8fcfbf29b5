// libFuzzer target for one decomposer (chosen at build time by
// HT_FUZZ_FORMAT): any input must either decompose and reassemble to
// exactly the input (the PNG/JPEG original with keep_original), or fail with
// INVALID_ARGUMENT — never crash, hang, or return another error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/engine/documents/decompose/decomposition.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

std::string Flatten(const Part& part) {
  if (!part.composite) return part.content;
  std::string out;
  for (const auto& child : part.children) out += Flatten(child);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  DecomposeOptions options;
  options.format = HT_FUZZ_FORMAT;
  options.patch_width = 8;
  options.patch_height = 8;
  options.keep_original = true;
  options.max_raster_bytes = 64 << 20;  // libFuzzer's default -rss_limit_mb is 2048
  auto d = Decompose(input, "", options);
  if (!d.ok()) {
    if (d.status().code() != Status::Code::kInvalidArgument) std::abort();
    return 0;
  }
  std::vector<std::string> contents;
  std::vector<PartView> views;
  for (const auto& p : d->parts) contents.push_back(Flatten(p));
  for (size_t i = 0; i < d->parts.size(); ++i)
    views.push_back(PartView{d->parts[i].subtype, contents[i]});
  const auto info = nlohmann::json::parse(d->info.dump());
  auto back = Reassemble(d->format, info, views, /*original=*/true);
  if (!back.ok() || *back != input) std::abort();
  return 0;
}
