#include "output_file.h"

#include <iostream>

#include "cli_errors.h"

namespace hartonomous::cli {

OutputFile::OutputFile(const std::string& path) : path_(path), out_(&std::cout) {
  if (path.empty()) throw UsageError("-o FILE is required ('-' = standard output)");
  if (is_stdout()) return;
  file_.open(path, std::ios::binary | std::ios::trunc);
  if (!file_) throw Failure("cannot write '" + path + "'");
  out_ = &file_;
}

bool OutputFile::Write(std::string_view bytes) {
  out_->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  written_ += bytes.size();
  return static_cast<bool>(*out_);
}

void OutputFile::CheckSize(uint64_t expected, std::string_view what) const {
  if (written_ != expected) {
    throw Failure("received " + std::to_string(written_) + " bytes but the " + std::string(what) +
                  " has " + std::to_string(expected));
  }
}

void OutputFile::Close() {
  if (is_stdout()) return;
  file_.close();
  if (!file_) throw Failure("cannot write '" + path_ + "'");
}

}  // namespace hartonomous::cli
