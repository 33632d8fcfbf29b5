#include "workload_mix.h"

#include <cstdlib>

namespace hartonomous::bench {

bool WorkloadMix::Parse(const std::string& text, WorkloadMix* mix, std::string* error) {
  WorkloadMix out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t eq = part.find('=');
    Entry entry;
    entry.name = part.substr(0, eq);
    entry.weight = 1;
    if (entry.name.empty()) {
      *error = "--mix: empty workload name in '" + text + "'";
      return false;
    }
    if (eq != std::string::npos) {
      const std::string w = part.substr(eq + 1);
      char* end = nullptr;
      const long value = w.empty() ? 0 : std::strtol(w.c_str(), &end, 10);
      if (w.empty() || *end != '\0' || value < 1 || value > 1000) {
        *error =
            "--mix: weight of '" + entry.name + "' must be an integer in 1..1000, got '" + w + "'";
        return false;
      }
      entry.weight = static_cast<uint32_t>(value);
    }
    for (const Entry& seen : out.entries_) {
      if (seen.name == entry.name) {
        *error = "--mix: workload '" + entry.name + "' is listed twice";
        return false;
      }
    }
    out.entries_.push_back(entry);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out.BuildCycle();
  *mix = std::move(out);
  return true;
}

WorkloadMix WorkloadMix::Single(const std::string& name) {
  WorkloadMix mix;
  mix.entries_.push_back({name, 1});
  mix.BuildCycle();
  return mix;
}

void WorkloadMix::BuildCycle() {
  // Smooth weighted round robin: each step every entry gains its weight, the
  // largest current value is chosen and loses the total.
  int64_t total = 0;
  for (const Entry& e : entries_) total += e.weight;
  std::vector<int64_t> current(entries_.size(), 0);
  cycle_.clear();
  for (int64_t step = 0; step < total; ++step) {
    size_t best = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      current[i] += entries_[i].weight;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    cycle_.push_back(static_cast<uint32_t>(best));
  }
}

}  // namespace hartonomous::bench
