#include "server/engine/documents/decompose/chunker.h"

#include <catch2/catch.hpp>
#include <set>

#include "tests/unit/engine/documents/decompose/decompose_test_util.h"

namespace hartonomous::engine {
namespace {

using testing::RandomBytes;
using testing::RoundTrip;

TEST_CASE("chunking round-trips and respects the bounds", "[chunker]") {
  std::mt19937_64 rng(7);
  DecomposeOptions o;
  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{2048}, size_t{2049}, size_t{70000},
                      size_t{1} << 20, size_t{3000001}}) {
    const std::string data = RandomBytes(rng, size);
    const Decomposition d = DecomposeBinary(data, "", o);
    REQUIRE(*RoundTrip(d) == data);
    for (size_t i = 0; i < d.parts.size(); ++i) {
      REQUIRE(d.parts[i].subtype == "chunk");
      REQUIRE(d.parts[i].content.size() <= o.chunk_max);
      if (i + 1 < d.parts.size()) REQUIRE(d.parts[i].content.size() >= o.chunk_min);
    }
    if (size == 0) REQUIRE(d.parts.empty());
  }
}

TEST_CASE("chunk sizes average near the target on random data", "[chunker]") {
  std::mt19937_64 rng(9);
  const std::string data = RandomBytes(rng, 8 << 20);
  const auto cuts = ChunkBoundaries(data, DecomposeOptions{});
  const double avg = static_cast<double>(data.size()) / static_cast<double>(cuts.size());
  CHECK(avg > 4096);
  CHECK(avg < 16384);
}

TEST_CASE("an insert in the middle leaves later chunks unchanged", "[chunker]") {
  std::mt19937_64 rng(11);
  const std::string a = RandomBytes(rng, 1 << 20);
  std::string b = a;
  b.insert(a.size() / 2, RandomBytes(rng, 100));
  const DecomposeOptions o;
  std::multiset<std::string> chunks_a;
  for (const auto& p : ChunkParts(a, o)) chunks_a.insert(p.content);
  const auto parts_b = ChunkParts(b, o);
  size_t shared = 0;
  for (const auto& p : parts_b) shared += chunks_a.count(p.content) > 0 ? 1 : 0;
  // Only the chunks around the edit differ.
  CHECK(parts_b.size() - shared <= 3);
  CHECK(chunks_a.size() > 50);
}

TEST_CASE("declared modality is kept for binary documents", "[chunker]") {
  auto d = Decompose(std::string("\x00\x01\x02", 3), "tensor", DecomposeOptions{});
  REQUIRE(d.ok());
  CHECK(d->modality == "tensor");
  CHECK(d->format == "binary");
  auto sniffed = Decompose(std::string("\x00\x01\x02", 3), "", DecomposeOptions{});
  CHECK(sniffed->modality == "binary");
}

TEST_CASE("options are range-checked by name", "[chunker]") {
  DecomposeOptions o;
  o.chunk_min = 10;
  CHECK(ValidateOptions(o).message().find("options.chunk_min") != std::string::npos);
  o = DecomposeOptions{};
  o.patch_width = 0;
  CHECK(ValidateOptions(o).message().find("options.patch_width") != std::string::npos);
  o = DecomposeOptions{};
  o.format = "gif";
  CHECK(ValidateOptions(o).code() == Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace hartonomous::engine
