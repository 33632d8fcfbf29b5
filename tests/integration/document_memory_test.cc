// Peak memory of document ingest against the real daemon: a document at the
// densest decomposition the part budget allows stays within the multiple of
// its size that docs/api.md states, and documents past the budget are
// refused before their parts are built. Memory, not time: the daemon's peak
// resident set (VmHWM) before and after one request.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "daemon_harness.h"
#include "server/engine/documents/decompose/part_budget.h"
#include "sanitizer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

// The documented bounds (docs/api.md): peak memory of one IngestDocument is
// at most kMultiple x its bytes plus kSlack; a document refused for its part
// count at most kRefusedMultiple x its bytes plus kSlack.
constexpr uint64_t kMultiple = 40;
constexpr uint64_t kRefusedMultiple = 4;
constexpr uint64_t kSlack = uint64_t{64} << 20;

uint64_t PeakRssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  FAIL("no VmHWM in /proc/" << pid << "/status");
  return 0;
}

// One paragraph of distinct sentences of exactly `sentence_bytes` each, cut
// from the Debian license texts: the densest text the part budget allows
// when sentence_bytes is PartBudget::kMinBytesPerPart.
std::string DenseText(size_t bytes, size_t sentence_bytes) {
  std::string words;
  for (const char* name : {"GPL-3", "Apache-2.0", "Artistic", "MPL-2.0", "LGPL-2.1", "GPL-2"}) {
    for (char c : ReadFile(std::string("/usr/share/common-licenses/") + name)) {
      if (c == '.' || c == '!' || c == '?' || c == '\n' || c == '\r' ||
          static_cast<unsigned char>(c) >= 0x80) {
        c = ' ';
      }
      words.push_back(c);
    }
  }
  REQUIRE(words.size() > 100000);
  std::string out;
  out.reserve(bytes);
  for (size_t at = 0; out.size() + sentence_bytes <= bytes; at += 7) {
    out += words.substr(at % (words.size() - sentence_bytes), sentence_bytes - 2);
    out += ". ";
  }
  return out;
}

grpc::Status Ingest(Daemon& daemon, const v1::IngestDocumentRequest& header,
                    const std::string& body, v1::IngestDocumentResponse* response) {
  return daemon.client().IngestDocument(header, body, response);
}

uint64_t ActiveAtoms(Daemon& daemon) {
  v1::DedupStats stats;
  REQUIRE(daemon.client().GetDedupStats(1, &stats).ok());
  return stats.total().unique_atoms();
}

}  // namespace

TEST_CASE("peak memory of a document at the part budget stays within the stated multiple",
          "[documents][limits][memory]") {
  if (kAddressSanitized) {
    WARN("not measured under AddressSanitizer: its allocator's quarantine and shadow memory");
    return;
  }
  Daemon daemon;
  // Warm up the daemon's threads, pools and LMDB maps with a small document.
  v1::IngestDocumentResponse response;
  REQUIRE(Ingest(daemon, DocumentHeader("text"), ReadFile("/usr/share/common-licenses/GPL-3"),
                 &response)
              .ok());

  const std::string text = DenseText(size_t{8} << 20, engine::PartBudget::kMinBytesPerPart);
  const uint64_t before = PeakRssBytes(daemon.pid());
  const grpc::Status status = Ingest(daemon, DocumentHeader("text"), text, &response);
  REQUIRE(status.error_message() == "");
  REQUIRE(status.ok());
  const uint64_t after = PeakRssBytes(daemon.pid());
  const uint64_t sentences = text.size() / engine::PartBudget::kMinBytesPerPart;
  CHECK(response.atoms_created() + response.atoms_reused() >= sentences);
  INFO("peak grew by " << (after - before) << " bytes for a " << text.size() << "-byte document");
  CHECK(after - before <= kMultiple * text.size() + kSlack);
}

TEST_CASE("documents past the part budget are refused without building their parts",
          "[documents][limits][memory]") {
  Daemon daemon({.data_dir = "", .extra_args = {"--max-batch-bytes", "64M"}});
  v1::IngestDocumentResponse response;
  REQUIRE(Ingest(daemon, DocumentHeader("text"), ReadFile("/usr/share/common-licenses/GPL-3"),
                 &response)
              .ok());
  const uint64_t atoms_before = ActiveAtoms(daemon);

  std::string dots;
  for (int i = 0; i < (8 << 20); ++i) dots += ". ";  // 16 MiB, 8 Mi one-sentence parts
  const uint64_t before = PeakRssBytes(daemon.pid());
  grpc::Status status = Ingest(daemon, DocumentHeader("text"), dots, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("content: the document decomposes into more than") == 0);
  CHECK(PeakRssBytes(daemon.pid()) - before <= kRefusedMultiple * dots.size() + kSlack);

  // A 4 MiB PGM in 1 x 1 patches.
  std::string pgm = "P5\n2048 2048\n255\n";
  const std::string license = ReadFile("/usr/share/common-licenses/GPL-3");
  while (pgm.size() < 17 + (size_t{2048} * 2048)) pgm += license;
  pgm.resize(17 + size_t{2048} * 2048);
  v1::IngestDocumentRequest image = DocumentHeader("image");
  image.mutable_options()->set_patch_width(1);
  image.mutable_options()->set_patch_height(1);
  status = Ingest(daemon, image, pgm, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("parts") != std::string::npos);

  // Nothing of either was stored; the daemon still serves.
  CHECK(ActiveAtoms(daemon) == atoms_before);
}
