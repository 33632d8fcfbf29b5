// How the CLI classifies a file: modality and format detected from the
// content, the file name only as a hint.
//
// Detection (DetectContent) follows the server's own choice for a document
// whose request leaves the modality empty (SniffFormat in
// server/engine/documents/decompose/decomposition.cc), in the same order:
//   PNG, JPEG, RIFF/WAVE, YUV4MPEG2, binary PNM (P5/P6), IDX (unsigned
//   byte, 3 or 4 dimensions, size matching its header), then text when the
//   bytes are valid UTF-8 without a NUL byte, else binary.
// The name never overrides the content: "notes.txt" holding a PNG is an
// image, "Apache-2.0" holding UTF-8 is text, a Latin-1 ".h" file is binary
// (the server accepts only UTF-8 as text). The extension only names the
// subtype of an atom (GuessSubtype).
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

namespace hartonomous::cli {

struct ContentKind {
  std::string modality;  // text, image, audio, video, binary
  std::string format;    // text, png, jpeg, wav, y4m, pnm, idx, binary
};

// The kind of `content` (see above). `path` is not consulted today; it is
// taken so that a future hint has one place to go.
ContentKind DetectContent(std::string_view path, std::string_view content);

// The lowercase extension of the final path component without its dot
// ("notes.TXT" -> "txt"); empty when there is none (also for ".bashrc").
std::string LowercaseExtension(std::string_view path);

// The modality for an atom of `content` named `path`: DetectContent's.
std::string GuessModality(std::string_view path, std::string_view content);

// The default subtype of an atom: the detected media format when the content
// is an image, audio or video file ("png", "wav", ...); otherwise the
// lowercase extension when it is a short name ([a-z0-9_-], at most 16
// characters, at least one letter: "Apache-2.0" has none); else empty.
std::string GuessSubtype(std::string_view path, std::string_view content);

// True when `bytes` is well-formed UTF-8 (no overlongs, surrogates or code
// points above U+10FFFF), which protobuf requires of `string` fields.
bool IsValidUtf8(std::string_view bytes);

// True when `bytes` reads as ISO-8859-1 (Latin-1) text: no NUL, no C0
// control other than tab, line feed, vertical tab, form feed, carriage
// return and escape, and no C1 control (0x80-0x9F).
bool LooksLikeLatin1Text(std::string_view bytes);

// `bytes` decoded as ISO-8859-1 and encoded as UTF-8.
std::string Latin1ToUtf8(std::string_view bytes);

}  // namespace hartonomous::cli
