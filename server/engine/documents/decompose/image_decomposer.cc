#include "server/engine/documents/decompose/image_decomposer.h"

#include "server/engine/documents/decompose/chunker.h"
#include "server/engine/documents/decompose/image_codec.h"
#include "server/engine/documents/decompose/part_budget.h"
#include "server/engine/documents/decompose/patches.h"

namespace hartonomous::engine {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) { return Status::InvalidArgument("content: " + what); }

bool IsWs(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// Reads one unsigned decimal of a PNM header, skipping whitespace and comments.
bool PnmNumber(std::string_view c, size_t* at, uint64_t* value) {
  while (*at < c.size()) {
    if (IsWs(c[*at])) {
      ++*at;
    } else if (c[*at] == '#') {
      while (*at < c.size() && c[*at] != '\n' && c[*at] != '\r') ++*at;
    } else {
      break;
    }
  }
  if (*at >= c.size() || c[*at] < '0' || c[*at] > '9') return false;
  uint64_t v = 0;
  while (*at < c.size() && c[*at] >= '0' && c[*at] <= '9') {
    v = v * 10 + static_cast<uint64_t>(c[*at] - '0');
    if (v > 0xFFFFFFFFull) return false;
    ++*at;
  }
  *value = v;
  return true;
}

std::string PatchMeta(uint32_t pw, uint32_t ph, uint32_t channels, uint32_t bps) {
  return json{{"width", pw}, {"height", ph}, {"channels", channels}, {"bytes_per_sample", bps}}
      .dump();
}

// Appends the patches of one raster to parts, once the budget allows their
// number. extra: more edge metadata keys.
Status AddPatches(std::string_view raster, const RasterShape& shape, uint32_t channels,
                  uint32_t bps, const DecomposeOptions& o, const json& extra, PartBudget* budget,
                  std::vector<Part>* parts) {
  HT_RETURN_IF_ERROR(budget->Take(PatchCount(shape, o.patch_width, o.patch_height)));
  const std::string meta = PatchMeta(o.patch_width, o.patch_height, channels, bps);
  CutPatches(raster, shape, o.patch_width, o.patch_height,
             [&](std::string patch, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
               json edge = extra;
               edge["x"] = x;
               edge["y"] = y;
               edge["w"] = w;
               edge["h"] = h;
               parts->push_back(Leaf(std::move(patch), "patch", meta, edge.dump()));
             });
  return Status::Ok();
}

Status CheckRaster(uint64_t width, uint64_t height, uint64_t pixel_bytes, const DecomposeOptions& o,
                   const std::string& what) {
  if (width == 0 || height == 0) return Bad(what + ": width and height must be >= 1");
  if (width > 0xFFFFFF || height > 0xFFFFFF || width * height * pixel_bytes > o.max_raster_bytes) {
    return Bad(what + ": " + std::to_string(width) + " x " + std::to_string(height) +
               " pixels exceeds the decoded size limit of " + std::to_string(o.max_raster_bytes) +
               " bytes");
  }
  return Status::Ok();
}

json Geometry(const std::string& format, uint32_t w, uint32_t h, uint32_t channels, uint32_t bps,
              const DecomposeOptions& o) {
  return json{{"format", format},
              {"width", w},
              {"height", h},
              {"channels", channels},
              {"bytes_per_sample", bps},
              {"patch_width", o.patch_width},
              {"patch_height", o.patch_height}};
}

uint32_t U32(const json& info, const char* key) { return info.at(key).get<uint32_t>(); }

Decomposition Image(const std::string& format) {
  Decomposition d;
  d.modality = "image";
  d.format = format;
  return d;
}

// An image decomposition of a raw format whose first part is c's `header`
// bytes.
Decomposition WithHeader(const std::string& format, std::string_view c, size_t header) {
  Decomposition d = Image(format);
  d.parts.push_back(Leaf(std::string(c.substr(0, header)), "header"));
  return d;
}

// The end of a raw format's decomposition: c's bytes after the rasters,
// which end at `end`, as a "trailer" part if there are any, and the layout
// info: `info` with c's size and whether there is a trailer.
void EndWithTrailer(std::string_view c, size_t end, json info, Decomposition* d) {
  const bool trailer = end < c.size();
  if (trailer) d->parts.push_back(Leaf(std::string(c.substr(end)), "trailer"));
  d->info = std::move(info);
  d->info["size"] = c.size();
  d->info["trailer"] = trailer;
}

Result<Decomposition> FromRaster(const std::string& format, const Raster& r,
                                 std::string_view original, const DecomposeOptions& o) {
  Decomposition d = Image(format);
  RasterShape shape{r.width, r.height, r.channels * r.bytes_per_sample};
  PartBudget budget(original.size() + r.pixels.size());
  HT_RETURN_IF_ERROR(AddPatches(r.pixels, shape, r.channels, r.bytes_per_sample, o, json::object(),
                                &budget, &d.parts));
  d.info = Geometry(format, r.width, r.height, r.channels, r.bytes_per_sample, o);
  d.info["size"] = original.size();
  d.info["patches"] = d.parts.size();
  uint64_t chunks = 0;
  if (o.keep_original) {
    std::vector<Part> original_chunks = ChunkParts(original, o);
    HT_RETURN_IF_ERROR(budget.Take(original_chunks.size()));
    for (Part& chunk : original_chunks) {
      d.parts.push_back(std::move(chunk));
      ++chunks;
    }
  }
  d.info["original_chunks"] = chunks;
  return d;
}

}  // namespace

bool LooksLikePnm(std::string_view c) {
  return c.size() >= 3 && c[0] == 'P' && (c[1] == '5' || c[1] == '6') && IsWs(c[2]);
}

bool LooksLikeIdxImages(std::string_view c) {
  if (c.size() < 4 || c[0] != 0 || c[1] != 0 || c[2] != 0x08 || (c[3] != 3 && c[3] != 4))
    return false;
  const size_t dims = static_cast<size_t>(c[3]);
  if (c.size() < 4 + 4 * dims) return false;
  uint64_t total = 1;
  for (size_t i = 0; i < dims; ++i) {
    uint64_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(c[4 + 4 * i + k]);
    total *= v;
    if (total > c.size()) return false;
  }
  return total + 4 + 4 * dims == c.size();
}

Result<Decomposition> DecomposePnm(std::string_view c, const DecomposeOptions& o) {
  if (!LooksLikePnm(c))
    return Bad("not a binary PGM/PPM (must start with 'P5' or 'P6' and whitespace)");
  const uint32_t channels = c[1] == '5' ? 1 : 3;
  size_t at = 2;
  uint64_t width = 0, height = 0, maxval = 0;
  if (!PnmNumber(c, &at, &width) || !PnmNumber(c, &at, &height) || !PnmNumber(c, &at, &maxval)) {
    return Bad("PGM/PPM header is truncated or malformed (expected width, height, maxval)");
  }
  if (at >= c.size() || !IsWs(c[at]))
    return Bad("PGM/PPM header must end with one whitespace byte");
  ++at;
  if (maxval == 0 || maxval > 65535) return Bad("PGM/PPM maxval must be 1..65535");
  const uint32_t bps = maxval < 256 ? 1 : 2;
  HT_RETURN_IF_ERROR(CheckRaster(width, height, uint64_t{channels} * bps, o, "PGM/PPM"));
  const uint64_t raster = width * height * channels * bps;
  if (c.size() - at < raster) {
    return Bad("PGM/PPM is truncated: the raster needs " + std::to_string(raster) + " bytes, " +
               std::to_string(c.size() - at) + " remain");
  }
  Decomposition d = WithHeader("pnm", c, at);
  const auto w = static_cast<uint32_t>(width), h = static_cast<uint32_t>(height);
  PartBudget budget(c.size());
  HT_RETURN_IF_ERROR(AddPatches(c.substr(at, raster), RasterShape{w, h, channels * bps}, channels,
                                bps, o, json::object(), &budget, &d.parts));
  EndWithTrailer(c, at + raster, Geometry("pnm", w, h, channels, bps, o), &d);
  d.info["maxval"] = maxval;
  return d;
}

Result<Decomposition> DecomposeIdx(std::string_view c, const DecomposeOptions& o) {
  if (c.size() < 4 || c[0] != 0 || c[1] != 0)
    return Bad("not an IDX file (magic must start 00 00)");
  if (c[2] != 0x08) return Bad("IDX element type must be 0x08 (unsigned byte) for images");
  const int dims = c[3];
  if (dims != 3 && dims != 4) return Bad("IDX images need 3 (N,H,W) or 4 (N,H,W,C) dimensions");
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  if (c.size() < header) return Bad("IDX header is truncated");
  uint64_t dim[4] = {0, 0, 0, 1};
  for (int i = 0; i < dims; ++i) {
    for (int k = 0; k < 4; ++k) dim[i] = dim[i] << 8 | static_cast<unsigned char>(c[4 + 4 * i + k]);
  }
  const uint64_t count = dim[0], height = dim[1], width = dim[2], channels = dim[3];
  if (channels < 1 || channels > 4) return Bad("IDX channel dimension must be 1..4");
  HT_RETURN_IF_ERROR(CheckRaster(width, height, channels, o, "IDX image"));
  const uint64_t per_image = width * height * channels;
  if (count > (c.size() - header) / per_image) {
    return Bad("IDX is truncated: " + std::to_string(count) + " images of " +
               std::to_string(per_image) + " bytes need more than the " +
               std::to_string(c.size() - header) + " bytes present");
  }
  Decomposition d = WithHeader("idx", c, header);
  const auto w = static_cast<uint32_t>(width), h = static_cast<uint32_t>(height);
  const auto ch = static_cast<uint32_t>(channels);
  PartBudget budget(c.size());
  for (uint64_t i = 0; i < count; ++i) {
    HT_RETURN_IF_ERROR(AddPatches(c.substr(header + i * per_image, per_image),
                                  RasterShape{w, h, ch}, ch, 1, o, json{{"image", i}}, &budget,
                                  &d.parts));
  }
  EndWithTrailer(c, header + count * per_image, Geometry("idx", w, h, ch, 1, o), &d);
  d.info["images"] = count;
  return d;
}

Result<Decomposition> DecomposePng(std::string_view c, const DecomposeOptions& o) {
  HT_ASSIGN_OR_RETURN(Raster r, DecodePng(c, o.max_raster_bytes));
  return FromRaster("png", r, c, o);
}

Result<Decomposition> DecomposeJpeg(std::string_view c, const DecomposeOptions& o) {
  HT_ASSIGN_OR_RETURN(Raster r, DecodeJpeg(c, o.max_raster_bytes));
  return FromRaster("jpeg", r, c, o);
}

Result<std::string> ReassembleImage(const std::string& format, const json& info,
                                    const std::vector<PartView>& parts, bool original) {
  const uint32_t w = U32(info, "width"), h = U32(info, "height"), ch = U32(info, "channels");
  const uint32_t bps = U32(info, "bytes_per_sample");
  const uint32_t pw = U32(info, "patch_width"), ph = U32(info, "patch_height");
  const RasterShape shape{w, h, ch * bps};
  const uint64_t per_image = PatchCount(shape, pw, ph);
  auto corrupt = [&](const std::string& what) {
    return Status::DataLoss("document parts do not fit its " + format + " layout: " + what);
  };
  std::vector<std::string_view> patches;
  std::string out, raster;
  size_t i = 0;
  if (format == "png" || format == "jpeg") {
    const uint64_t n = info.at("patches").get<uint64_t>();
    const uint64_t chunks = info.at("original_chunks").get<uint64_t>();
    if (parts.size() != n + chunks) return corrupt("part count");
    if (original) {
      for (size_t k = n; k < parts.size(); ++k) out.append(parts[k].content);
      return out;
    }
    for (size_t k = 0; k < n; ++k) patches.push_back(parts[k].content);
    if (!PlacePatches(patches, shape, pw, ph, &raster)) return corrupt("patch sizes");
    return EncodePng(Raster{w, h, ch, bps, std::move(raster)});
  }
  if (parts.empty() || parts[0].subtype != "header") return corrupt("missing header");
  out.append(parts[i++].content);
  const uint64_t images = format == "idx" ? info.at("images").get<uint64_t>() : 1;
  for (uint64_t img = 0; img < images; ++img) {
    if (parts.size() - i < per_image) return corrupt("too few patches");
    patches.clear();
    for (uint64_t k = 0; k < per_image; ++k) patches.push_back(parts[i++].content);
    if (!PlacePatches(patches, shape, pw, ph, &raster)) return corrupt("patch sizes");
    out.append(raster);
  }
  if (info.at("trailer").get<bool>()) {
    if (i >= parts.size()) return corrupt("missing trailer");
    out.append(parts[i++].content);
  }
  if (i != parts.size()) return corrupt("extra parts");
  return out;
}

}  // namespace hartonomous::engine
