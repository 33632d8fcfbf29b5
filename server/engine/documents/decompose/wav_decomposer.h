// WAV (RIFF/WAVE) decomposition: PCM 8/16/24/32-bit integer and 32/64-bit
// float (also WAVE_FORMAT_EXTENSIBLE), any channel count. Parts: 'header'
// (every byte before the sample data: RIFF header, fmt and other chunks, the
// data chunk header), 'frame' atoms of frame_ms of samples (whole sample
// frames; the last may be shorter), and a 'trailer' with every byte after the
// sample data. Their concatenation is the file.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::engine {

inline bool LooksLikeWav(std::string_view c) {
  return c.size() >= 12 && c.substr(0, 4) == "RIFF" && c.substr(8, 4) == "WAVE";
}

// InvalidArgument for truncated or malformed files and unsupported encodings.
Result<Decomposition> DecomposeWav(std::string_view content, const DecomposeOptions& options);

}  // namespace hartonomous::engine
