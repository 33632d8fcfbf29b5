#include "storage/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>

namespace hartonomous::storage {

std::optional<uint64_t> AvailableBytes(const std::string& path) {
  struct statvfs fs;
  if (statvfs(path.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

bool IsNoSpace(int rc, const std::string& path) {
  if (rc == ENOSPC) return true;
  if (rc != EIO) return false;
  const std::optional<uint64_t> available = AvailableBytes(path);
  return available && *available < kFullDiskSlackBytes;
}

Status NoSpace(std::string_view what, const std::string& path) {
  std::string msg = std::string(what) + ": no space left on device: the disk holding " + path +
                    " is full";
  if (auto available = AvailableBytes(path)) {
    msg += " (" + std::to_string(*available) + " bytes available)";
  }
  return Status::ResourceExhausted(std::move(msg));
}

}  // namespace hartonomous::storage
