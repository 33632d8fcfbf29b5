// The daemon bounds its threads: calls beyond --max-threads get
// RESOURCE_EXHAUSTED instead of a thread each, and the server serves again
// once the calls holding the threads end.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

int ThreadsOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  throw std::runtime_error("no Threads line for pid " + std::to_string(pid));
}

struct IdleStream {
  grpc::ClientContext context;
  v1::IngestAtomsResponse response;
  std::unique_ptr<grpc::ClientAsyncWriter<v1::IngestAtomsRequest>> writer;
  grpc::Status status;
  bool finished = false;
};

// Tags: 2*i = stream i started, 2*i+1 = stream i finished.
void* Tag(size_t i, bool finish) { return reinterpret_cast<void*>(2 * i + (finish ? 1 : 0)); }

}  // namespace

TEST_CASE("idle streams beyond --max-threads get RESOURCE_EXHAUSTED and threads stay bounded",
          "[limits]") {
  constexpr size_t kMaxThreads = 8;
  constexpr size_t kStreams = 40;
  Daemon daemon(Daemon::Options{{}, {"--max-threads", std::to_string(kMaxThreads)}});
  const int baseline = ThreadsOf(daemon.pid());

  auto stub = v1::AtomService::NewStub(daemon.client().channel());
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<IdleStream>> streams;
  for (size_t i = 0; i < kStreams; ++i) {
    auto s = std::make_unique<IdleStream>();
    s->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    s->writer = stub->AsyncIngestAtoms(&s->context, &s->response, &cq, Tag(i, false));
    // Never half-closed: the call ends only if the server ends it.
    s->writer->Finish(&s->status, Tag(i, true));
    streams.push_back(std::move(s));
  }

  // At most kMaxThreads calls can hold a thread; every other one must be
  // refused. Wait for those refusals.
  size_t finished = 0;
  auto next_event = [&] {
    void* tag = nullptr;
    bool ok = false;
    const auto got =
        cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(60));
    REQUIRE(got == grpc::CompletionQueue::GOT_EVENT);
    const auto value = reinterpret_cast<uintptr_t>(tag);
    if (value % 2 == 1) {
      streams[value / 2]->finished = true;
      ++finished;
    }
  };
  while (finished < kStreams - kMaxThreads) next_event();
  for (const auto& s : streams) {
    if (!s->finished) continue;
    CHECK(s->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // The idle streams hold threads, but no more than the cap allows.
  CHECK(ThreadsOf(daemon.pid()) <= baseline + static_cast<int>(kMaxThreads));

  // End the idle streams; then calls are served again.
  for (auto& s : streams) {
    if (!s->finished) s->context.TryCancel();
  }
  while (finished < kStreams) next_event();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    grpc::ClientContext context;
    v1::ServerStats stats;
    grpc::Status status = daemon.client().admin().GetStats(&context, v1::GetStatsRequest(), &stats);
    // RESOURCE_EXHAUSTED while the cancelled handlers are still returning.
    if (!status.ok()) REQUIRE(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    if (status.ok() && stats.in_flight_calls() == 1) break;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
  }
  v1::IngestAtomResponse ingested;
  CHECK(daemon.client().IngestAtom(TextAtom("served again"), &ingested).ok());
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}
