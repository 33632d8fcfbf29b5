// Reading vector data sets for `hartonomous load-vectors` and `search`:
//   .npy    2-D float32 or float64 array, C order (NumPy 1.0/2.0 headers)
//   .fvecs  per row: int32 dimension, then that many float32
//   IDX     ubyte images (magic 0x00000803): each image is one vector of
//           rows*cols components (Fashion-MNIST: 784); IDX ubyte labels
//           (magic 0x00000801) can be read alongside
// Any of them may be gzip-compressed (".gz").
//
// Errors: Failure naming the file and what is wrong with it.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hartonomous::cli {

struct VectorFile {
  enum class Format { kNpy, kFvecs, kIdxImages };
  Format format = Format::kNpy;
  size_t dimension = 0;
  size_t rows = 0;
  std::vector<float> values;          // rows * dimension
  std::vector<std::string> raw_rows;  // IDX: each image's bytes (the atom's content)
};

// Reads up to max_rows rows (0 = all).
VectorFile ReadVectorFile(const std::string& path, size_t max_rows = 0);
// IDX ubyte labels (magic 0x00000801).
std::vector<uint8_t> ReadIdxLabels(const std::string& path);

}  // namespace hartonomous::cli
