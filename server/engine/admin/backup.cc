#include "server/engine/admin/backup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "server/engine/vectors/embedding_engine.h"

namespace hartonomous::engine {
namespace {

namespace fs = std::filesystem;

// Links (or copies) one immutable snapshot file; false when it vanished
// first (a newer snapshot replaced it).
Result<bool> LinkOrCopy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  if (errno != EXDEV && errno != EPERM) {
    return Status::Internal("backup: link " + to.string() + ": " + std::strerror(errno));
  }
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) return false;
    return Status::Internal("backup: open " + from.string() + ": " + std::strerror(errno));
  }
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (out < 0) {
    const int saved = errno;
    ::close(in);
    return Status::Internal("backup: create " + to.string() + ": " + std::strerror(saved));
  }
  char buffer[1 << 16];
  ssize_t n;
  bool ok = true;
  while ((n = ::read(in, buffer, sizeof(buffer))) > 0) {
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer + done, static_cast<size_t>(n - done));
      if (w <= 0) {
        ok = false;
        break;
      }
      done += w;
    }
    if (!ok) break;
  }
  ok = ok && n == 0 && ::fsync(out) == 0;
  const int saved = errno;
  ::close(in);
  ::close(out);
  if (!ok) return Status::Internal("backup: copy to " + to.string() + ": " + std::strerror(saved));
  return true;
}

Status CopySnapshots(const fs::path& from_dir, const fs::path& to_dir, BackupReport* report) {
  std::error_code ec;
  if (!fs::exists(from_dir, ec)) return Status::Ok();
  for (const auto& collection : fs::directory_iterator(from_dir, ec)) {
    if (!collection.is_directory(ec)) continue;
    const fs::path target = to_dir / collection.path().filename();
    fs::create_directories(target, ec);
    if (ec) return Status::Internal("backup: create " + target.string() + ": " + ec.message());
    for (const auto& file : fs::directory_iterator(collection.path(), ec)) {
      if (file.path().extension() != ".snap") continue;
      HT_ASSIGN_OR_RETURN(bool copied, LinkOrCopy(file.path(), target / file.path().filename()));
      if (!copied) continue;
      ++report->index_files;
      report->index_bytes += fs::file_size(target / file.path().filename(), ec);
    }
  }
  if (ec) return Status::Internal("backup: list " + from_dir.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Result<BackupReport> WriteBackup(storage::Env& env, EmbeddingEngine& embeddings,
                                 const std::string& data_dir, const std::string& dest) {
  const auto began = std::chrono::steady_clock::now();
  const fs::path path(dest);
  std::error_code ec;
  if (dest.empty() || !path.is_absolute()) {
    return Status::InvalidArgument("path: must be an absolute directory path on the server, got '" +
                                   dest + "'");
  }
  if (fs::exists(path, ec)) {
    return Status::InvalidArgument("path: " + dest +
                                   " already exists (a backup goes to a new "
                                   "directory)");
  }
  if (!fs::is_directory(path.parent_path(), ec)) {
    return Status::InvalidArgument("path: the parent directory of " + dest + " does not exist");
  }
  if (!fs::create_directory(path, ec) || ec) {
    return Status::Internal("backup: create " + dest + ": " + ec.message());
  }
  BackupReport report;
  report.path = dest;
  auto fail = [&](Status status) {
    fs::remove_all(path, ec);
    return status;
  };
  spdlog::info("backup to {}: snapshotting the vector indexes", dest);
  if (Status s = embeddings.SnapshotAll(); !s.ok()) return fail(s);
  if (Status s =
          CopySnapshots(fs::path(data_dir) / "vector_indexes", path / "vector_indexes", &report);
      !s.ok()) {
    return fail(s);
  }
  spdlog::info("backup to {}: {} index files; copying LMDB", dest, report.index_files);
  auto copied = env.CopyCompacted((path / "data.mdb").string());
  if (!copied.ok()) return fail(copied.status());
  report.data_file_bytes = *copied;
  report.duration_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - began)
                                                 .count());
  spdlog::info("backup to {} done: data.mdb {} bytes, {} index files ({} bytes) in {} ms", dest,
               report.data_file_bytes, report.index_files, report.index_bytes, report.duration_ms);
  return report;
}

}  // namespace hartonomous::engine
