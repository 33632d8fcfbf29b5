#include "input_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
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

void CollectDirectory(const fs::path& dir, std::vector<InputFile>* out) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code status_ec;
    if (it->is_regular_file(status_ec)) files.push_back(it->path());
  }
  if (ec) ThrowIoError(dir.string(), ec);
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::error_code status_ec;
    const fs::file_status status = fs::status(file, status_ec);
    if (status_ec) ThrowIoError(file.string(), status_ec);
    InputFile input = FileInput(file, status);
    if (input.size_known && input.size == 0) {
      std::cerr << "warning: skipping empty file '" << input.path << "'\n";
      continue;
    }
    out->push_back(std::move(input));
  }
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
      throw Failure("cannot read '" + arg + "': no such file or directory");
    }
    if (ec) ThrowIoError(arg, ec);
    if (fs::is_directory(status)) {
      if (!options.recursive) {
        throw Failure("'" + arg + "' is a directory (use -r to ingest the files under it)");
      }
      CollectDirectory(arg, &inputs);
      continue;
    }
    InputFile input = FileInput(arg, status);
    input.path = arg;
    if (input.size_known && input.size == 0) {
      throw Failure("'" + arg + "' is empty; an atom needs at least one byte of content");
    }
    inputs.push_back(std::move(input));
  }
  if (inputs.empty()) throw Failure("no files to ingest");
  return inputs;
}

std::string ReadInput(const InputFile& input) {
  int fd = STDIN_FILENO;
  if (!input.is_stdin) {
    fd = ::open(input.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw Failure("cannot open '" + input.path + "': " + std::strerror(errno));
    }
  }
  std::string content;
  if (input.size_known) content.reserve(input.size);
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      if (!input.is_stdin) ::close(fd);
      throw Failure("cannot read '" + input.path + "': " + std::strerror(error));
    }
    content.append(buffer, static_cast<size_t>(n));
  }
  if (!input.is_stdin) ::close(fd);
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
