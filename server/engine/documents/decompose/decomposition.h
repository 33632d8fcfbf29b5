// Decomposition of a document into atoms: the shared types of the
// decomposers (text_decomposer.h, chunker.h, wav_decomposer.h,
// image_decomposer.h, y4m_decomposer.h) and the dispatcher that picks one by
// modality and content sniffing. Transport-free, storage-free: input bytes
// in, a tree of parts out, and the inverse (Reassemble) from the parts'
// contents back to bytes.
//
// A decomposition is an ordered list of top-level parts; a composite part
// (text paragraphs) has ordered children of its own. The flattened content of
// a part is its content, or for a composite the concatenation of its
// children's flattened contents. Reassemble(format, info, top-level parts)
// rebuilds the document exactly (docs/documents.md states the guarantees).
//
// Errors: InvalidArgument naming `content` (or the option) and the rule when
// the content does not match its declared or sniffed format.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace hartonomous::engine {

struct DecomposeOptions {
  // Image and video patch size in pixels, each 1..1024. Default: 16 x 16.
  uint32_t patch_width = 16;
  uint32_t patch_height = 16;
  // Audio frame length, 1..10000 ms. Default: 20 ms.
  uint32_t frame_ms = 20;
  // Content-defined chunking bounds (bytes): 64 <= min <= avg <= max <= 1 MiB.
  // Default: 2 KiB / 8 KiB / 64 KiB.
  uint32_t chunk_min = 2 << 10;
  uint32_t chunk_avg = 8 << 10;
  uint32_t chunk_max = 64 << 10;
  // PNG/JPEG: also store the original file as content-defined chunks.
  // Default: false (the decoded pixels only).
  bool keep_original = false;
  // Largest decoded raster (width * height * channels * bytes per sample) of
  // one image or video frame. Default: 256 MiB.
  uint64_t max_raster_bytes = uint64_t{256} << 20;
  // Forces a format ("text", "binary", "wav", "pnm", "idx", "png", "jpeg",
  // "y4m"); empty = chosen from the modality and the content. Default: "".
  std::string format;
};

// Checks the option ranges; InvalidArgument naming the option.
Status ValidateOptions(const DecomposeOptions& options);

struct Part {
  std::string content;        // leaves only; composites get a manifest
  std::string subtype;        // 'sentence', 'patch', 'frame', 'chunk', 'header', ...
  std::string metadata;       // JSON object text for a new atom, or empty
  std::string edge_metadata;  // JSON object text for the 'contains' edge to it, or empty
  bool composite = false;
  std::vector<Part> children;  // composites only
};

inline Part Leaf(std::string content, std::string subtype, std::string metadata = {},
                 std::string edge_metadata = {}) {
  Part part;
  part.content = std::move(content);
  part.subtype = std::move(subtype);
  part.metadata = std::move(metadata);
  part.edge_metadata = std::move(edge_metadata);
  return part;
}

struct Decomposition {
  std::string modality;  // of the document and its parts
  std::string format;    // see DecomposeOptions::format
  // Everything Reassemble needs besides the parts (sizes, geometry, counts).
  nlohmann::json info = nlohmann::json::object();
  std::vector<Part> parts;
};

// The top-level parts of a stored document, in order, flattened.
struct PartView {
  std::string_view subtype;
  std::string_view content;
};

// modality: declared modality, or empty to sniff.
Result<Decomposition> Decompose(std::string_view content, std::string_view modality,
                                const DecomposeOptions& options);

// The document's bytes from its parts. original: for PNG/JPEG stored with
// keep_original, return the original file; otherwise the decoded pixels
// re-encoded as PNG. DataLoss when the parts do not fit the info.
Result<std::string> Reassemble(const std::string& format, const nlohmann::json& info,
                               const std::vector<PartView>& parts, bool original);

// The media type of what Reassemble returns.
std::string ReassembledMediaType(const std::string& format, const nlohmann::json& info,
                                 bool original);

// Sniffs a format from the content alone ("png", "jpeg", "wav", "y4m",
// "pnm", "idx", "text", "binary").
std::string SniffFormat(std::string_view content);

}  // namespace hartonomous::engine
