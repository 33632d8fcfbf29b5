#include "server/engine/models/formats/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "server/engine/models/formats/half_float.h"

namespace hartonomous::engine::models {
namespace {

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

uint16_t LoadU16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) |
                               (static_cast<unsigned char>(p[1]) << 8));
}

void StoreU16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>(v >> 8);
}

bool IsSaturated(float x, float d16, int qmax) {
  return std::isfinite(d16) && std::fabs(x) > std::fabs(d16) * static_cast<float>(qmax) * 1.0001f;
}

constexpr double kSlack = 1.0 / (1 << 20);

}  // namespace

const char* QuantTypeName(QuantType type) {
  switch (type) {
    case QuantType::kInt8PerChannel:
      return "int8";
    case QuantType::kQ8_0:
      return "q8_0";
    case QuantType::kQ4_0:
      return "q4_0";
    case QuantType::kF16:
      return "f16";
    case QuantType::kBF16:
      return "bf16";
  }
  return "unknown";
}

Result<std::vector<float>> ToFloat(std::string_view tensor, std::string_view dtype,
                                   std::string_view bytes) {
  const std::string field = "tensor \"" + std::string(tensor) + "\"";
  size_t size = 0;
  int kind = 0;  // 1 f32, 2 f16, 3 bf16, 4 f64
  if (dtype == "F32" || dtype == "FLOAT") {
    size = 4, kind = 1;
  } else if (dtype == "F16" || dtype == "FLOAT16") {
    size = 2, kind = 2;
  } else if (dtype == "BF16" || dtype == "BFLOAT16") {
    size = 2, kind = 3;
  } else if (dtype == "F64" || dtype == "DOUBLE") {
    size = 8, kind = 4;
  } else if (dtype == "Q8_0" || dtype == "Q4_0") {
    // GGUF blocks: dequantized as llama.cpp does.
    const bool q8 = dtype == "Q8_0";
    const size_t block = q8 ? 34 : 18;
    if (bytes.size() % block != 0) {
      return Bad(field + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                 std::string(dtype) + " blocks");
    }
    QuantizedTensor q;
    q.type = q8 ? QuantType::kQ8_0 : QuantType::kQ4_0;
    q.rows = 1;
    q.cols = bytes.size() / block * kQuantBlock;
    q.data = std::string(bytes);
    return Dequantize(q);
  } else {
    return Bad(field + ": dtype " + std::string(dtype) +
               " cannot be read as float (F32, F16, BF16, F64, Q8_0 or Q4_0)");
  }
  if (bytes.size() % size != 0) {
    return Bad(field + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
               std::string(dtype) + " values");
  }
  std::vector<float> out(bytes.size() / size);
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = bytes.data() + i * size;
    switch (kind) {
      case 1:
        std::memcpy(&out[i], p, 4);
        break;
      case 2:
        out[i] = HalfToFloat(LoadU16(p));
        break;
      case 3:
        out[i] = Bfloat16ToFloat(LoadU16(p));
        break;
      default: {
        double d;
        std::memcpy(&d, p, 8);
        out[i] = static_cast<float>(d);
        break;
      }
    }
  }
  return out;
}

Result<QuantizedTensor> Quantize(std::string_view tensor, std::span<const float> x, uint64_t rows,
                                 uint64_t cols, QuantType type, const QuantizeOptions& options) {
  const std::string field = "tensor \"" + std::string(tensor) + "\"";
  if (cols != 0 && rows > UINT64_MAX / cols) return Bad(field + ": rows x cols overflows");
  if (x.size() != rows * cols) {
    return Bad(field + ": " + std::to_string(x.size()) + " values for " + std::to_string(rows) +
               " x " + std::to_string(cols));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      return Bad(field + ": element " + std::to_string(i) + " is " +
                 (std::isnan(x[i]) ? "NaN" : "infinite"));
    }
  }
  QuantizedTensor q;
  q.type = type;
  q.rows = rows;
  q.cols = cols;
  const auto too_big = [&](uint64_t index, const char* what) {
    return Bad(field + ": element " + std::to_string(index) + " " + what +
               " is beyond the fp16 range (set saturate to clamp)");
  };
  switch (type) {
    case QuantType::kInt8PerChannel: {
      q.data.resize(x.size());
      for (uint64_t r = 0; r < rows; ++r) {
        const float* row = x.data() + r * cols;
        float amax = 0;
        for (uint64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
        const float d = amax / 127.0f;
        q.scales.push_back(d);
        for (uint64_t c = 0; c < cols; ++c) {
          const float v = d != 0 ? std::round(row[c] / d) : 0.0f;
          q.data[r * cols + c] =
              static_cast<char>(static_cast<int8_t>(std::clamp(v, -127.0f, 127.0f)));
        }
      }
      return q;
    }
    case QuantType::kQ8_0:
    case QuantType::kQ4_0: {
      if (cols % kQuantBlock != 0) {
        return Bad(field + ": row length " + std::to_string(cols) +
                   " is not a multiple of the block size 32");
      }
      const bool q8 = type == QuantType::kQ8_0;
      const size_t block_bytes = q8 ? 34 : 18;
      const uint64_t blocks = x.size() / kQuantBlock;
      q.data.resize(blocks * block_bytes);
      for (uint64_t b = 0; b < blocks; ++b) {
        const float* v = x.data() + b * kQuantBlock;
        char* out = q.data.data() + b * block_bytes;
        float amax = 0, max = 0;
        for (uint64_t j = 0; j < kQuantBlock; ++j) {
          if (amax < std::fabs(v[j])) {
            amax = std::fabs(v[j]);
            max = v[j];
          }
        }
        float d = q8 ? amax / 127.0f : max / -8.0f;
        if (std::fabs(d) > kFp16Max) {
          // The scale itself does not fit fp16 (fp16(d) would be inf).
          if (FloatToHalf(d) == 0x7c00 || FloatToHalf(d) == 0xfc00) {
            if (!options.saturate) return too_big(b * kQuantBlock, "(its block's scale)");
            d = std::copysign(kFp16Max, d);
          }
        }
        q.scales.push_back(d);
        const uint16_t d16 = FloatToHalf(d);
        StoreU16(out, d16);
        const float id = d != 0 ? 1.0f / d : 0.0f;
        if (q8) {
          for (uint64_t j = 0; j < kQuantBlock; ++j) {
            float r = std::round(v[j] * id);
            if (r > 127.0f || r < -127.0f) {
              ++q.saturated;
              r = std::clamp(r, -127.0f, 127.0f);
            }
            out[2 + j] = static_cast<char>(static_cast<int8_t>(r));
          }
        } else {
          for (uint64_t j = 0; j < kQuantBlock / 2; ++j) {
            const float x0 = v[j] * id + 8.5f;
            const float x1 = v[j + 16] * id + 8.5f;
            // The reference's (int8_t) cast truncates; inputs are >= 0.5
            // unless the scale was clamped, so clamp to the code range.
            const auto code = [&](float f) {
              if (f < 0.0f || f >= 17.0f) ++q.saturated;
              const int t = f < 0.0f ? 0 : static_cast<int>(std::min(f, 16.0f));
              return static_cast<uint8_t>(std::min(15, t));
            };
            out[2 + j] = static_cast<char>(code(x0) | (code(x1) << 4));
          }
        }
      }
      return q;
    }
    case QuantType::kF16:
    case QuantType::kBF16: {
      q.data.resize(x.size() * 2);
      const bool half = type == QuantType::kF16;
      for (size_t i = 0; i < x.size(); ++i) {
        uint16_t h = half ? FloatToHalf(x[i]) : FloatToBfloat16(x[i]);
        if ((h & 0x7fff) == (half ? 0x7c00 : 0x7f80)) {
          if (!options.saturate) return too_big(i, "");
          ++q.saturated;
          h = static_cast<uint16_t>((h & 0x8000) | (half ? 0x7bff : 0x7f7f));
        }
        StoreU16(q.data.data() + 2 * i, h);
      }
      return q;
    }
  }
  return Status::Internal("unknown quantization type");
}

std::vector<float> Dequantize(const QuantizedTensor& q) {
  std::vector<float> y(q.rows * q.cols);
  switch (q.type) {
    case QuantType::kInt8PerChannel:
      for (uint64_t r = 0; r < q.rows; ++r) {
        for (uint64_t c = 0; c < q.cols; ++c) {
          y[r * q.cols + c] =
              static_cast<float>(static_cast<int8_t>(q.data[r * q.cols + c])) * q.scales[r];
        }
      }
      break;
    case QuantType::kQ8_0:
      for (uint64_t b = 0; b < y.size() / kQuantBlock; ++b) {
        const char* in = q.data.data() + b * 34;
        const float d = HalfToFloat(LoadU16(in));
        for (uint64_t j = 0; j < kQuantBlock; ++j) {
          y[b * kQuantBlock + j] = static_cast<float>(static_cast<int8_t>(in[2 + j])) * d;
        }
      }
      break;
    case QuantType::kQ4_0:
      for (uint64_t b = 0; b < y.size() / kQuantBlock; ++b) {
        const char* in = q.data.data() + b * 18;
        const float d = HalfToFloat(LoadU16(in));
        for (uint64_t j = 0; j < kQuantBlock / 2; ++j) {
          const uint8_t byte = static_cast<uint8_t>(in[2 + j]);
          y[b * kQuantBlock + j] = static_cast<float>((byte & 0x0f) - 8) * d;
          y[b * kQuantBlock + j + 16] = static_cast<float>((byte >> 4) - 8) * d;
        }
      }
      break;
    case QuantType::kF16:
    case QuantType::kBF16:
      for (size_t i = 0; i < y.size(); ++i) {
        const uint16_t h = LoadU16(q.data.data() + 2 * i);
        y[i] = q.type == QuantType::kF16 ? HalfToFloat(h) : Bfloat16ToFloat(h);
      }
      break;
  }
  return y;
}

ErrorStats MeasureError(std::span<const float> x, std::span<const float> y) {
  double signal = 0, noise = 0, max_err = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(x[i]) - static_cast<double>(y[i]);
    signal += static_cast<double>(x[i]) * x[i];
    noise += e * e;
    max_err = std::max(max_err, std::fabs(e));
  }
  ErrorStats s;
  const double n = x.empty() ? 1.0 : static_cast<double>(x.size());
  s.rmse = std::sqrt(noise / n);
  s.relative_rmse = signal > 0 ? std::sqrt(noise / signal) : 0.0;
  s.snr_db = noise == 0    ? std::numeric_limits<double>::infinity()
             : signal == 0 ? -std::numeric_limits<double>::infinity()
                           : 10.0 * std::log10(signal / noise);
  s.max_abs_error = max_err;
  return s;
}

Status CheckErrorBound(std::string_view tensor, std::span<const float> x, std::span<const float> y,
                       const QuantizedTensor& q) {
  const auto violation = [&](size_t i, double bound) {
    return Status::Internal("tensor \"" + std::string(tensor) + "\": element " + std::to_string(i) +
                            " error " +
                            std::to_string(std::fabs(static_cast<double>(x[i]) - y[i])) +
                            " over the bound " + std::to_string(bound));
  };
  const auto group_amax = [&](size_t begin, size_t n) {
    double a = 0;
    for (size_t j = begin; j < begin + n; ++j)
      a = std::max(a, std::fabs(static_cast<double>(x[j])));
    return a;
  };
  switch (q.type) {
    case QuantType::kInt8PerChannel:
      for (uint64_t r = 0; r < q.rows; ++r) {
        const size_t begin = r * q.cols;
        const double bound = q.scales[r] / 2.0 + kSlack * group_amax(begin, q.cols);
        for (size_t i = begin; i < begin + q.cols; ++i) {
          if (std::fabs(static_cast<double>(x[i]) - y[i]) > bound) return violation(i, bound);
        }
      }
      return Status::Ok();
    case QuantType::kQ8_0:
    case QuantType::kQ4_0: {
      const bool q8 = q.type == QuantType::kQ8_0;
      for (uint64_t b = 0; b < q.scales.size(); ++b) {
        const size_t begin = b * kQuantBlock;
        const double d = std::fabs(static_cast<double>(q.scales[b]));
        const float d16 = HalfToFloat(FloatToHalf(q.scales[b]));
        const double rounding = std::fabs(static_cast<double>(q.scales[b]) - d16);
        const double bound = (q8 ? d / 2.0 + 127.0 * rounding : d + 8.0 * rounding) +
                             kSlack * group_amax(begin, kQuantBlock);
        for (size_t i = begin; i < begin + kQuantBlock; ++i) {
          if (q.saturated > 0 && IsSaturated(x[i], d16, q8 ? 127 : 8)) continue;
          if (std::fabs(static_cast<double>(x[i]) - y[i]) > bound) return violation(i, bound);
        }
      }
      return Status::Ok();
    }
    case QuantType::kF16:
    case QuantType::kBF16: {
      const double rel = q.type == QuantType::kF16 ? 1.0 / 2048 : 1.0 / 256;
      const double floor = std::ldexp(1.0, q.type == QuantType::kF16 ? -25 : -134);
      for (size_t i = 0; i < x.size(); ++i) {
        const double ax = std::fabs(static_cast<double>(x[i]));
        if (q.type == QuantType::kF16 && ax > kFp16Max) continue;  // saturated
        const double bound = std::max(ax * rel, floor);
        if (std::fabs(static_cast<double>(x[i]) - y[i]) > bound) return violation(i, bound);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace hartonomous::engine::models
