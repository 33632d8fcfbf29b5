#include "input_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "cli_errors.h"

namespace hartonomous::cli {
namespace {

namespace fs = std::filesystem;

InputFile FileInput(const fs::path& path, const fs::file_status& status) {
  InputFile input;
  input.path = path.string();
  input.source_uri = FileUri(input.path);
  if (fs::is_regular_file(status)) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(path, ec);
    if (!ec) {
      input.size_known = true;
      input.size = size;
    }
  }
  return input;
}

[[noreturn]] void ThrowIoError(const std::string& path, const std::error_code& ec) {
  throw Failure("cannot read '" + path + "': " + ec.message());
}

InputFile Problem(const std::string& path, const std::string& problem) {
  InputFile input;
  input.path = path;
  input.source_uri = FileUri(path);
  input.problem = problem;
  return input;
}

// Why a file of this type is not ingested, or empty for a regular file.
std::string TypeProblem(fs::file_type type) {
  switch (type) {
    case fs::file_type::fifo:
      return "a FIFO (named pipe), not a regular file; not read";
    case fs::file_type::character:
      return "a character device, not a regular file; not read";
    case fs::file_type::block:
      return "a block device, not a regular file; not read";
    case fs::file_type::socket:
      return "a socket, not a regular file; not read";
    default:
      return "";
  }
}

std::string IoProblem(const std::error_code& ec) {
  if (ec.value() == ELOOP) return "a symbolic link loop (too many levels of symbolic links)";
  return "cannot read: " + ec.message();
}

// The regular files (and, with keep_going, the bad entries) below dir.
void Walk(const fs::path& dir, const InputOptions& options, std::vector<InputFile>* out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code status_ec;
    const fs::file_status link = it->symlink_status(status_ec);  // lstat
    if (status_ec) {
      if (!options.keep_going) ThrowIoError(path.string(), status_ec);
      out->push_back(Problem(path.string(), IoProblem(status_ec)));
      continue;
    }
    if (fs::is_directory(link)) {
      Walk(path, options, out);
      continue;
    }
    fs::file_status status = link;
    if (fs::is_symlink(link)) {
      status = fs::status(path, status_ec);  // stat: the link's target
      if (status.type() == fs::file_type::not_found) {
        std::cerr << "warning: skipping dangling symbolic link '" << path.string() << "'\n";
        continue;
      }
      if (status_ec) {
        if (!options.keep_going) ThrowIoError(path.string(), status_ec);
        out->push_back(Problem(path.string(), IoProblem(status_ec)));
        continue;
      }
      if (fs::is_directory(status)) continue;  // directory links are not followed
    }
    if (fs::is_regular_file(status)) {
      InputFile input = FileInput(path, status);
      if (input.size_known && input.size == 0) {
        std::cerr << "warning: skipping empty file '" << input.path << "'\n";
        continue;
      }
      out->push_back(std::move(input));
      continue;
    }
    const std::string problem = TypeProblem(status.type());
    if (options.keep_going) {
      out->push_back(Problem(path.string(), problem.empty() ? "not a regular file" : problem));
    }
    // Without keep_going such entries are skipped silently, as before.
  }
  if (ec) {
    if (!options.keep_going) ThrowIoError(dir.string(), ec);
    out->push_back(Problem(dir.string(), "cannot list the directory: " + ec.message()));
  }
}

void CollectDirectory(const fs::path& dir, const InputOptions& options,
                      std::vector<InputFile>* out) {
  std::vector<InputFile> found;
  Walk(dir, options, &found);
  std::sort(found.begin(), found.end(),
            [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  for (InputFile& input : found) out->push_back(std::move(input));
}

}  // namespace

std::vector<InputFile> CollectInputs(const std::vector<std::string>& args,
                                     const InputOptions& options) {
  std::vector<InputFile> inputs;
  bool stdin_used = false;
  for (const std::string& arg : args) {
    if (arg == "-") {
      if (stdin_used) throw UsageError("'-' (standard input) may be given only once");
      stdin_used = true;
      InputFile input;
      input.path = "-";
      input.source_uri = "stdin";
      input.is_stdin = true;
      inputs.push_back(std::move(input));
      continue;
    }
    std::error_code ec;
    const fs::file_status status = fs::status(arg, ec);
    if (status.type() == fs::file_type::not_found) {
      if (!options.keep_going)
        throw Failure("cannot read '" + arg + "': no such file or directory");
      inputs.push_back(Problem(arg, "no such file or directory"));
      continue;
    }
    if (ec) {
      if (!options.keep_going) ThrowIoError(arg, ec);
      inputs.push_back(Problem(arg, IoProblem(ec)));
      continue;
    }
    if (fs::is_directory(status)) {
      if (!options.recursive) {
        throw Failure("'" + arg + "' is a directory (use -r to ingest the files under it)");
      }
      CollectDirectory(arg, options, &inputs);
      continue;
    }
    InputFile input = FileInput(arg, status);
    input.path = arg;
    if (input.size_known && input.size == 0) {
      const std::string problem = "empty; an atom needs at least one byte of content";
      if (!options.keep_going) throw Failure("'" + arg + "' is " + problem);
      input.problem = problem;
    }
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) throw Failure("no files to ingest");
  return inputs;
}

std::string ReadInputChecked(const InputFile& input, std::string* content) {
  content->clear();
  int fd = STDIN_FILENO;
  if (!input.is_stdin) {
    // A file listed as regular is opened non-blocking: should a FIFO have
    // taken its place, open does not wait for a writer.
    const int flags = O_RDONLY | O_CLOEXEC | (input.size_known ? O_NONBLOCK : 0);
    fd = ::open(input.path.c_str(), flags);
    if (fd < 0) {
      // ENOTDIR: a directory on its path was replaced by a file.
      if (errno == ENOENT || errno == ENOTDIR) return "vanished before it was read";
      return std::string("cannot open: ") + std::strerror(errno);
    }
  }
  auto fail = [&](const std::string& why) {
    if (!input.is_stdin) ::close(fd);
    return why;
  };
  uint64_t expected = 0;
  if (input.size_known) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("is no longer a regular file; not read");
    expected = static_cast<uint64_t>(st.st_size);
    if (expected != input.size) {
      return fail("changed size since it was listed (" + std::to_string(input.size) + " -> " +
                  std::to_string(expected) + " bytes)");
    }
    content->reserve(expected);
  }
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::string("cannot read: ") + std::strerror(errno));
    }
    content->append(buffer, static_cast<size_t>(n));
  }
  if (input.size_known && content->size() != expected) {
    return fail("changed size while it was read (" + std::to_string(expected) + " -> " +
                std::to_string(content->size()) + " bytes)");
  }
  return fail("");
}

std::string ReadWholeFile(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Failure("cannot read '" + path + "'");
  return text.str();
}

std::string ReadInput(const InputFile& input) {
  std::string content;
  const std::string error = ReadInputChecked(input, &content);
  if (!error.empty()) throw Failure("'" + input.path + "': " + error);
  return content;
}

std::string FileUri(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  const std::string full = ec ? path : absolute.lexically_normal().string();
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (char c : full) {
    const auto byte = static_cast<unsigned char>(c);
    const bool keep = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                      (byte >= '0' && byte <= '9') ||
                      std::strchr("-._~/!$&'()*+,;=:@", c) != nullptr;
    if (keep && byte != 0) {
      uri += c;
    } else {
      uri += '%';
      uri += kHex[byte >> 4];
      uri += kHex[byte & 15];
    }
  }
  return uri;
}

}  // namespace hartonomous::cli
