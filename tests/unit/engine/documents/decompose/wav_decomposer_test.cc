#include "server/engine/documents/decompose/wav_decomposer.h"

#include <catch2/catch.hpp>

#include "tests/unit/engine/documents/decompose/decompose_test_util.h"
#include "server/engine/documents/decompose/part_budget.h"

namespace hartonomous::engine {
namespace {

using testing::CountSubtype;
using testing::RandomBytes;
using testing::RoundTrip;

void Le(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

struct WavSpec {
  uint16_t format = 1;  // 1 PCM, 3 float, 0xFFFE extensible
  uint16_t channels = 1;
  uint32_t rate = 8000;
  uint16_t bits = 16;
  size_t frames = 100;      // sample frames
  bool list_after = false;  // an odd-sized chunk after the data (pad byte)
};

std::string MakeWav(std::mt19937_64& rng, const WavSpec& s) {
  const uint16_t align = static_cast<uint16_t>(s.channels * s.bits / 8);
  std::string fmt;
  Le(&fmt, s.format, 2);
  Le(&fmt, s.channels, 2);
  Le(&fmt, s.rate, 4);
  Le(&fmt, uint64_t{s.rate} * align, 4);
  Le(&fmt, align, 2);
  Le(&fmt, s.bits, 2);
  if (s.format == 0xFFFE) {
    Le(&fmt, 22, 2);
    Le(&fmt, s.bits, 2);
    Le(&fmt, 0, 4);
    Le(&fmt, 1, 2);  // PCM subformat GUID starts 01 00
    fmt += std::string("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 14);
  }
  const std::string data = RandomBytes(rng, s.frames * align);
  std::string body = "WAVE";
  body += "fmt ";
  Le(&body, fmt.size(), 4);
  body += fmt;
  body += "data";
  Le(&body, data.size(), 4);
  body += data;
  if (data.size() % 2 == 1) body.push_back('\0');
  if (s.list_after) {
    body += "LIST";
    Le(&body, 5, 4);
    body += "INFOx";
    body.push_back('\0');
  }
  std::string out = "RIFF";
  Le(&out, body.size(), 4);
  return out + body;
}

TEST_CASE("WAV round-trips for every supported encoding and channel count", "[wav]") {
  std::mt19937_64 rng(3);
  const std::vector<WavSpec> specs = {
      {1, 1, 8000, 8, 0, false},      {1, 1, 8000, 8, 161, true},
      {1, 2, 44100, 16, 5000, false}, {1, 1, 22050, 24, 999, true},
      {1, 6, 48000, 32, 2000, false}, {3, 2, 16000, 32, 333, false},
      {3, 1, 16000, 64, 320, true},   {0xFFFE, 2, 8000, 16, 1000, false},
      {1, 1, 1, 16, 3, false}};
  for (const auto& spec : specs) {
    const std::string wav = MakeWav(rng, spec);
    auto d = DecomposeWav(wav, DecomposeOptions{});
    REQUIRE(d.ok());
    REQUIRE(*RoundTrip(*d) == wav);
    uint64_t frame_samples = std::max<uint64_t>(1, uint64_t{spec.rate} * 20 / 1000);
    CHECK(CountSubtype(*d, "frame") == (spec.frames + frame_samples - 1) / frame_samples);
    CHECK(d->parts.front().subtype == "header");
    CHECK(d->info["channels"] == spec.channels);
    CHECK(CountSubtype(*d, "trailer") ==
          ((spec.list_after || (spec.frames * spec.channels * spec.bits / 8) % 2) ? 1u : 0u));
  }
}

TEST_CASE("WAV frames follow frame_ms", "[wav]") {
  std::mt19937_64 rng(5);
  const std::string wav = MakeWav(rng, {1, 2, 1000, 16, 1000, false});
  DecomposeOptions o;
  o.frame_ms = 100;  // 100 samples per frame
  auto d = DecomposeWav(wav, o);
  REQUIRE(d.ok());
  CHECK(CountSubtype(*d, "frame") == 10);
  CHECK(d->parts[1].content.size() == 100 * 4);
  CHECK(d->parts[1].metadata.find("\"sample_rate\":1000") != std::string::npos);
}

TEST_CASE("truncated or malformed WAV is INVALID_ARGUMENT", "[wav]") {
  std::mt19937_64 rng(6);
  const std::string wav = MakeWav(rng, {1, 2, 8000, 16, 400, false});
  for (size_t cut : {size_t{0}, size_t{11}, size_t{20}, size_t{43}, wav.size() - 1}) {
    auto d = DecomposeWav(wav.substr(0, cut), DecomposeOptions{});
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Status::Code::kInvalidArgument);
    CHECK(d.status().message().rfind("content: WAV", 0) == 0);
  }
  std::string bad_align = wav;
  bad_align[32] = 3;  // block_align
  CHECK(DecomposeWav(bad_align, {}).status().message().find("block_align") != std::string::npos);
  std::string bad_bits = wav;
  bad_bits[34] = 12;
  CHECK(DecomposeWav(bad_bits, {}).status().code() == Status::Code::kInvalidArgument);
  CHECK(Decompose("RIFF....WAVX", "audio", {}).status().code() == Status::Code::kInvalidArgument);
}

TEST_CASE("WAV frames past the part budget are refused before they are cut", "[wav][limits]") {
  std::mt19937_64 rng(12);
  // 8 kHz 8-bit mono in 1 ms frames: 8 bytes a frame.
  const std::string wav = MakeWav(rng, {1, 1, 8000, 8, 400000, false});
  DecomposeOptions o;
  o.frame_ms = 1;
  auto d = DecomposeWav(wav, o);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Status::Code::kInvalidArgument);
  CHECK(d.status().message().find(std::to_string(PartBudget(wav.size()).limit()) + " parts") !=
        std::string::npos);
  o.frame_ms = 20;
  CHECK(DecomposeWav(wav, o).ok());
}

}  // namespace
}  // namespace hartonomous::engine
