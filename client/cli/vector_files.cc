#include "vector_files.h"

#include <zlib.h>

#include <cstring>
#include <memory>

#include "cli_errors.h"

namespace hartonomous::cli {
namespace {

// The whole file, decompressed when gzip (gzread passes plain files through).
std::string ReadAll(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw Failure("cannot open '" + path + "'");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(f, &gzclose);
  std::string out;
  char buf[1 << 16];
  while (true) {
    const int n = gzread(f, buf, sizeof(buf));
    if (n < 0) throw Failure("'" + path + "': read error (damaged gzip data?)");
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

uint32_t Be32(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

VectorFile ParseNpy(const std::string& path, const std::string& b, size_t max_rows) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0)
    throw Failure("'" + path + "': not a .npy file");
  const int major = static_cast<uint8_t>(b[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(b[8]) | static_cast<uint8_t>(b[9]) << 8;
    offset = 10;
  } else {
    if (b.size() < 12) throw Failure("'" + path + "': truncated .npy header");
    header_len = static_cast<uint32_t>(static_cast<uint8_t>(b[8])) |
                 static_cast<uint32_t>(static_cast<uint8_t>(b[9])) << 8 |
                 static_cast<uint32_t>(static_cast<uint8_t>(b[10])) << 16 |
                 static_cast<uint32_t>(static_cast<uint8_t>(b[11])) << 24;
    offset = 12;
  }
  if (b.size() < offset + header_len) throw Failure("'" + path + "': truncated .npy header");
  const std::string header = b.substr(offset, header_len);
  size_t word = 0;
  if (header.find("'<f4'") != std::string::npos) {
    word = 4;
  } else if (header.find("'<f8'") != std::string::npos) {
    word = 8;
  } else {
    throw Failure("'" + path +
                  "': only little-endian float32 ('<f4') or float64 ('<f8') arrays are supported");
  }
  if (header.find("'fortran_order': True") != std::string::npos) {
    throw Failure("'" + path + "': Fortran-order arrays are not supported; save with C order");
  }
  const size_t open = header.find("'shape': (");
  if (open == std::string::npos) throw Failure("'" + path + "': no shape in the .npy header");
  const size_t close = header.find(')', open);
  std::vector<size_t> shape;
  std::string dims = header.substr(open + 10, close - open - 10);
  size_t pos = 0;
  while (pos < dims.size()) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) ++pos;
    if (pos >= dims.size()) break;
    size_t end = pos;
    while (end < dims.size() && std::isdigit(static_cast<unsigned char>(dims[end]))) ++end;
    if (end == pos) throw Failure("'" + path + "': malformed shape in the .npy header");
    shape.push_back(std::stoull(dims.substr(pos, end - pos)));
    pos = end;
  }
  if (shape.size() == 1) shape.insert(shape.begin(), 1);
  if (shape.size() != 2 || shape[1] == 0)
    throw Failure("'" + path + "': expected a 2-D array (rows, dimension)");
  VectorFile out;
  out.format = VectorFile::Format::kNpy;
  out.dimension = shape[1];
  out.rows = max_rows != 0 ? std::min(max_rows, shape[0]) : shape[0];
  const size_t data = offset + header_len;
  if (b.size() < data + shape[0] * shape[1] * word) throw Failure("'" + path + "': truncated data");
  out.values.resize(out.rows * out.dimension);
  for (size_t i = 0; i < out.values.size(); ++i) {
    if (word == 4) {
      std::memcpy(&out.values[i], b.data() + data + i * 4, 4);
    } else {
      double d;
      std::memcpy(&d, b.data() + data + i * 8, 8);
      out.values[i] = static_cast<float>(d);
    }
  }
  return out;
}

VectorFile ParseFvecs(const std::string& path, const std::string& b, size_t max_rows) {
  VectorFile out;
  out.format = VectorFile::Format::kFvecs;
  size_t pos = 0;
  while (pos < b.size() && (max_rows == 0 || out.rows < max_rows)) {
    if (pos + 4 > b.size())
      throw Failure("'" + path + "': truncated row " + std::to_string(out.rows));
    int32_t dim;
    std::memcpy(&dim, b.data() + pos, 4);
    if (dim <= 0 || (out.dimension != 0 && static_cast<size_t>(dim) != out.dimension)) {
      throw Failure("'" + path + "': row " + std::to_string(out.rows) + " has dimension " +
                    std::to_string(dim) +
                    (out.dimension ? ", the first row " + std::to_string(out.dimension) : ""));
    }
    out.dimension = static_cast<size_t>(dim);
    if (pos + 4 + out.dimension * 4 > b.size())
      throw Failure("'" + path + "': truncated row " + std::to_string(out.rows));
    const size_t at = out.values.size();
    out.values.resize(at + out.dimension);
    std::memcpy(&out.values[at], b.data() + pos + 4, out.dimension * 4);
    pos += 4 + out.dimension * 4;
    ++out.rows;
  }
  return out;
}

VectorFile ParseIdxImages(const std::string& path, const std::string& b, size_t max_rows) {
  if (b.size() < 16 || Be32(b, 0) != 0x00000803) {
    throw Failure("'" + path + "': not an IDX ubyte image file (magic 0x00000803)");
  }
  const size_t count = Be32(b, 4), rows = Be32(b, 8), cols = Be32(b, 12);
  VectorFile out;
  out.format = VectorFile::Format::kIdxImages;
  out.dimension = rows * cols;
  out.rows = max_rows != 0 ? std::min(max_rows, count) : count;
  if (out.dimension == 0 || b.size() < 16 + count * out.dimension)
    throw Failure("'" + path + "': truncated images");
  out.values.resize(out.rows * out.dimension);
  out.raw_rows.reserve(out.rows);
  for (size_t r = 0; r < out.rows; ++r) {
    const size_t at = 16 + r * out.dimension;
    out.raw_rows.push_back(b.substr(at, out.dimension));
    for (size_t i = 0; i < out.dimension; ++i) {
      out.values[r * out.dimension + i] =
          static_cast<float>(static_cast<uint8_t>(b[at + i])) / 255.0f;
    }
  }
  return out;
}

}  // namespace

VectorFile ReadVectorFile(const std::string& path, size_t max_rows) {
  const std::string bytes = ReadAll(path);
  std::string name = path;
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".npy")) return ParseNpy(path, bytes, max_rows);
  if (EndsWith(name, ".fvecs")) return ParseFvecs(path, bytes, max_rows);
  if (bytes.size() >= 4 && Be32(bytes, 0) == 0x00000803)
    return ParseIdxImages(path, bytes, max_rows);
  throw Failure("'" + path + "': unknown vector format; expected .npy, .fvecs or IDX images");
}

std::vector<uint8_t> ReadIdxLabels(const std::string& path) {
  const std::string b = ReadAll(path);
  if (b.size() < 8 || Be32(b, 0) != 0x00000801) {
    throw Failure("'" + path + "': not an IDX ubyte label file (magic 0x00000801)");
  }
  const size_t count = Be32(b, 4);
  if (b.size() < 8 + count) throw Failure("'" + path + "': truncated labels");
  return std::vector<uint8_t>(b.begin() + 8, b.begin() + 8 + static_cast<ptrdiff_t>(count));
}

}  // namespace hartonomous::cli
