#include "server/engine/documents/decompose/wav_decomposer.h"

#include <cstdint>

#include "server/engine/documents/decompose/part_budget.h"

namespace hartonomous::engine {
namespace {

uint32_t Le32(std::string_view s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint16_t Le16(std::string_view s, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + at);
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

Status Bad(const std::string& rule) { return Status::InvalidArgument("content: WAV " + rule); }

}  // namespace

Result<Decomposition> DecomposeWav(std::string_view c, const DecomposeOptions& options) {
  if (!LooksLikeWav(c)) return Bad("must start with 'RIFF' <size> 'WAVE'");
  size_t at = 12;
  bool have_fmt = false;
  uint16_t format = 0, channels = 0, bits = 0, block_align = 0;
  uint32_t sample_rate = 0;
  size_t data_begin = 0, data_size = 0;
  bool have_data = false;
  while (!have_data) {
    if (at + 8 > c.size()) return Bad("is truncated: no 'data' chunk before the end of the file");
    const std::string_view id = c.substr(at, 4);
    const uint32_t size = Le32(c, at + 4);
    const size_t body = at + 8;
    if (size > c.size() - body) {
      return Bad("is truncated: chunk '" + std::string(id) + "' declares " + std::to_string(size) +
                 " bytes but " + std::to_string(c.size() - body) + " remain");
    }
    if (id == "fmt ") {
      if (size < 16) return Bad("fmt chunk is shorter than 16 bytes");
      format = Le16(c, body);
      channels = Le16(c, body + 2);
      sample_rate = Le32(c, body + 4);
      block_align = Le16(c, body + 12);
      bits = Le16(c, body + 14);
      if (format == 0xFFFE) {
        if (size < 40) return Bad("WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes");
        format = Le16(c, body + 24);  // the subformat GUID's first two bytes
      }
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return Bad("'data' chunk comes before the 'fmt ' chunk");
      data_begin = body;
      data_size = size;
      have_data = true;
    }
    at = body + size + (size & 1);
  }
  std::string encoding;
  if (format == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) {
    encoding = "pcm";
  } else if (format == 3 && (bits == 32 || bits == 64)) {
    encoding = "float";
  } else {
    return Bad("encoding is not supported (format tag " + std::to_string(format) + ", " +
               std::to_string(bits) + " bits); supported: PCM 8/16/24/32-bit, float 32/64-bit");
  }
  if (channels == 0) return Bad("fmt: channels must be >= 1");
  if (sample_rate == 0) return Bad("fmt: sample rate must be >= 1");
  if (block_align != uint32_t{channels} * bits / 8) {
    return Bad(
        "fmt: block_align " + std::to_string(block_align) +
        " must equal channels * bits / 8 = " + std::to_string(uint32_t{channels} * bits / 8));
  }
  if (data_size % block_align != 0) {
    return Bad("data: size " + std::to_string(data_size) + " is not a multiple of block_align " +
               std::to_string(block_align));
  }
  uint64_t frame_samples = uint64_t{sample_rate} * options.frame_ms / 1000;
  if (frame_samples == 0) frame_samples = 1;
  const uint64_t frame_bytes = frame_samples * block_align;

  Decomposition d;
  d.modality = "audio";
  d.format = "wav";
  const std::string atom_meta = nlohmann::json{
      {"sample_rate", sample_rate},
      {"channels", channels},
      {"bits_per_sample", bits},
      {"encoding", encoding}}.dump();
  PartBudget budget(c.size());
  HT_RETURN_IF_ERROR(budget.Take((data_size + frame_bytes - 1) / frame_bytes));
  d.parts.push_back(Leaf(std::string(c.substr(0, data_begin)), "header"));
  uint64_t frames = 0;
  for (size_t off = 0; off < data_size; off += frame_bytes) {
    const size_t n = std::min<size_t>(frame_bytes, data_size - off);
    d.parts.push_back(Leaf(std::string(c.substr(data_begin + off, n)), "frame", atom_meta));
    ++frames;
  }
  const size_t data_end = data_begin + data_size;
  const bool trailer = data_end < c.size();
  if (trailer) {
    d.parts.push_back(Leaf(std::string(c.substr(data_end)), "trailer"));
  }
  d.info = {{"format", "wav"},
            {"size", c.size()},
            {"sample_rate", sample_rate},
            {"channels", channels},
            {"bits_per_sample", bits},
            {"encoding", encoding},
            {"frame_ms", options.frame_ms},
            {"frames", frames},
            {"data_bytes", data_size},
            {"trailer", trailer}};
  return d;
}

}  // namespace hartonomous::engine
