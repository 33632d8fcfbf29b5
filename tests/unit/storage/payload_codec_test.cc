// Payload codec: the sampled compression decision (Compression::kSampled)
// and round trips of what it chooses.
#include "storage/payload_codec.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

using namespace hartonomous::storage;

namespace {

// Random bytes: nothing for zstd to save.
std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// BF16-like values: a random mantissa byte and an exponent byte drawn from
// a few values, so entropy coding saves more than a third of the bytes
// (no matches).
std::string SkewedBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[i] =
        static_cast<char>(i % 2 == 0 ? rng() & 0xff : 0x3c + (rng() % 16 == 0 ? rng() % 4 : 0));
  }
  return out;
}

std::string RoundTrip(const EncodedPayload& e, std::string_view content) {
  std::string back;
  const std::string_view stored = e.codec == PayloadCodec::kRaw ? content : e.frame;
  REQUIRE(DecodePayload(e.codec, stored, content.size(), "test", &back).ok());
  return back;
}

}  // namespace

TEST_CASE("SampledSavings measures the sample's savings") {
  CHECK(SampledSavings(RandomBytes(256 * 1024, 1)) == 0.0);
  CHECK(SampledSavings(std::string(256 * 1024, 'a')) > 0.99);
  const double skewed = SampledSavings(SkewedBytes(256 * 1024, 2));
  CHECK(skewed > 0.25);
  CHECK(skewed < 0.6);
}

TEST_CASE("SampledSavings sees slices at the start, the middle and the end") {
  // Compressible only in the last slice: the sample saves about a quarter.
  std::string content = RandomBytes(256 * 1024, 3);
  std::fill(content.end() - kSampleSliceBytes, content.end(), 'z');
  const double savings = SampledSavings(content);
  CHECK(savings > 0.2);
  CHECK(savings < 0.26);
  // A content exactly the size of the sample: every byte is in it.
  CHECK(SampledSavings(std::string(kSampleSlices * kSampleSliceBytes, 'x')) > 0.99);
}

TEST_CASE("Sampled compression keeps incompressible tensor bytes raw without compressing them") {
  const std::string random = RandomBytes(256 * 1024, 4);
  CHECK(EncodePayload(random, Compression::kSampled).codec == PayloadCodec::kRaw);
  // Content whose sample saves less than kMinSampledSavings stays raw even
  // though compressing all of it would save bytes.
  std::string mostly_random = RandomBytes(256 * 1024, 5);
  // Between the first two slices (at 0 and 84 KiB).
  std::fill(mostly_random.begin() + 8 * 1024, mostly_random.begin() + 80 * 1024, 'q');
  REQUIRE(SampledSavings(mostly_random) < kMinSampledSavings);
  CHECK(EncodePayload(mostly_random, Compression::kAlways).codec == PayloadCodec::kZstd);
  CHECK(EncodePayload(mostly_random, Compression::kSampled).codec == PayloadCodec::kRaw);
}

TEST_CASE("Sampled compression compresses tensor bytes whose sample pays") {
  for (const std::string& content : {SkewedBytes(256 * 1024, 6), std::string(300 * 1024, 'a')}) {
    const EncodedPayload e = EncodePayload(content, Compression::kSampled);
    REQUIRE(e.codec == PayloadCodec::kZstd);
    CHECK(e.frame.size() < content.size() * 3 / 4);
    CHECK(RoundTrip(e, content) == content);
  }
}

TEST_CASE("Sampled compression leaves contents below kSampleMinBytes to the whole-content rule") {
  const std::string small(kSampleMinBytes - 1, 'b');
  CHECK(EncodePayload(small, Compression::kSampled).codec == PayloadCodec::kZstd);
  const std::string random = RandomBytes(kSampleMinBytes - 1, 7);
  CHECK(EncodePayload(random, Compression::kSampled).codec == PayloadCodec::kRaw);
}

TEST_CASE("PackPayloads applies sampled compression to large contents only") {
  std::string big = RandomBytes(256 * 1024, 8);
  // Between the first two slices: compressing it all pays, the sample not.
  std::fill(big.begin() + 8 * 1024, big.begin() + 40 * 1024, 'a');
  const std::string small(1000, 'c');
  const std::vector<std::string_view> views{big, small, small};
  const auto always = PackPayloads(views, Compression::kAlways);
  CHECK(always[0].codec == PayloadCodec::kZstd);
  const auto sampled = PackPayloads(views, Compression::kSampled);
  CHECK(sampled[0].codec == PayloadCodec::kRaw);
  CHECK(sampled[1].codec == PayloadCodec::kBlock);
  CHECK(sampled[2].codec == PayloadCodec::kBlock);
}
