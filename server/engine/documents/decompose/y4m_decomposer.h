// Y4M (YUV4MPEG2, raw YUV frames) decomposition: the stream header line is a
// 'header' atom; each frame is a 'frame_header' atom (the FRAME line with its
// parameters) followed by the patches of each plane (Y, then Cb, Cr, and
// alpha when present), so the file comes back byte for byte.
// Chroma: 420jpeg/420paldv/420mpeg2/420, 422, 444, 444alpha, 411, mono, and
// the 10/12/16-bit variants (p10, p12, p16; two bytes per sample).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::engine {

inline bool LooksLikeY4m(std::string_view c) { return c.substr(0, 10) == "YUV4MPEG2 "; }

Result<Decomposition> DecomposeY4m(std::string_view content, const DecomposeOptions& options);
Result<std::string> ReassembleY4m(const nlohmann::json& info, const std::vector<PartView>& parts);

}  // namespace hartonomous::engine
