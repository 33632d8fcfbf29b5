// The inputs of `hartonomous ingest`: command-line arguments expanded into a
// list of files (or standard input), and reading them whole.
//
// Thread-safety: stateless functions and plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hartonomous::cli {

struct InputFile {
  std::string path;        // as given ("-" for standard input) or as found by -r
  std::string source_uri;  // "file://" + absolute, percent-encoded path; or "stdin"
  bool is_stdin = false;
  bool size_known = false;  // false for standard input, pipes and devices
  uint64_t size = 0;        // bytes, when size_known
};

struct InputOptions {
  // Descend into directory arguments. Default: false (a directory is an error).
  bool recursive = false;
};

// Expands `args` in order. A directory is an error unless options.recursive,
// in which case the regular files below it are taken in path order (empty
// ones are skipped with a warning on stderr; directory symlinks are not
// followed). "-" (standard input) may appear once.
// Throws Failure for a missing file, a directory without -r, an empty regular
// file named explicitly, or when nothing is left to ingest; UsageError for a
// repeated "-".
std::vector<InputFile> CollectInputs(const std::vector<std::string>& args,
                                     const InputOptions& options);

// The whole content of `input`. Throws Failure naming the path on an I/O error.
std::string ReadInput(const InputFile& input);

// "file://" + the percent-encoded absolute form of `path` (RFC 8089): bytes
// outside the unreserved and path characters become %XX, so the URI is ASCII.
std::string FileUri(const std::string& path);

}  // namespace hartonomous::cli
