// PNG (libpng) and JPEG (libjpeg-turbo) decoding to raw rasters, and lossless
// PNG encoding of rasters. libpng/libjpeg errors and warnings (truncated or
// corrupt data included) become InvalidArgument naming `content`; no
// longjmp leaves this module.
//
// Rasters: row-major, channels interleaved, 1 or 2 bytes per sample
// (16-bit samples big-endian, as PNG stores them). PNG palettes and
// sub-byte gray are expanded (palette + tRNS -> RGBA); JPEG decodes to gray
// or RGB (CMYK is rejected).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::engine {

struct Raster {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t channels = 0;          // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  uint32_t bytes_per_sample = 1;  // 1 or 2
  std::string pixels;
};

inline bool LooksLikePng(std::string_view c) {
  return c.size() >= 8 && c.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8);
}
inline bool LooksLikeJpeg(std::string_view c) {
  return c.size() >= 3 && static_cast<unsigned char>(c[0]) == 0xFF &&
         static_cast<unsigned char>(c[1]) == 0xD8 && static_cast<unsigned char>(c[2]) == 0xFF;
}

// max_raster_bytes bounds width * height * channels * bytes_per_sample, checked
// from the header before any pixel memory is allocated.
Result<Raster> DecodePng(std::string_view data, uint64_t max_raster_bytes);
Result<Raster> DecodeJpeg(std::string_view data, uint64_t max_raster_bytes);

// REQUIRES: channels 1..4, bytes_per_sample 1 or 2, pixels sized to match.
Result<std::string> EncodePng(const Raster& raster);
// 8-bit gray or RGB only; for tests and tools. quality 1..100.
Result<std::string> EncodeJpeg(const Raster& raster, int quality);

}  // namespace hartonomous::engine
