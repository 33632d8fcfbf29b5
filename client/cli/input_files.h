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
  // Non-empty (only with InputOptions::keep_going): why this entry cannot be
  // ingested ("a FIFO, not a regular file", "a symbolic link loop", ...).
  // Such an entry is never opened.
  std::string problem;
};

struct InputOptions {
  // Descend into directory arguments. Default: false (a directory is an error).
  bool recursive = false;
  // Report a bad entry (missing, unreadable directory, symbolic link loop,
  // FIFO, device or socket found under a directory) as an InputFile with
  // `problem` set, in its place, instead of throwing. Default: false.
  bool keep_going = false;
};

// Expands `args` in order. A directory is an error unless options.recursive,
// in which case the regular files below it are taken in path order (empty
// ones are skipped with a warning on stderr; symbolic links to regular files
// are taken, directory symlinks are not followed, dangling ones are skipped
// with a warning). Every entry is classified with lstat/stat before anything
// is opened: FIFOs, devices and sockets under a directory are never read. A
// FIFO or device named on the command line is read like standard input.
// "-" (standard input) may appear once.
// Throws Failure for a missing file, a directory without -r, an empty regular
// file named explicitly, or when nothing is left to ingest; UsageError for a
// repeated "-". With options.keep_going, per-entry failures become `problem`
// entries instead (a directory without -r and "-" twice still throw).
std::vector<InputFile> CollectInputs(const std::vector<std::string>& args,
                                     const InputOptions& options);

// The whole content of the file at path ("-" = standard input). Throws
// Failure naming the path when it cannot be read.
std::string ReadWholeFile(const std::string& path);

// The whole content of `input`. Throws Failure naming the path on an I/O error.
std::string ReadInput(const InputFile& input);

// Reads `input` whole into *content; returns an empty string on success,
// else why it failed (without the path): cannot be opened (permission, it
// vanished), is no longer a regular file, or its size differs from the size
// listed or changed while it was read. A file listed as regular is opened
// non-blocking, so a FIFO put in its place is reported, never waited on.
std::string ReadInputChecked(const InputFile& input, std::string* content);

// "file://" + the percent-encoded absolute form of `path` (RFC 8089): bytes
// outside the unreserved and path characters become %XX, so the URI is ASCII.
std::string FileUri(const std::string& path);

}  // namespace hartonomous::cli
