// DataDirLock: one hartonomousd per data directory. An exclusive flock on
// DIR/hartonomousd.lock, held for the process's life and released by the
// kernel even on kill -9. The file records the holder's pid for messages.
//
// Thread-safety: not shared.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace hartonomous {

class DataDirLock {
 public:
  // FailedPrecondition naming the other process when the dir is in use.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace hartonomous
