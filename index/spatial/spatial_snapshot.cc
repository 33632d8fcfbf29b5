// Spatial index snapshots: a small binary file
//   "HTSPATL1" | be64 watermark | be64 count | count x (be64 id, 3 x f64) |
//   32-byte SHA-256 of everything before it
// written to PATH.tmp, fsynced, renamed over PATH, and the directory fsynced.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/sha256.h"
#include "index/spatial/spatial_index.h"
#include "storage/key_codec.h"

namespace hartonomous::index {
namespace {

constexpr char kMagic[] = "HTSPATL1";
constexpr size_t kMagicSize = 8;
constexpr size_t kEntrySize = 8 + 3 * 8;

void AppendDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  storage::AppendBe64(out, bits);
}

double ReadDouble(std::string_view b) {
  const uint64_t bits = storage::ReadBe64(b);
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

Status WriteFully(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal("snapshot " + path + ": write failed: " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status SaveSpatialSnapshot(const SpatialIndex& index, uint64_t watermark, const std::string& path) {
  const auto points = index.Points();
  std::string data(kMagic, kMagicSize);
  storage::AppendBe64(&data, watermark);
  storage::AppendBe64(&data, points.size());
  data.reserve(data.size() + points.size() * kEntrySize + 32);
  for (const auto& [id, p] : points) {
    storage::AppendBe64(&data, id);
    AppendDouble(&data, p.x);
    AppendDouble(&data, p.y);
    AppendDouble(&data, p.z);
  }
  const auto digest = Sha256(data);
  data.append(reinterpret_cast<const char*>(digest.data()), digest.size());

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Status::Internal("snapshot " + tmp + ": " + std::strerror(errno));
  Status written = WriteFully(fd, data, tmp);
  if (written.ok() && ::fsync(fd) != 0) {
    written = Status::Internal("snapshot " + tmp + ": fsync failed: " + std::strerror(errno));
  }
  ::close(fd);
  if (!written.ok()) return written;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Internal("snapshot " + path + ": rename failed: " + std::strerror(errno));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<uint64_t> LoadSpatialSnapshot(const std::string& path, SpatialIndex* index) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("snapshot " + path + ": no such file");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t header = kMagicSize + 16;
  if (data.size() < header + 32 || data.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    return Status::DataLoss("snapshot " + path + ": not a spatial index snapshot");
  }
  const std::string_view body(data.data(), data.size() - 32);
  const auto digest = Sha256(body);
  if (std::memcmp(digest.data(), data.data() + body.size(), 32) != 0) {
    return Status::DataLoss("snapshot " + path + ": checksum mismatch");
  }
  const uint64_t watermark = storage::ReadBe64(body.substr(kMagicSize));
  const uint64_t count = storage::ReadBe64(body.substr(kMagicSize + 8));
  if (body.size() != header + count * kEntrySize) {
    return Status::DataLoss("snapshot " + path + ": size does not match its point count");
  }
  std::vector<std::pair<uint64_t, Point3>> points;
  points.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const std::string_view e = body.substr(header + i * kEntrySize, kEntrySize);
    points.emplace_back(
        storage::ReadBe64(e),
        Point3{ReadDouble(e.substr(8)), ReadDouble(e.substr(16)), ReadDouble(e.substr(24))});
  }
  HT_RETURN_IF_ERROR(index->Assign(std::move(points)));
  return watermark;
}

}  // namespace hartonomous::index
