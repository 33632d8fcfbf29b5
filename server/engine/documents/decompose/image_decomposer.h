// Image decomposition into patches (subtype 'patch', patch_width x
// patch_height pixels, edge patches zero-padded; the 'contains' edge to each
// patch records its position and real size).
//  - PGM/PPM (binary P5/P6, 8 or 16 bit) and IDX (unsigned byte, N x H x W
//    or N x H x W x C, as Fashion-MNIST): the header bytes are a 'header'
//    atom and bytes after the raster a 'trailer' atom, so the file comes
//    back byte for byte.
//  - PNG and JPEG: the decoded pixels are patched; they come back exactly,
//    re-encoded as PNG. With keep_original the file itself is also stored,
//    as content-defined 'chunk' atoms after the patches.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::engine {

bool LooksLikePnm(std::string_view c);
// The magic of an unsigned-byte IDX file with 3 or 4 dimensions.
inline bool LooksLikeIdxMagic(std::string_view c) {
  return c.size() >= 4 && c[0] == 0 && c[1] == 0 && c[2] == 0x08 && (c[3] == 3 || c[3] == 4);
}
// An unsigned-byte IDX file with 3 or 4 dimensions whose size fits its header.
bool LooksLikeIdxImages(std::string_view c);

Result<Decomposition> DecomposePnm(std::string_view content, const DecomposeOptions& options);
Result<Decomposition> DecomposeIdx(std::string_view content, const DecomposeOptions& options);
Result<Decomposition> DecomposePng(std::string_view content, const DecomposeOptions& options);
Result<Decomposition> DecomposeJpeg(std::string_view content, const DecomposeOptions& options);

// Inverse of the above (format "pnm", "idx", "png", "jpeg").
Result<std::string> ReassembleImage(const std::string& format, const nlohmann::json& info,
                                    const std::vector<PartView>& parts, bool original);

}  // namespace hartonomous::engine
