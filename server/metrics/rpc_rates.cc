#include "server/metrics/rpc_rates.h"

#include <algorithm>
#include <utility>

namespace hartonomous::metrics {

MethodCounts CountsByMethod(const std::map<std::vector<std::string>, double>& by_method_and_code) {
  MethodCounts out;
  for (const auto& [labels, value] : by_method_and_code) {
    if (labels.size() != 2) continue;
    const auto n = static_cast<uint64_t>(std::max(0.0, value));
    auto& [calls, errors] = out[labels[0]];
    calls += n;
    if (labels[1] != "OK") errors += n;
  }
  return out;
}

RpcRates RpcRateWindow::Sample(int64_t now_us, MethodCounts counts) {
  MutexLock lock(&mu_);
  if (samples_.empty()) samples_.push_back({started_us_, {}});  // all counts were 0 then
  // The base: the newest sample at or before the window's start, else the
  // oldest one (the interval is then shorter than the window). Older ones
  // go.
  while (samples_.size() >= 2 && samples_[1].at_us <= now_us - window_us_) samples_.pop_front();
  const Snapshot base = samples_.front();
  RpcRates rates;
  rates.interval_seconds = static_cast<double>(std::max<int64_t>(0, now_us - base.at_us)) / 1e6;
  const double seconds = rates.interval_seconds > 0 ? rates.interval_seconds : 1;
  uint64_t calls = 0, errors = 0;
  for (const auto& [method, now] : counts) {
    auto it = base.counts.find(method);
    const std::pair<uint64_t, uint64_t> before =
        it == base.counts.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
    MethodRate rate;
    rate.method = method;
    rate.calls = now.first >= before.first ? now.first - before.first : 0;
    rate.errors = now.second >= before.second ? now.second - before.second : 0;
    if (rate.calls == 0) continue;
    rate.calls_per_second = static_cast<double>(rate.calls) / seconds;
    rate.errors_per_second = static_cast<double>(rate.errors) / seconds;
    calls += rate.calls;
    errors += rate.errors;
    rates.methods.push_back(std::move(rate));
  }
  std::sort(rates.methods.begin(), rates.methods.end(),
            [](const MethodRate& a, const MethodRate& b) {
              return a.calls != b.calls ? a.calls > b.calls : a.method < b.method;
            });
  rates.calls_per_second = static_cast<double>(calls) / seconds;
  rates.errors_per_second = static_cast<double>(errors) / seconds;
  // Samples closer together than a 32nd of the window add nothing.
  if (samples_.empty() || now_us - samples_.back().at_us >= window_us_ / 32) {
    samples_.push_back({now_us, std::move(counts)});
  }
  while (samples_.size() > kMaxSamples) samples_.pop_front();
  return rates;
}

}  // namespace hartonomous::metrics
