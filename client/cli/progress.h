// A one-line progress bar for long ingests, drawn on a terminal only:
//   [=========>          ]  3/10 files  12.0 MiB/40.0 MiB  25.1 MB/s
//
// It appears when the output is a TTY and the job is long: more than one file,
// or more than kShowAfter since the start. It is never drawn into a pipe or a
// file, so scripted output stays clean.
//
// Thread-safety: none; one thread owns a ProgressBar.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hartonomous::cli {

class ProgressBar {
 public:
  // total_bytes 0 = unknown (e.g. standard input). fd is usually STDERR_FILENO.
  ProgressBar(int fd, uint64_t total_files, uint64_t total_bytes);
  ~ProgressBar();  // Clear()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Reports the work done so far; redraws at most every kRedrawInterval.
  void Update(uint64_t files_done, uint64_t bytes_done);
  // Erases the bar, if drawn, so that messages can follow on a clean line.
  void Clear();

  static constexpr std::chrono::milliseconds kShowAfter{1000};
  static constexpr std::chrono::milliseconds kRedrawInterval{100};

 private:
  std::string Render(uint64_t files_done, uint64_t bytes_done, double seconds) const;
  void Write(const std::string& text);

  const int fd_;
  const bool enabled_;
  const uint64_t total_files_;
  const uint64_t total_bytes_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

}  // namespace hartonomous::cli
