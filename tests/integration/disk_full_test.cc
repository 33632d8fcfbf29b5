// A full disk, for real: the daemon's data dir on a small tmpfs. Writes that
// find no room fail with RESOURCE_EXHAUSTED naming the reason, store nothing
// of themselves, leave every acknowledged atom intact, and the next write
// after room comes back (a purge inside the data file, or free space on the
// filesystem) succeeds at once.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "test_util.h"
#include "tmpfs_mount.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

std::string RandomContent(std::mt19937_64& rng, size_t bytes) {
  std::string s(bytes, '\0');
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, bytes - i));
  }
  return s;
}

v1::IngestAtomRequest BlobAtom(const std::string& content) {
  v1::IngestAtomRequest r;
  r.set_content(content);
  r.set_modality("tensor");
  r.set_source_type("test");
  return r;
}

void RequireStored(Client& client, uint64_t atom_id, const std::string& content) {
  v1::Atom atom;
  REQUIRE(client.GetAtom(atom_id, true, &atom).ok());
  REQUIRE(atom.content() == content);
}

void RequireAbsent(Client& client, const std::string& content) {
  v1::Atom atom;
  REQUIRE(client.GetAtomByHash(Sha256Hex(content), false, &atom).error_code() ==
          grpc::StatusCode::NOT_FOUND);
}

}  // namespace

TEST_CASE("a full disk is RESOURCE_EXHAUSTED and the next write after room returns succeeds",
          "[storage][disk]") {
  TmpfsMount fs("size=24m");
  const std::string data_dir = fs.path() + "/data";
  const std::string filler_path = fs.path() + "/filler";
  Daemon daemon({.data_dir = data_dir, .extra_args = {"--initial-map-bytes", "1M"}});
  Client& client = daemon.client();

  // Leave a few MiB, then write atoms until the disk is full.
  FillUntil(filler_path, uint64_t{4} << 20);
  constexpr size_t kAtomBytes = 200 * 1000;
  std::mt19937_64 rng(42);
  std::map<uint64_t, std::string> acked;
  grpc::Status failed;
  std::string rejected;
  for (int i = 0; i < 200; ++i) {
    const std::string content = RandomContent(rng, kAtomBytes);
    v1::IngestAtomResponse response;
    failed = client.IngestAtom(BlobAtom(content), &response);
    if (!failed.ok()) {
      rejected = content;
      break;
    }
    acked[response.atom_id()] = content;
  }
  REQUIRE_FALSE(failed.ok());
  INFO(failed.error_message());
  CHECK(CodeName(failed.error_code()) == "RESOURCE_EXHAUSTED");
  CHECK(failed.error_message().find("no space left on device: the disk holding ") !=
        std::string::npos);
  CHECK(failed.error_message().find(fs.path()) != std::string::npos);
  REQUIRE(acked.size() >= 8);

  // Degraded, not down: health still SERVING (reads are answered), and the
  // stats say why writes fail.
  REQUIRE(client.WaitUntilServing(std::chrono::seconds(5)).ok());
  v1::ServerStats degraded;
  REQUIRE(client.GetServerStats(&degraded).ok());
  CHECK(degraded.state() == "degraded");
  CHECK_THAT(degraded.state_reason(), Catch::StartsWith("disk full: writes have failed"));
  CHECK_THAT(degraded.state_reason(), Catch::Contains(fs.path()));

  // Nothing half-written: every acknowledged atom whole, the failed one absent.
  for (const auto& [id, content] : acked) RequireStored(client, id, content);
  RequireAbsent(client, rejected);
  int status = 0;
  REQUIRE(waitpid(daemon.pid(), &status, WNOHANG) == 0);

  // Room inside the data file: delete and purge eight atoms. The pages they
  // held are free inside data.mdb; the filesystem stays full.
  std::vector<uint64_t> purged;
  for (auto it = acked.begin(); purged.size() < 8; ++it) purged.push_back(it->first);
  for (uint64_t id : purged) {
    v1::Atom atom;
    REQUIRE(client.DeleteAtom(id, &atom).ok());
  }
  // A write succeeded (the deletes): the server is no longer degraded.
  v1::ServerStats recovered;
  REQUIRE(client.GetServerStats(&recovered).ok());
  CHECK(recovered.state() == "serving");
  CHECK(recovered.state_reason().empty());
  v1::PurgeInactiveResponse purge;
  REQUIRE(client.PurgeInactive(0, &purge).ok());
  CHECK(purge.atoms_purged() == 8);
  for (uint64_t id : purged) acked.erase(id);

  // The very next write, larger than any slack but within the purged room,
  // succeeds: three atoms in one stream.
  std::vector<v1::IngestAtomRequest> batch;
  std::vector<std::string> contents;
  for (int i = 0; i < 3; ++i) {
    contents.push_back(RandomContent(rng, kAtomBytes));
    batch.push_back(BlobAtom(contents.back()));
  }
  v1::IngestAtomsResponse batch_response;
  grpc::Status after_purge = client.IngestAtoms(batch, &batch_response);
  INFO(after_purge.error_message());
  REQUIRE(after_purge.ok());
  for (int i = 0; i < 3; ++i) acked[batch_response.results(i).atom_id()] = contents[i];

  // Room on the filesystem: the filler goes, and a write of several MiB
  // succeeds at once.
  REQUIRE(std::remove(filler_path.c_str()) == 0);
  batch.clear();
  contents.clear();
  for (int i = 0; i < 10; ++i) {
    contents.push_back(RandomContent(rng, kAtomBytes));
    batch.push_back(BlobAtom(contents.back()));
  }
  grpc::Status after_free = client.IngestAtoms(batch, &batch_response);
  INFO(after_free.error_message());
  REQUIRE(after_free.ok());
  for (int i = 0; i < 10; ++i) acked[batch_response.results(i).atom_id()] = contents[i];
  for (const auto& [id, content] : acked) RequireStored(client, id, content);
  v1::ServerStats stats;
  REQUIRE(client.GetServerStats(&stats).ok());
  CHECK(stats.state() == "serving");

  // Nothing corrupt: every count, index and relation agrees.
  v1::CheckConsistencyResponse check;
  REQUIRE(client.CheckConsistency(false, 0, &check).ok());
  CHECK(check.mismatch_count() == 0);
}
