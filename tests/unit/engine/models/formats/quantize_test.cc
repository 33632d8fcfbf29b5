#include "server/engine/models/formats/quantize.h"

#include <immintrin.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_reader.h"
#include "server/engine/models/formats/gguf_writer.h"
#include "server/engine/models/formats/half_float.h"
#include "tests/unit/engine/models/formats/format_test_util.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::engine::models {
namespace {

using testing::RequireInvalid;

#if defined(__FLT16_MAX__)
// fp16 through the compiler's own _Float16 conversion (round to nearest
// even), independent of half_float.cc.
uint16_t RefHalf(float f) {
  const _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float RefHalfToFloat(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}
#else
// A compiler without _Float16 on this target (clang before 15): the CPU's
// F16C conversion instead (round to nearest even), as independent of
// half_float.cc.
__attribute__((target("f16c"))) uint16_t RefHalf(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}
__attribute__((target("f16c"))) float RefHalfToFloat(uint16_t u) { return _cvtsh_ss(u); }
#endif

// llama.cpp's quantize_row_q8_0_ref and quantize_row_q4_0_ref, transcribed.
std::string RefQ8_0(const std::vector<float>& x) {
  std::string out;
  for (size_t i = 0; i < x.size() / 32; ++i) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[i * 32 + j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    const uint16_t h = RefHalf(d);
    out.push_back(static_cast<char>(h & 0xff));
    out.push_back(static_cast<char>(h >> 8));
    for (int j = 0; j < 32; ++j) {
      const float x0 = x[i * 32 + j] * id;
      out.push_back(static_cast<char>(static_cast<int8_t>(roundf(x0))));
    }
  }
  return out;
}

std::string RefQ4_0(const std::vector<float>& x) {
  std::string out;
  for (size_t i = 0; i < x.size() / 32; ++i) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++) {
      const float v = x[i * 32 + j];
      if (amax < std::fabs(v)) {
        amax = std::fabs(v);
        max = v;
      }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    const uint16_t h = RefHalf(d);
    out.push_back(static_cast<char>(h & 0xff));
    out.push_back(static_cast<char>(h >> 8));
    for (int j = 0; j < 16; ++j) {
      const float x0 = x[i * 32 + 0 + j] * id;
      const float x1 = x[i * 32 + 16 + j] * id;
      const uint8_t xi0 = std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f)));
      const uint8_t xi1 = std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f)));
      out.push_back(static_cast<char>(xi0 | (xi1 << 4)));
    }
  }
  return out;
}

std::vector<float> Gaussian(std::mt19937_64& rng, size_t n, float sigma) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

TEST_CASE("fp16 and bf16 conversions round to nearest even", "[quantize]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      REQUIRE(std::isnan(RefHalfToFloat(static_cast<uint16_t>(h))));
      continue;
    }
    REQUIRE(f == RefHalfToFloat(static_cast<uint16_t>(h)));
    REQUIRE(FloatToHalf(f) == h);
  }
  std::mt19937_64 rng(5);
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = static_cast<uint32_t>(rng());
    if (i % 2) bits = (bits & 0x8fffffff) | 0x30000000;  // near fp16's range
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isnan(f)) continue;
    INFO(bits);
    REQUIRE(FloatToHalf(f) == RefHalf(f));
  }
  REQUIRE(FloatToHalf(65520.0f) == 0x7c00);
  REQUIRE(FloatToHalf(65519.0f) == 0x7bff);
  REQUIRE(FloatToBfloat16(1.0f) == 0x3f80);
  REQUIRE(FloatToBfloat16(1.00390625f) == 0x3f80);  // tie to even
  REQUIRE(FloatToBfloat16(1.01171875f) == 0x3f82);  // tie to even (up)
  REQUIRE(Bfloat16ToFloat(0xc0a0) == -5.0f);
}

TEST_CASE("Q8_0 and Q4_0 bytes equal llama.cpp's reference quantizers", "[quantize]") {
  std::mt19937_64 rng(9);
  for (float sigma : {1e-4f, 0.02f, 1.0f, 300.0f}) {
    std::vector<float> x = Gaussian(rng, 32 * 64, sigma);
    std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero block
    x[40] = -x[40] * 50;                         // a negative extreme
    auto q8 = Quantize("w", x, 16, 128, QuantType::kQ8_0);
    auto q4 = Quantize("w", x, 16, 128, QuantType::kQ4_0);
    REQUIRE(q8.ok());
    REQUIRE(q4.ok());
    REQUIRE(q8->data == RefQ8_0(x));
    REQUIRE(q4->data == RefQ4_0(x));
    REQUIRE(q8->data.size() == 64 * 34);
    REQUIRE(q4->data.size() == 64 * 18);
    // The all-zero block dequantizes to zeros exactly.
    const auto y8 = Dequantize(*q8);
    const auto y4 = Dequantize(*q4);
    for (int j = 0; j < 32; ++j) {
      REQUIRE(y8[j] == 0.0f);
      REQUIRE(y4[j] == 0.0f);
    }
  }
}

TEST_CASE("quantization error stays within the per-group bound", "[quantize]") {
  std::mt19937_64 rng(21);
  const std::vector<float> x = Gaussian(rng, 64 * 256, 0.05f);
  double q4_worst_ratio = 0;
  for (QuantType t : {QuantType::kInt8PerChannel, QuantType::kQ8_0, QuantType::kQ4_0,
                      QuantType::kF16, QuantType::kBF16}) {
    INFO(QuantTypeName(t));
    auto q = Quantize("w", x, 64, 256, t);
    REQUIRE(q.ok());
    const auto y = Dequantize(*q);
    REQUIRE(CheckErrorBound("w", x, y, *q).ok());
    // A broken dequantization is caught.
    auto bad = y;
    bad[77] += 1.0f;
    const Status s = CheckErrorBound("w", x, bad, *q);
    REQUIRE(s.code() == Status::Code::kInternal);
    REQUIRE(s.message().find("element 77") != std::string::npos);
    if (t == QuantType::kQ4_0) {
      for (size_t b = 0; b < q->scales.size(); ++b) {
        const double d = std::fabs(q->scales[b]);
        for (size_t i = b * 32; i < b * 32 + 32; ++i) {
          q4_worst_ratio = std::max(q4_worst_ratio, std::fabs(x[i] - y[i]) / d);
        }
      }
    }
    if (t == QuantType::kInt8PerChannel || t == QuantType::kQ8_0) {
      // Within scale / 2 (plus the fp16 rounding of the scale for Q8_0).
      REQUIRE(MeasureError(x, y).snr_db > 35.0);
    }
  }
  // Q4_0's -8..7 codes: errors above half a step happen, never above a step.
  REQUIRE(q4_worst_ratio > 0.5);
  REQUIRE(q4_worst_ratio <= 1.0 + 1e-2);
}

TEST_CASE("SNR is within 0.5 dB of a numpy reference", "[quantize]") {
  std::mt19937_64 rng(33);
  const uint64_t rows = 48, cols = 320;
  std::vector<float> x = Gaussian(rng, rows * cols, 0.1f);
  for (uint64_t r = 0; r < rows; ++r) x[r * cols] *= static_cast<float>(r % 7 + 1);  // outliers
  hartonomous::testing::TempDir dir;
  {
    std::ofstream out(dir.dir() + "/x.f32", std::ios::binary);
    out.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size() * 4));
  }
  const std::string script =
      "import numpy as np, sys\n"
      "x = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64).reshape(48, 320)\n"
      "def snr(a, b): return 10 * np.log10((a * a).sum() / ((a - b) ** 2).sum())\n"
      "s = np.abs(x).max(axis=1, keepdims=True) / 127\n"
      "i8 = np.clip(np.round(x / s), -127, 127) * s\n"
      "blocks = x.reshape(-1, 32)\n"
      "d = (np.abs(blocks).max(axis=1, keepdims=True) / "
      "127).astype(np.float16).astype(np.float64)\n"
      "q8 = np.round(blocks / d) * d\n"
      "m = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)][:, None]\n"
      "d4 = (m / -8).astype(np.float16).astype(np.float64)\n"
      "q4 = (np.minimum(15, np.floor(blocks / d4 + 8.5)) - 8) * d4\n"
      "f16 = x.astype(np.float16).astype(np.float64)\n"
      "print(snr(x, i8), snr(blocks, q8), snr(blocks, q4), snr(x, f16))\n";
  {
    std::ofstream out(dir.dir() + "/snr.py");
    out << script;
  }
  const std::string cmd = "/usr/bin/python3 " + dir.dir() + "/snr.py " + dir.dir() + "/x.f32 > " +
                          dir.dir() + "/snr.txt";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(dir.dir() + "/snr.txt");
  double ref[4] = {0, 0, 0, 0};
  in >> ref[0] >> ref[1] >> ref[2] >> ref[3];
  const QuantType types[4] = {QuantType::kInt8PerChannel, QuantType::kQ8_0, QuantType::kQ4_0,
                              QuantType::kF16};
  for (int i = 0; i < 4; ++i) {
    INFO(QuantTypeName(types[i]) << " numpy " << ref[i]);
    auto q = Quantize("w", x, rows, cols, types[i]);
    REQUIRE(q.ok());
    const auto y = Dequantize(*q);
    const ErrorStats s = MeasureError(x, y);
    REQUIRE(ref[i] > 10.0);
    REQUIRE(std::fabs(s.snr_db - ref[i]) < 0.5);
    REQUIRE(s.rmse > 0);
    REQUIRE(s.relative_rmse == Approx(std::pow(10.0, -s.snr_db / 20)).epsilon(1e-6));
    REQUIRE(s.max_abs_error >= s.rmse);
  }
}

TEST_CASE("quantization refuses NaN and Inf and out-of-range values naming the element",
          "[quantize]") {
  std::vector<float> x(64, 1.0f);
  x[37] = std::nanf("");
  RequireInvalid(Quantize("layer.7", x, 2, 32, QuantType::kQ8_0).status(),
                 {"tensor \"layer.7\"", "element 37", "NaN"});
  x[37] = -INFINITY;
  RequireInvalid(Quantize("layer.7", x, 2, 32, QuantType::kInt8PerChannel).status(),
                 {"element 37", "infinite"});
  x[37] = 1e7f;
  RequireInvalid(Quantize("layer.7", x, 2, 32, QuantType::kF16).status(),
                 {"element 37", "beyond the fp16 range"});
  x[37] = 5e6f;  // a Q8_0 scale of 39370 fits fp16
  REQUIRE(Quantize("layer.7", x, 2, 32, QuantType::kQ8_0).ok());
  x[37] = 1e8f;  // 1e8 / 127 does not
  RequireInvalid(Quantize("layer.7", x, 2, 32, QuantType::kQ8_0).status(),
                 {"element 32", "beyond the fp16 range"});
  RequireInvalid(Quantize("layer.7", x, 2, 32, QuantType::kQ4_0).status(),
                 {"element 32", "beyond the fp16 range"});
  QuantizeOptions sat;
  sat.saturate = true;
  auto f16 = Quantize("layer.7", x, 2, 32, QuantType::kF16, sat);
  REQUIRE(f16.ok());
  REQUIRE(f16->saturated == 1);
  REQUIRE(Dequantize(*f16)[37] == kFp16Max);
  auto q8 = Quantize("layer.7", x, 2, 32, QuantType::kQ8_0, sat);
  REQUIRE(q8.ok());
  REQUIRE(q8->saturated == 1);
  REQUIRE(Dequantize(*q8)[37] == 127.0f * kFp16Max);
  REQUIRE(CheckErrorBound("layer.7", x, Dequantize(*q8), *q8).ok());
  auto q4 = Quantize("layer.7", x, 2, 32, QuantType::kQ4_0, sat);
  REQUIRE(q4.ok());
  REQUIRE(q4->saturated == 1);
  RequireInvalid(Quantize("w", std::vector<float>(40, 1.0f), 1, 40, QuantType::kQ4_0).status(),
                 {"tensor \"w\"", "not a multiple of the block size 32"});
  RequireInvalid(Quantize("w", std::vector<float>(40, 1.0f), 2, 40, QuantType::kF16).status(),
                 {"tensor \"w\"", "40 values for 2 x 40"});
}

TEST_CASE("weights are read as float from F32 F16 BF16 and F64", "[quantize]") {
  const float f[3] = {1.5f, -2.0f, 1e-3f};
  std::string f32(reinterpret_cast<const char*>(f), 12);
  auto a = ToFloat("w", "F32", f32);
  REQUIRE(a.ok());
  REQUIRE(*a == std::vector<float>{1.5f, -2.0f, 1e-3f});
  const std::string f16("\x00\x3e\x00\xc0", 4);  // 1.5, -2
  REQUIRE(*ToFloat("w", "FLOAT16", f16) == std::vector<float>{1.5f, -2.0f});
  const std::string bf16("\xc0\x3f\x00\xc0", 4);
  REQUIRE(*ToFloat("w", "BF16", bf16) == std::vector<float>{1.5f, -2.0f});
  const double d[2] = {0.25, -1e300};
  auto b = ToFloat("w", "F64", std::string(reinterpret_cast<const char*>(d), 16));
  REQUIRE(b.ok());
  REQUIRE((*b)[0] == 0.25f);
  REQUIRE(std::isinf((*b)[1]));
  RequireInvalid(ToFloat("w", "I8", "ab").status(), {"tensor \"w\"", "dtype I8"});
  RequireInvalid(ToFloat("w", "F32", "abc").status(), {"tensor \"w\"", "3 bytes"});
}

TEST_CASE("Q8_0 and Q4_0 layers export as GGUF and read back", "[quantize][gguf]") {
  std::mt19937_64 rng(4);
  const std::vector<float> x = Gaussian(rng, 8 * 64, 0.3f);
  auto q8 = Quantize("blk.0.ffn_up.weight", x, 8, 64, QuantType::kQ8_0);
  auto q4 = Quantize("blk.0.ffn_down.weight", x, 8, 64, QuantType::kQ4_0);
  REQUIRE(q8.ok());
  REQUIRE(q4.ok());
  auto file = WriteGguf(
      {{"general.architecture", GgufValue::String("llama")}},
      {{"blk.0.ffn_up.weight", kGgmlQ8_0, {64, 8}}, {"blk.0.ffn_down.weight", kGgmlQ4_0, {64, 8}}},
      {q8->data, q4->data});
  REQUIRE(file.ok());
  auto h = ScanGguf(*file, file->size());
  REQUIRE(h.ok());
  const auto& t = h->scan.layout.tensors;
  REQUIRE(t[0].dtype == "Q8_0");
  REQUIRE(t[1].dtype == "Q4_0");
  REQUIRE(file->substr(t[0].offset, t[0].length) == q8->data);
  REQUIRE(file->substr(t[1].offset, t[1].length) == q4->data);
  QuantizedTensor back = *q4;
  back.data = file->substr(t[1].offset, t[1].length);
  REQUIRE(Dequantize(back) == Dequantize(*q4));
  // A GGUF layer read as float: its blocks dequantized.
  auto f8 = ToFloat(t[0].name, t[0].dtype, file->substr(t[0].offset, t[0].length));
  auto f4 = ToFloat(t[1].name, t[1].dtype, file->substr(t[1].offset, t[1].length));
  REQUIRE(f8.ok());
  REQUIRE(f4.ok());
  REQUIRE(*f8 == Dequantize(*q8));
  REQUIRE(*f4 == Dequantize(*q4));
  RequireInvalid(ToFloat("w", "Q8_0", std::string(35, 'x')).status(),
                 {"tensor \"w\"", "not a whole number of Q8_0 blocks"});
}

}  // namespace
}  // namespace hartonomous::engine::models
