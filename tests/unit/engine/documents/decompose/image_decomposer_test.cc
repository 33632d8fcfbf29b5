#include "server/engine/documents/decompose/image_decomposer.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <set>

#include "server/engine/documents/decompose/image_codec.h"
#include "server/engine/documents/decompose/part_budget.h"
#include "tests/unit/engine/documents/decompose/decompose_test_util.h"

namespace hartonomous::engine {
namespace {

using testing::CountSubtype;
using testing::RandomBytes;
using testing::RoundTrip;

std::string MakePnm(std::mt19937_64& rng, int channels, uint32_t w, uint32_t h, uint32_t maxval,
                    const std::string& trailer) {
  std::string out = channels == 1 ? "P5" : "P6";
  out += "\n# a comment\n" + std::to_string(w) + " " + std::to_string(h) + "\n" +
         std::to_string(maxval) + "\n";
  out += RandomBytes(rng, size_t{w} * h * channels * (maxval > 255 ? 2 : 1));
  return out + trailer;
}

Raster RandomRaster(std::mt19937_64& rng, uint32_t w, uint32_t h, uint32_t c, uint32_t bps) {
  return Raster{w, h, c, bps, RandomBytes(rng, size_t{w} * h * c * bps)};
}

std::string Gunzip(const std::string& path, size_t max_bytes) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string out(max_bytes, '\0');
  const int n = gzread(f, out.data(), static_cast<unsigned>(max_bytes));
  gzclose(f);
  REQUIRE(n > 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST_CASE("PGM/PPM round-trip byte for byte at odd sizes and depths", "[image][pnm]") {
  std::mt19937_64 rng(1);
  struct Case {
    int c;
    uint32_t w, h, maxval;
    std::string trailer;
  };
  const std::vector<Case> cases = {{1, 1, 1, 255, ""},
                                   {1, 17, 33, 255, ""},
                                   {3, 16, 16, 255, ""},
                                   {3, 40, 3, 65535, "x"},
                                   {1, 5, 70, 1000, "P5 more"}};
  for (const auto& c : cases) {
    const std::string pnm = MakePnm(rng, c.c, c.w, c.h, c.maxval, c.trailer);
    auto d = Decompose(pnm, "image", DecomposeOptions{});
    REQUIRE(d.ok());
    CHECK(d->format == "pnm");
    REQUIRE(*RoundTrip(*d) == pnm);
    CHECK(CountSubtype(*d, "patch") == ((c.w + 15) / 16) * ((c.h + 15) / 16));
    CHECK(CountSubtype(*d, "trailer") == (c.trailer.empty() ? 0u : 1u));
  }
}

TEST_CASE("edge patches are padded and record their real size", "[image][pnm]") {
  std::mt19937_64 rng(2);
  const std::string pnm = MakePnm(rng, 1, 20, 10, 255, "");
  DecomposeOptions o;
  o.patch_width = 8;
  o.patch_height = 8;
  auto d = DecomposePnm(pnm, o);
  REQUIRE(d.ok());
  REQUIRE(CountSubtype(*d, "patch") == 6);
  const auto& last = d->parts.back();
  CHECK(last.content.size() == 64);
  const auto edge = nlohmann::json::parse(last.edge_metadata);
  CHECK(edge["x"] == 16);
  CHECK(edge["y"] == 8);
  CHECK(edge["w"] == 4);
  CHECK(edge["h"] == 2);
  CHECK(nlohmann::json::parse(last.metadata)["channels"] == 1);
  REQUIRE(*RoundTrip(*d) == pnm);
}

TEST_CASE("Fashion-MNIST IDX images round-trip", "[image][idx][realdata]") {
  const std::string path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  std::string idx = Gunzip(path, 16 + 200 * 784);
  REQUIRE(idx.size() == 16 + 200 * 784);
  idx[4] = idx[5] = idx[6] = 0;
  idx[7] = static_cast<char>(200);  // the first 200 images as a file of their own
  REQUIRE(SniffFormat(idx) == "idx");
  auto d = Decompose(idx, "", DecomposeOptions{});
  REQUIRE(d.ok());
  CHECK(d->modality == "image");
  CHECK(CountSubtype(*d, "patch") == 200 * 4);
  REQUIRE(*RoundTrip(*d) == idx);
  // Fashion-MNIST has black borders: with small patches, identical ones
  // exist to dedup.
  DecomposeOptions small;
  small.patch_width = 4;
  small.patch_height = 4;
  auto fine = Decompose(idx, "image", small);
  REQUIRE(fine.ok());
  CHECK(CountSubtype(*fine, "patch") == 200 * 49);
  REQUIRE(*RoundTrip(*fine) == idx);
  std::set<std::string> distinct;
  for (const auto& p : fine->parts) distinct.insert(p.content);
  CHECK(distinct.size() < fine->parts.size() * 3 / 4);
}

TEST_CASE("truncated IDX is INVALID_ARGUMENT", "[image][idx]") {
  std::string idx("\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c", 16);
  idx += std::string(784 + 10, 'a');
  auto d = Decompose(idx, "image", {});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("IDX is truncated") != std::string::npos);
}

TEST_CASE("PNG pixels come back exactly, the original with keep_original", "[image][png]") {
  std::mt19937_64 rng(4);
  for (uint32_t c = 1; c <= 4; ++c) {
    for (uint32_t bps : {1u, 2u}) {
      const Raster r = RandomRaster(rng, 1 + rng() % 40, 1 + rng() % 40, c, bps);
      const std::string png = *EncodePng(r);
      DecomposeOptions o;
      o.keep_original = true;
      auto d = Decompose(png, "image", o);
      REQUIRE(d.ok());
      CHECK(d->format == "png");
      REQUIRE(*RoundTrip(*d, /*original=*/true) == png);
      auto decoded = DecodePng(*RoundTrip(*d, false), uint64_t{1} << 30);
      REQUIRE(decoded.ok());
      REQUIRE(decoded->pixels == r.pixels);
      CHECK(decoded->channels == c);
      CHECK(decoded->bytes_per_sample == bps);
      o.keep_original = false;
      CHECK(CountSubtype(*Decompose(png, "image", o), "chunk") == 0);
    }
  }
}

TEST_CASE("JPEG decoded pixels come back exactly as PNG", "[image][jpeg]") {
  std::mt19937_64 rng(5);
  for (uint32_t c : {1u, 3u}) {
    const Raster r = RandomRaster(rng, 33, 17, c, 1);
    const std::string jpeg = *EncodeJpeg(r, 90);
    const Raster decoded = *DecodeJpeg(jpeg, uint64_t{1} << 30);
    DecomposeOptions o;
    o.keep_original = true;
    auto d = Decompose(jpeg, "", o);
    REQUIRE(d.ok());
    CHECK(d->format == "jpeg");
    REQUIRE(DecodePng(*RoundTrip(*d, false), uint64_t{1} << 30)->pixels == decoded.pixels);
    REQUIRE(*RoundTrip(*d, true) == jpeg);
  }
}

TEST_CASE("truncated or corrupt PNG/JPEG is INVALID_ARGUMENT", "[image][png][jpeg]") {
  std::mt19937_64 rng(6);
  const std::string png = *EncodePng(RandomRaster(rng, 30, 30, 3, 1));
  const std::string jpeg = *EncodeJpeg(RandomRaster(rng, 30, 30, 3, 1), 80);
  for (const std::string& bad :
       {png.substr(0, png.size() / 2), png.substr(0, 40), png.substr(0, png.size() - 5),
        jpeg.substr(0, jpeg.size() / 2), jpeg.substr(0, 10)}) {
    auto d = Decompose(bad, "image", {});
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Status::Code::kInvalidArgument);
  }
  std::string flipped = png;
  flipped[png.size() / 2] ^= 0x55;  // IDAT data: the CRC no longer matches
  CHECK(Decompose(flipped, "image", {}).status().code() == Status::Code::kInvalidArgument);
  CHECK(Decompose("not an image", "image", {}).status().message().find("modality 'image'") !=
        std::string::npos);
}

std::string Be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  const auto crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  return Be32(static_cast<uint32_t>(data.size())) + body + Be32(crc);
}

// A PNG written by hand: IHDR, optional PLTE/tRNS, one IDAT of filter-0 rows.
std::string HandPng(uint32_t w, uint32_t h, int depth, int color,
                    const std::vector<std::string>& rows, const std::string& plte,
                    const std::string& trns) {
  std::string raw;
  for (const auto& row : rows) raw += std::string(1, '\0') + row;
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string z(size, '\0');
  REQUIRE(compress(reinterpret_cast<Bytef*>(z.data()), &size,
                   reinterpret_cast<const Bytef*>(raw.data()),
                   static_cast<uLong>(raw.size())) == Z_OK);
  z.resize(size);
  std::string ihdr = Be32(w) + Be32(h);
  ihdr += static_cast<char>(depth);
  ihdr += static_cast<char>(color);
  ihdr += std::string(3, '\0');
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + Chunk("IHDR", ihdr);
  if (!plte.empty()) png += Chunk("PLTE", plte);
  if (!trns.empty()) png += Chunk("tRNS", trns);
  return png + Chunk("IDAT", z) + Chunk("IEND", "");
}

TEST_CASE("palette and 1-bit PNGs decode to exact expanded pixels", "[image][png]") {
  // 3 x 2 palette image, 8-bit indices, palette entry 1 half transparent.
  const std::string plte("\x10\x20\x30\x40\x50\x60\x70\x80\x90", 9);
  const std::string png =
      HandPng(3, 2, 8, 3, {std::string("\x00\x01\x02", 3), std::string("\x02\x01\x00", 3)}, plte,
              std::string("\xff\x7f", 2));
  auto d = Decompose(png, "image", {});
  REQUIRE(d.ok());
  CHECK(d->info["channels"] == 4);
  const Raster back = *DecodePng(*RoundTrip(*d), 1 << 20);
  const std::string expected(
      "\x10\x20\x30\xff\x40\x50\x60\x7f\x70\x80\x90\xff"
      "\x70\x80\x90\xff\x40\x50\x60\x7f\x10\x20\x30\xff",
      24);
  CHECK(back.pixels == expected);
  // 10 x 1 gray, 1 bit per pixel: 1010110011 -> 255/0 samples.
  const std::string bits = HandPng(10, 1, 1, 0, {std::string("\xac\xc0", 2)}, "", "");
  auto g = Decompose(bits, "image", {});
  REQUIRE(g.ok());
  CHECK(DecodePng(*RoundTrip(*g), 1 << 20)->pixels ==
        std::string("\xff\x00\xff\x00\xff\xff\x00\x00\xff\xff", 10));
}

TEST_CASE("absurd declared dimensions are rejected before allocating", "[image]") {
  // A PNG whose IHDR claims 100000 x 100000 RGBA pixels.
  std::string ihdr = "IHDR" + Be32(100000) + Be32(100000) + std::string("\x08\x06\x00\x00\x00", 5);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(ihdr.data()), static_cast<uInt>(ihdr.size())));
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + Be32(13) + ihdr + Be32(crc);
  auto d = Decompose(png, "image", {});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("exceeds the decoded size limit") != std::string::npos);
  auto pgm = Decompose("P5 100000 100000 255\n", "image", {});
  CHECK(pgm.status().message().find("exceeds the decoded size limit") != std::string::npos);
  auto y4m = Decompose("YUV4MPEG2 W100000 H100000\n", "video", {});
  CHECK(y4m.status().message().find("exceeds the decoded size limit") != std::string::npos);
  // Sizes whose product would overflow 64 bits.
  auto huge_y4m = Decompose("YUV4MPEG2 W4294967295 H4294967295 C444\n", "video", {});
  CHECK(huge_y4m.status().message().find("exceeds the decoded size limit") != std::string::npos);
  std::string huge =
      "IHDR" + Be32(0xFFFFFFFF) + Be32(0xFFFFFFFF) + std::string("\x10\x06\x00\x00\x00", 5);
  const std::string huge_png = std::string("\x89PNG\r\n\x1a\n", 8) + Be32(13) + huge + Be32(0);
  CHECK(
      Decompose(huge_png, "image", {}).status().message().find("exceeds the decoded size limit") !=
      std::string::npos);
}

TEST_CASE("patches past the part budget are refused before they are cut", "[image][limits]") {
  std::mt19937_64 rng(11);
  const uint32_t w = 256, h = 256;
  const std::string pgm = "P5\n256 256\n255\n" + RandomBytes(rng, w * h);
  DecomposeOptions one;
  one.patch_width = one.patch_height = 1;
  auto d = Decompose(pgm, "image", one);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kInvalidArgument);
  CHECK(d.status().message().find("content: the document decomposes into more than " +
                                  std::to_string(PartBudget(pgm.size()).limit())) == 0);
  // The same image in 4 x 4 patches fits.
  DecomposeOptions four;
  four.patch_width = four.patch_height = 4;
  auto ok = Decompose(pgm, "image", four);
  REQUIRE(ok.ok());
  CHECK(CountSubtype(*ok, "patch") == 64 * 64);
  // PNG: the budget counts the decoded raster, so a well-compressed image
  // still gets its patches; 1 x 1 patches of it do not fit.
  const std::string png = *EncodePng(Raster{w, h, 1, 1, std::string(w * h, '\0')});
  REQUIRE(png.size() < 4096);
  CHECK(Decompose(png, "image", four).ok());
  CHECK(Decompose(png, "image", one).status().message().find("parts") != std::string::npos);
}

}  // namespace
}  // namespace hartonomous::engine
