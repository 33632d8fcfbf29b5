// Telling a full disk from other write failures of LMDB.
//
// LMDB reports a full filesystem in two ways: a pwrite that writes nothing
// fails with ENOSPC, and a pwrite that writes only part of its pages (the
// filesystem filled up in the middle) is reported as EIO ("short write").
// fdatasync can fail with either. A write failure is a full disk when the
// code is ENOSPC, or EIO while the data dir's filesystem has less than
// kFullDiskSlackBytes available; any other EIO is a real I/O error.
//
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::storage {

// Below this many available bytes, an EIO from a write counts as a full disk.
inline constexpr uint64_t kFullDiskSlackBytes = uint64_t{1} << 20;

// Bytes available to the server on the filesystem holding path (statvfs
// f_bavail * f_frsize); nullopt when statvfs fails.
std::optional<uint64_t> AvailableBytes(const std::string& path);

// True when rc (an LMDB return code or errno from a write or commit) means
// the filesystem holding path is full.
bool IsNoSpace(int rc, const std::string& path);

// ResourceExhausted "<what>: no space left on device: the disk holding
// <path> is full (<n> bytes available)".
Status NoSpace(std::string_view what, const std::string& path);

}  // namespace hartonomous::storage
