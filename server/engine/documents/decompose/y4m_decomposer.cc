#include "server/engine/documents/decompose/y4m_decomposer.h"

#include <charconv>

#include "server/engine/documents/decompose/part_budget.h"
#include "server/engine/documents/decompose/patches.h"

namespace hartonomous::engine {
namespace {

using nlohmann::json;

constexpr size_t kMaxLine = 4096;

Status Bad(const std::string& what) { return Status::InvalidArgument("content: Y4M " + what); }

struct PlaneGeom {
  uint32_t width, height;
};

// Planes of a frame for a chroma tag; false when unsupported.
bool Planes(const std::string& chroma, uint32_t w, uint32_t h, std::vector<PlaneGeom>* planes,
            uint32_t* sample_bytes) {
  std::string base = chroma;
  *sample_bytes = 1;
  for (const char* suffix : {"p10", "p12", "p16", "p9", "p14"}) {
    const std::string s(suffix);
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      base.resize(base.size() - s.size());
      *sample_bytes = 2;
      break;
    }
  }
  const uint32_t half_w = (w + 1) / 2, half_h = (h + 1) / 2;
  if (base == "420jpeg" || base == "420paldv" || base == "420mpeg2" || base == "420") {
    *planes = {{w, h}, {half_w, half_h}, {half_w, half_h}};
  } else if (base == "422") {
    *planes = {{w, h}, {half_w, h}, {half_w, h}};
  } else if (base == "444") {
    *planes = {{w, h}, {w, h}, {w, h}};
  } else if (base == "444alpha") {
    *planes = {{w, h}, {w, h}, {w, h}, {w, h}};
  } else if (base == "411") {
    *planes = {{w, h}, {(w + 3) / 4, h}, {(w + 3) / 4, h}};
  } else if (base == "mono") {
    *planes = {{w, h}};
  } else {
    return false;
  }
  return true;
}

bool ParseU32(std::string_view s, uint32_t* v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

struct Stream {
  uint32_t width = 0, height = 0, sample_bytes = 1;
  std::string chroma = "420jpeg";
  std::vector<PlaneGeom> planes;
  uint64_t frame_bytes = 0;
};

Status ParseHeader(std::string_view line, const DecomposeOptions& o, Stream* s) {
  // line excludes "YUV4MPEG2" and the '\n'.
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && line[at] == ' ') ++at;
    size_t end = line.find(' ', at);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view tok = line.substr(at, end - at);
    at = end;
    if (tok.empty()) continue;
    const std::string_view val = tok.substr(1);
    switch (tok[0]) {
      case 'W':
        if (!ParseU32(val, &s->width)) return Bad("header: W must be a decimal width");
        break;
      case 'H':
        if (!ParseU32(val, &s->height)) return Bad("header: H must be a decimal height");
        break;
      case 'C':
        s->chroma = std::string(val);
        break;
      default:
        break;  // F, I, A, X: kept verbatim in the header atom
    }
  }
  if (s->width == 0 || s->height == 0) return Bad("header: W and H are required and must be >= 1");
  if (s->width > 0xFFFFFF || s->height > 0xFFFFFF) {
    return Bad("header: a " + std::to_string(s->width) + " x " + std::to_string(s->height) +
               " frame exceeds the decoded size limit of " + std::to_string(o.max_raster_bytes) +
               " bytes");
  }
  if (!Planes(s->chroma, s->width, s->height, &s->planes, &s->sample_bytes)) {
    return Bad("header: chroma 'C" + s->chroma + "' is not supported");
  }
  s->frame_bytes = 0;
  for (const auto& p : s->planes) s->frame_bytes += uint64_t{p.width} * p.height * s->sample_bytes;
  if (s->frame_bytes > o.max_raster_bytes) {
    return Bad("header: a " + std::to_string(s->width) + " x " + std::to_string(s->height) +
               " frame exceeds the decoded size limit of " + std::to_string(o.max_raster_bytes) +
               " bytes");
  }
  return Status::Ok();
}

}  // namespace

Result<Decomposition> DecomposeY4m(std::string_view c, const DecomposeOptions& o) {
  if (!LooksLikeY4m(c)) return Bad("must start with 'YUV4MPEG2 '");
  const size_t nl = c.find('\n');
  if (nl == std::string_view::npos || nl > kMaxLine)
    return Bad("header line is truncated or too long");
  Stream s;
  HT_RETURN_IF_ERROR(ParseHeader(c.substr(9, nl - 9), o, &s));
  Decomposition d;
  d.modality = "video";
  d.format = "y4m";
  d.parts.push_back(Leaf(std::string(c.substr(0, nl + 1)), "header"));
  const std::string meta_y = json{
      {"width", o.patch_width},
      {"height", o.patch_height},
      {"bytes_per_sample",
       s.sample_bytes}}.dump();
  size_t at = nl + 1;
  uint64_t frames = 0;
  PartBudget budget(c.size());
  while (at < c.size()) {
    if (c.substr(at, 5) != "FRAME") {
      return Bad("frame " + std::to_string(frames) + ": expected 'FRAME' at byte " +
                 std::to_string(at));
    }
    const size_t end = c.find('\n', at);
    if (end == std::string_view::npos || end - at > kMaxLine) {
      return Bad("frame " + std::to_string(frames) + ": FRAME line is truncated");
    }
    HT_RETURN_IF_ERROR(budget.Take(1));
    d.parts.push_back(Leaf(std::string(c.substr(at, end + 1 - at)), "frame_header"));
    at = end + 1;
    if (c.size() - at < s.frame_bytes) {
      return Bad("is truncated: frame " + std::to_string(frames) + " needs " +
                 std::to_string(s.frame_bytes) + " bytes, " + std::to_string(c.size() - at) +
                 " remain");
    }
    for (size_t p = 0; p < s.planes.size(); ++p) {
      const RasterShape shape{s.planes[p].width, s.planes[p].height, s.sample_bytes};
      const size_t bytes = size_t{shape.width} * shape.height * shape.pixel_bytes;
      HT_RETURN_IF_ERROR(budget.Take(PatchCount(shape, o.patch_width, o.patch_height)));
      CutPatches(c.substr(at, bytes), shape, o.patch_width, o.patch_height,
                 [&](std::string patch, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
                   d.parts.push_back(Leaf(
                       std::move(patch), "patch", meta_y,
                       json{{"frame", frames}, {"plane", p}, {"x", x}, {"y", y}, {"w", w}, {"h", h}}
                           .dump()));
                 });
      at += bytes;
    }
    ++frames;
  }
  json planes = json::array();
  for (const auto& p : s.planes) planes.push_back({p.width, p.height});
  d.info = {{"format", "y4m"},
            {"size", c.size()},
            {"width", s.width},
            {"height", s.height},
            {"chroma", s.chroma},
            {"sample_bytes", s.sample_bytes},
            {"planes", planes},
            {"frames", frames},
            {"patch_width", o.patch_width},
            {"patch_height", o.patch_height}};
  return d;
}

Result<std::string> ReassembleY4m(const json& info, const std::vector<PartView>& parts) {
  auto corrupt = [](const std::string& what) {
    return Status::DataLoss("document parts do not fit its y4m layout: " + what);
  };
  const uint32_t pw = info.at("patch_width").get<uint32_t>();
  const uint32_t ph = info.at("patch_height").get<uint32_t>();
  const uint32_t sb = info.at("sample_bytes").get<uint32_t>();
  const uint64_t frames = info.at("frames").get<uint64_t>();
  std::vector<RasterShape> planes;
  for (const auto& p : info.at("planes")) {
    planes.push_back(RasterShape{p.at(0).get<uint32_t>(), p.at(1).get<uint32_t>(), sb});
  }
  if (parts.empty() || parts[0].subtype != "header") return corrupt("missing header");
  std::string out(parts[0].content);
  size_t i = 1;
  std::vector<std::string_view> patches;
  std::string raster;
  for (uint64_t f = 0; f < frames; ++f) {
    if (i >= parts.size() || parts[i].subtype != "frame_header")
      return corrupt("missing frame header");
    out.append(parts[i++].content);
    for (const auto& shape : planes) {
      const uint64_t n = PatchCount(shape, pw, ph);
      if (parts.size() - i < n) return corrupt("too few patches");
      patches.clear();
      for (uint64_t k = 0; k < n; ++k) patches.push_back(parts[i++].content);
      if (!PlacePatches(patches, shape, pw, ph, &raster)) return corrupt("patch sizes");
      out.append(raster);
    }
  }
  if (i != parts.size()) return corrupt("extra parts");
  return out;
}

}  // namespace hartonomous::engine
