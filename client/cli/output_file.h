// The -o FILE of a command that writes received bytes (get-doc, model
// export): a file, created or truncated, or '-' = standard output.
//
// Thread-safety: none; one command owns it.
#pragma once

#include <cstdint>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>

namespace hartonomous::cli {

class OutputFile {
 public:
  // Throws UsageError when path is empty, Failure when it cannot be opened.
  explicit OutputFile(const std::string& path);

  // False once the output failed (the caller stops receiving).
  bool Write(std::string_view bytes);
  // Throws Failure unless `expected` bytes were written: "received N bytes
  // but the <what> has M".
  void CheckSize(uint64_t expected, std::string_view what) const;
  // Closes a file, throwing Failure when it was not written whole.
  void Close();

  uint64_t written() const { return written_; }
  bool is_stdout() const { return path_ == "-"; }

 private:
  const std::string path_;
  std::ofstream file_;
  std::ostream* out_;
  uint64_t written_ = 0;
};

}  // namespace hartonomous::cli
