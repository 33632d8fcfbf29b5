#include "storage/disk_space.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>

using namespace hartonomous;
using namespace hartonomous::storage;

TEST_CASE("ENOSPC is a full disk, EIO only when the filesystem is full") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const auto available = AvailableBytes(dir);
  REQUIRE(available.has_value());
  CHECK(IsNoSpace(ENOSPC, dir));
  // The test machine's temp dir has room: an EIO there is a real I/O error.
  if (*available >= kFullDiskSlackBytes) CHECK_FALSE(IsNoSpace(EIO, dir));
  CHECK_FALSE(IsNoSpace(EACCES, dir));
  CHECK_FALSE(AvailableBytes(dir + "/no/such/dir").has_value());
  CHECK_FALSE(IsNoSpace(EIO, dir + "/no/such/dir"));
}

TEST_CASE("NoSpace is RESOURCE_EXHAUSTED naming the operation, the reason and the path") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  Status s = NoSpace("commit", dir);
  CHECK(s.code() == Status::Code::kResourceExhausted);
  CHECK_THAT(s.message(), Catch::StartsWith("commit: no space left on device: the disk holding " +
                                            dir + " is full ("));
  CHECK_THAT(s.message(), Catch::EndsWith(" bytes available)"));
}
