#include "server/engine/admin/compactor.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "server/engine/atoms/atom_engine.h"

namespace hartonomous::engine {
namespace {

constexpr auto kTestingHoldLimit = std::chrono::seconds(60);

}  // namespace

Compactor::Compactor(storage::Env& env, storage::WriteBatcher& writer, AtomEngine& atoms,
                     CompactorOptions options)
    : env_(env), writer_(writer), atoms_(atoms), options_(std::move(options)) {}

void Compactor::HoldForTesting() const {
  if (options_.testing_hold_until.empty()) return;
  spdlog::info("compaction held until {} exists (testing only)", options_.testing_hold_until);
  const auto deadline = std::chrono::steady_clock::now() + kTestingHoldLimit;
  std::error_code ec;
  while (!std::filesystem::exists(options_.testing_hold_until, ec) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<CompactionSummary> Compactor::Compact(bool purge_inactive) {
  bool expected = false;
  if (!running_.compare_exchange_strong(expected, true)) {
    return Status::FailedPrecondition("compact: a compaction is already running; retry after it");
  }
  struct Clear {
    std::atomic<bool>& flag;
    ~Clear() { flag = false; }
  } clear{running_};
  const auto began = std::chrono::steady_clock::now();
  CompactionSummary summary;
  spdlog::info("compaction started{}", purge_inactive ? " (purging inactive atoms first)" : "");
  if (purge_inactive) {
    auto purged = atoms_.PurgeInactive(0);
    if (!purged.ok()) {
      spdlog::warn("compaction failed: purge: {}", purged.status().ToString());
      return purged.status();
    }
    summary.atoms_purged = purged->atoms_purged;
  }
  // Blocks left mostly dead by purges (or by members another write stored
  // first) give their dead bytes back before the copy.
  auto repacked = atoms_.RepackPayloadBlocks();
  if (!repacked.ok()) {
    spdlog::warn("compaction failed: repacking payload blocks: {}", repacked.status().ToString());
    return repacked.status();
  }
  summary.blocks_repacked = repacked->blocks;
  summary.block_bytes_dropped = repacked->dead_bytes;
  storage::CompactResult result;
  Status compacted = writer_.RunExclusive([&]() -> Status {
    HoldForTesting();
    HT_ASSIGN_OR_RETURN(result, env_.Compact());
    return Status::Ok();
  });
  summary.duration_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - began)
                                                  .count());
  if (!compacted.ok()) {
    spdlog::warn("compaction failed after {} ms: {}", summary.duration_ms, compacted.ToString());
    return compacted;
  }
  summary.file_bytes_before = result.file_bytes_before;
  summary.file_bytes_after = result.file_bytes_after;
  summary.tables_repacked = result.repacked;
  ++completed_;
  spdlog::info(
      "compaction finished in {} ms: data.mdb {} -> {} bytes ({} inactive atoms purged, {} "
      "payload blocks repacked, {} dead content bytes dropped, tables {})",
      summary.duration_ms, summary.file_bytes_before, summary.file_bytes_after,
      summary.atoms_purged, summary.blocks_repacked, summary.block_bytes_dropped,
      summary.tables_repacked ? "repacked into full pages" : "copied page by page");
  return summary;
}

}  // namespace hartonomous::engine
