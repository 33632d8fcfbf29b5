#include "load_driver.h"

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "open_loop_schedule.h"

namespace hartonomous::bench {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Nanos(Clock::duration d) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return ns < 0 ? 0 : static_cast<uint64_t>(ns);
}

double SecondsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

uint64_t CallStats::ok() const {
  auto it = codes.find(grpc::StatusCode::OK);
  return it == codes.end() ? 0 : it->second;
}

void CallStats::Add(const CallStats& other) {
  latency.Merge(other.latency);
  for (const auto& [code, n] : other.codes) codes[code] += n;
  for (const auto& [code, message] : other.first_message) first_message.emplace(code, message);
  items += other.items;
}

double ProcessStatusKb(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      std::istringstream fields(line.substr(name.size() + 1));
      double kb = -1;
      fields >> kb;
      return kb;
    }
  }
  return -1;
}

LoadResult RunLoad(const LoadOptions& options, const WorkloadMix& mix,
                   const std::vector<Workload*>& workloads,
                   const std::vector<std::shared_ptr<grpc::Channel>>& channels) {
  std::vector<std::unique_ptr<Stubs>> stubs;
  for (const auto& channel : channels) stubs.push_back(std::make_unique<Stubs>(channel));

  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  LoadResult result;
  std::vector<CallStats> per_workload(workloads.size());
  CallStats interval;  // since the last sample
  std::optional<Clock::time_point> last_completion;

  const Clock::time_point start = Clock::now();
  const Clock::time_point measure_start =
      start +
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.warmup_s));
  const bool has_end = options.duration_s > 0;
  const Clock::time_point end =
      measure_start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(options.duration_s));
  std::optional<OpenLoopSchedule> schedule;
  if (options.rate > 0) schedule.emplace(start, options.rate);
  if (options.server_pid > 0) {
    result.server_rss_start_kb = ProcessStatusKb(options.server_pid, "VmRSS");
    result.server_anon_start_kb = ProcessStatusKb(options.server_pid, "RssAnon");
  }

  // Samples every interval_s on their own thread while calls run.
  bool dispatch_done = false;
  std::thread sampler;
  if (options.interval_s > 0) {
    sampler = std::thread([&] {
      Clock::time_point next = measure_start;
      std::unique_lock<std::mutex> lock(mu);
      while (true) {
        next += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(options.interval_s));
        if (cv.wait_until(lock, next, [&] { return dispatch_done && in_flight == 0; })) break;
        IntervalSample s;
        s.end_s = SecondsBetween(measure_start, next);
        s.calls = interval.calls();
        s.calls_per_s = static_cast<double>(s.calls) / options.interval_s;
        s.p99_ns = interval.latency.ValueAtPercentile(99);
        s.errors = s.calls - interval.ok();
        lock.unlock();
        if (options.server_pid > 0) {
          s.server_rss_kb = ProcessStatusKb(options.server_pid, "VmRSS");
          s.server_anon_kb = ProcessStatusKb(options.server_pid, "RssAnon");
        }
        lock.lock();
        result.intervals.push_back(s);
        interval = CallStats();
      }
    });
  }

  uint64_t seq = 0;
  uint64_t measured_sent = 0;
  for (;; ++seq) {
    Clock::time_point intended = Clock::now();
    if (schedule) {
      intended = schedule->IntendedTime(seq);
      std::this_thread::sleep_until(intended);
    }
    const bool measured = intended >= measure_start;
    if (measured) {
      if (options.requests > 0 && measured_sent >= options.requests) break;
      if (has_end && intended >= end) break;
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < options.concurrency; });
      ++in_flight;
    }
    // Closed loop: the call is due when a slot frees.
    const Clock::time_point due = schedule ? intended : Clock::now();
    const bool counts = due >= measure_start;
    if (counts) ++measured_sent;
    const size_t which = mix.Pick(seq);
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(options.timeout_ms));
    ++result.sent;
    workloads[which]->Start(seq, *stubs[seq % stubs.size()], std::move(context),
                            [&, which, due, counts](const grpc::Status& status, uint64_t items) {
                              const Clock::time_point now = Clock::now();
                              std::lock_guard<std::mutex> lock(mu);
                              ++result.completed;
                              if (counts) {
                                for (CallStats* stats : {&per_workload[which], &interval}) {
                                  stats->latency.Record(Nanos(now - due));
                                  ++stats->codes[status.error_code()];
                                  if (!status.ok())
                                    stats->first_message.emplace(status.error_code(),
                                                                 status.error_message());
                                  stats->items += items;
                                }
                                if (!last_completion || now > *last_completion)
                                  last_completion = now;
                              } else {
                                ++result.warmup_calls;
                              }
                              --in_flight;
                              cv.notify_all();
                            });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    dispatch_done = true;
    cv.wait(lock, [&] { return in_flight == 0; });
    cv.notify_all();
  }
  if (sampler.joinable()) sampler.join();

  for (size_t i = 0; i < workloads.size(); ++i) {
    result.total.Add(per_workload[i]);
    result.by_workload[mix.entries()[i].name] = std::move(per_workload[i]);
  }
  const Clock::time_point first = std::max(start, measure_start);
  result.measured_s = last_completion ? SecondsBetween(first, *last_completion) : 0;
  if (options.server_pid > 0) {
    result.server_rss_end_kb = ProcessStatusKb(options.server_pid, "VmRSS");
    result.server_anon_end_kb = ProcessStatusKb(options.server_pid, "RssAnon");
  }
  return result;
}

}  // namespace hartonomous::bench
