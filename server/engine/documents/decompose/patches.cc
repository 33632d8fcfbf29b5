#include "server/engine/documents/decompose/patches.h"

#include <cstring>

namespace hartonomous::engine {

uint64_t PatchCount(const RasterShape& s, uint32_t pw, uint32_t ph) {
  return uint64_t{(s.width + pw - 1) / pw} * ((s.height + ph - 1) / ph);
}

void CutPatches(
    std::string_view raster, const RasterShape& s, uint32_t pw, uint32_t ph,
    const std::function<void(std::string, uint32_t, uint32_t, uint32_t, uint32_t)>& emit) {
  const size_t row = size_t{s.width} * s.pixel_bytes;
  const size_t patch_row = size_t{pw} * s.pixel_bytes;
  for (uint32_t y = 0; y < s.height; y += ph) {
    const uint32_t h = std::min(ph, s.height - y);
    for (uint32_t x = 0; x < s.width; x += pw) {
      const uint32_t w = std::min(pw, s.width - x);
      std::string patch(patch_row * ph, '\0');
      for (uint32_t r = 0; r < h; ++r) {
        std::memcpy(patch.data() + r * patch_row,
                    raster.data() + (size_t{y} + r) * row + size_t{x} * s.pixel_bytes,
                    size_t{w} * s.pixel_bytes);
      }
      emit(std::move(patch), x, y, w, h);
    }
  }
}

bool PlacePatches(const std::vector<std::string_view>& patches, const RasterShape& s, uint32_t pw,
                  uint32_t ph, std::string* raster) {
  if (patches.size() != PatchCount(s, pw, ph)) return false;
  const size_t row = size_t{s.width} * s.pixel_bytes;
  const size_t patch_row = size_t{pw} * s.pixel_bytes;
  raster->assign(row * s.height, '\0');
  size_t i = 0;
  for (uint32_t y = 0; y < s.height; y += ph) {
    const uint32_t h = std::min(ph, s.height - y);
    for (uint32_t x = 0; x < s.width; x += pw) {
      const uint32_t w = std::min(pw, s.width - x);
      const std::string_view patch = patches[i++];
      if (patch.size() != patch_row * ph) return false;
      for (uint32_t r = 0; r < h; ++r) {
        std::memcpy(raster->data() + (size_t{y} + r) * row + size_t{x} * s.pixel_bytes,
                    patch.data() + r * patch_row, size_t{w} * s.pixel_bytes);
      }
    }
  }
  return true;
}

}  // namespace hartonomous::engine
