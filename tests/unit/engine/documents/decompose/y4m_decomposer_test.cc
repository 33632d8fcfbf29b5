#include "server/engine/documents/decompose/y4m_decomposer.h"

#include <catch2/catch.hpp>

#include "tests/unit/engine/documents/decompose/decompose_test_util.h"
#include "server/engine/documents/decompose/part_budget.h"

namespace hartonomous::engine {
namespace {

using testing::CountSubtype;
using testing::RandomBytes;
using testing::RoundTrip;

std::string MakeY4m(std::mt19937_64& rng, uint32_t w, uint32_t h, const std::string& chroma,
                    int frames, size_t frame_bytes) {
  std::string out = "YUV4MPEG2 W" + std::to_string(w) + " H" + std::to_string(h) +
                    " F25:1 Ip A1:1" + (chroma.empty() ? "" : " C" + chroma) + " XYSCSS=test\n";
  for (int f = 0; f < frames; ++f) {
    out += f % 2 == 0 ? "FRAME\n" : "FRAME Ixyz\n";
    out += RandomBytes(rng, frame_bytes);
  }
  return out;
}

TEST_CASE("Y4M round-trips for every chroma layout and odd sizes", "[video][y4m]") {
  std::mt19937_64 rng(8);
  struct Case {
    std::string chroma;
    size_t frame_bytes;
  };
  const uint32_t w = 17, h = 9;
  const size_t luma = w * h, half = ((w + 1) / 2) * ((h + 1) / 2);
  const std::vector<Case> cases = {{"", luma + 2 * half},
                                   {"420jpeg", luma + 2 * half},
                                   {"422", luma + 2 * ((w + 1) / 2) * h},
                                   {"444", 3 * luma},
                                   {"mono", luma},
                                   {"420p10", 2 * (luma + 2 * half)},
                                   {"444alpha", 4 * luma}};
  for (const auto& c : cases) {
    for (int frames : {0, 1, 3}) {
      const std::string y4m = MakeY4m(rng, w, h, c.chroma, frames, c.frame_bytes);
      auto d = Decompose(y4m, "video", DecomposeOptions{});
      REQUIRE(d.ok());
      CHECK(d->format == "y4m");
      CHECK(CountSubtype(*d, "frame_header") == static_cast<size_t>(frames));
      REQUIRE(*RoundTrip(*d) == y4m);
    }
  }
}

TEST_CASE("truncated or corrupt Y4M is INVALID_ARGUMENT", "[video][y4m]") {
  std::mt19937_64 rng(9);
  const std::string y4m = MakeY4m(rng, 8, 8, "mono", 2, 64);
  for (const std::string& bad :
       {y4m.substr(0, y4m.size() - 1), y4m.substr(0, 12), y4m + "JUNK",
        std::string("YUV4MPEG2 H8 Cmono\n"), std::string("YUV4MPEG2 W8 H8 Cxyz\n")}) {
    auto d = Decompose(bad, "video", {});
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Status::Code::kInvalidArgument);
    CHECK(d.status().message().rfind("content: Y4M", 0) == 0);
  }
}

TEST_CASE("Y4M patches past the part budget are refused", "[video][y4m][limits]") {
  std::mt19937_64 rng(13);
  const std::string y4m = MakeY4m(rng, 64, 64, "mono", 8, 64 * 64);
  DecomposeOptions one;
  one.patch_width = one.patch_height = 1;
  auto d = DecomposeY4m(y4m, one);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("content: the document decomposes into more than") == 0);
  CHECK(DecomposeY4m(y4m, DecomposeOptions{}).ok());
}

}  // namespace
}  // namespace hartonomous::engine
