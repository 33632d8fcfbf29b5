// How `hartonomous ingest` classifies a file: modality and subtype guessed
// from the file name's extension and, for names without one, from the bytes.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

namespace hartonomous::cli {

// The lowercase extension of the final path component without its dot
// ("notes.TXT" -> "txt"); empty when there is none (also for ".bashrc").
std::string LowercaseExtension(std::string_view path);

// The modality for content named `path`:
//   text:   .txt .md .json .csv .tsv .xml .html .yaml .log, source code, ...
//           and names without an extension whose content is valid UTF-8;
//   image:  .png .jpg .jpeg .pgm .ppm;  audio: .wav;  video: .y4m .mp4;
//   tensor: .npy;  anything else: binary.
std::string GuessModality(std::string_view path, std::string_view content);

// The default subtype for `path`: its lowercase extension when that is a valid
// short name ([a-z0-9_-], at most 16 characters), else empty.
std::string GuessSubtype(std::string_view path);

// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code
// points above U+10FFFF), which protobuf requires of `string` fields.
bool IsValidUtf8(std::string_view bytes);

}  // namespace hartonomous::cli
