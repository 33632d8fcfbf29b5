// Cutting a raster into fixed-size patches and placing them back. Patches go
// row by row, left to right; edge patches are padded with zero bytes to the
// full patch size and their real size is reported to the caller.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hartonomous::engine {

struct RasterShape {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t pixel_bytes = 1;  // channels * bytes per sample
};

uint64_t PatchCount(const RasterShape& shape, uint32_t patch_w, uint32_t patch_h);

// REQUIRES: raster.size() == width * height * pixel_bytes.
void CutPatches(std::string_view raster, const RasterShape& shape, uint32_t patch_w,
                uint32_t patch_h,
                const std::function<void(std::string patch, uint32_t x, uint32_t y, uint32_t w,
                                         uint32_t h)>& emit);

// Places PatchCount() patches (each patch_w * patch_h * pixel_bytes bytes)
// into *raster (resized). False when a patch has the wrong size.
bool PlacePatches(const std::vector<std::string_view>& patches, const RasterShape& shape,
                  uint32_t patch_w, uint32_t patch_h, std::string* raster);

}  // namespace hartonomous::engine
