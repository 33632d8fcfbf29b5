// A real, small filesystem for full-disk tests: a tmpfs mounted on a fresh
// directory (needs CAP_SYS_ADMIN; the test fails saying so otherwise), and
// the bytes available on a filesystem.
#pragma once

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "daemon_harness.h"

namespace hartonomous::testing {

// A tmpfs of the given size mounted on a fresh directory; unmounted (lazily,
// so a failing test cannot leave it busy) and removed on destruction.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& options) {
    path_ = dir_.path() + "/fs";
    REQUIRE(mkdir(path_.c_str(), 0755) == 0);
    if (mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      FAIL("mounting a tmpfs for the full-disk test failed (" << std::strerror(errno)
                                                              << "); it needs CAP_SYS_ADMIN");
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
};

inline uint64_t Available(const std::string& path) {
  struct statvfs fs;
  REQUIRE(statvfs(path.c_str(), &fs) == 0);
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

// Fills the filesystem holding `path` (a new file there) until `keep` bytes
// are left available.
inline void FillUntil(const std::string& path, uint64_t keep) {
  const uint64_t available = Available(path.substr(0, path.rfind('/')));
  REQUIRE(available > keep);
  std::ofstream filler(path, std::ios::binary);
  const std::string block(1 << 16, 'f');
  for (uint64_t written = 0; written + block.size() <= available - keep; written += block.size()) {
    filler.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  REQUIRE(filler.good());
}

}  // namespace hartonomous::testing
