#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "format.h"

namespace hartonomous::cli {

ProgressBar::ProgressBar(int fd, uint64_t total_files, uint64_t total_bytes)
    : fd_(fd),
      enabled_(isatty(fd) == 1),
      total_files_(total_files),
      total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Update(uint64_t files_done, uint64_t bytes_done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto elapsed = now - start_;
  if (total_files_ <= 1 && elapsed < kShowAfter) return;
  if (drawn_ && now - last_draw_ < kRedrawInterval && files_done < total_files_) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  Write("\r" + Render(files_done, bytes_done, seconds) + "\x1b[K");
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  Write("\r\x1b[K");
  drawn_ = false;
}

std::string ProgressBar::Render(uint64_t files_done, uint64_t bytes_done, double seconds) const {
  constexpr int kWidth = 24;
  double fraction = 0;
  if (total_bytes_ > 0) {
    fraction = static_cast<double>(bytes_done) / static_cast<double>(total_bytes_);
  } else if (total_files_ > 0) {
    fraction = static_cast<double>(files_done) / static_cast<double>(total_files_);
  }
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar = "[";
  for (int i = 0; i < kWidth; ++i) {
    bar += i < filled ? '=' : (i == filled ? '>' : ' ');
  }
  bar += "]";

  char rate[32];
  const double mb_per_s = seconds > 0 ? static_cast<double>(bytes_done) / 1e6 / seconds : 0;
  std::snprintf(rate, sizeof(rate), "%.1f MB/s", mb_per_s);
  std::string line = bar + " " + std::to_string(files_done) + "/" + std::to_string(total_files_) +
                     " files  " + FormatBytes(bytes_done);
  if (total_bytes_ > 0) line += "/" + FormatBytes(total_bytes_);
  line += "  ";
  line += rate;
  return line;
}

void ProgressBar::Write(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n <= 0) return;  // a broken terminal is not worth failing the ingest
    done += static_cast<size_t>(n);
  }
}

}  // namespace hartonomous::cli
