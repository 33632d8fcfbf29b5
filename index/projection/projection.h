// Projection: maps a vector of a collection's dimension to a 3D point, for
// the spatial index. Two kinds, chosen by name with MakeProjection:
//  - "random": a seeded random orthonormal 3 x d matrix (Gram-Schmidt over
//    Gaussian rows). Needs no data; used until a collection has enough
//    vectors to fit PCA.
//  - "pca": the top three principal components of a sample (orthogonal
//    iteration on the centred sample, no d x d covariance), applied to the
//    centred vector.
// scale() reports the standard deviation of the fitted sample along each
// output axis, so users can choose radii in those units.
//
// Thread-safety: Project() is safe from many threads once fitted; Fit() and
// the restore functions are not concurrent with anything.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "index/spatial/spatial_index.h"

namespace hartonomous::index {

class Projection {
 public:
  virtual ~Projection() = default;

  // Fits to sample (row-major, rows of dimension()). InvalidArgument when the
  // sample has the wrong size or (pca) fewer than kMinPcaSample rows.
  virtual Status Fit(const std::vector<float>& sample, size_t rows) = 0;
  // REQUIRES: vector.size() == dimension().
  virtual Point3 Project(const float* vector) const = 0;

  virtual std::string_view kind() const = 0;
  size_t dimension() const { return dimension_; }
  // Per-axis standard deviation of the projected fit sample (1 for random
  // before any fit).
  const std::array<double, 3>& scale() const { return scale_; }
  // The 3 x d matrix (row-major) and the d-vector mean it applies.
  const std::vector<double>& axes() const { return axes_; }
  const std::vector<double>& mean() const { return mean_; }
  // Restores a fitted state (e.g. from storage). InvalidArgument on sizes.
  Status Restore(std::vector<double> axes, std::vector<double> mean, std::array<double, 3> scale);

  static constexpr size_t kMinPcaSample = 16;

 protected:
  explicit Projection(size_t dimension)
      : dimension_(dimension), axes_(3 * dimension, 0.0), mean_(dimension, 0.0) {}
  Point3 Apply(const float* vector) const;
  void MeasureScale(const std::vector<float>& sample, size_t rows);

  size_t dimension_;
  std::vector<double> axes_;  // 3 rows of dimension_
  std::vector<double> mean_;
  std::array<double, 3> scale_{1, 1, 1};
};

// kind "random" (seeded) or "pca"; InvalidArgument for another kind or a
// dimension outside 1..16384. A 1- or 2-dimensional collection projects onto
// its own axes, padded with zeros.
Result<std::unique_ptr<Projection>> MakeProjection(std::string_view kind, size_t dimension,
                                                   uint64_t seed = 1);

}  // namespace hartonomous::index
