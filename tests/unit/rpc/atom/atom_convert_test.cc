#include "server/rpc/atom/atom_convert.h"

#include <catch2/catch.hpp>

using namespace hartonomous;

TEST_CASE("Utf8Prefix never splits a multi-byte character") {
  const std::string text = "ab\xC3\xA9\xE2\x82\xAC";  // "abé€"
  CHECK(rpc::Utf8Prefix(text, 100) == text);
  CHECK(rpc::Utf8Prefix(text, 2) == "ab");
  CHECK(rpc::Utf8Prefix(text, 3) == "ab");
  CHECK(rpc::Utf8Prefix(text, 4) == "ab\xC3\xA9");
  CHECK(rpc::Utf8Prefix(text, 5) == "ab\xC3\xA9");
  CHECK(rpc::Utf8Prefix(text, 6) == "ab\xC3\xA9");
  CHECK(rpc::Utf8Prefix(text, 7) == text);
}

TEST_CASE("records convert to API atoms with hex hashes and timestamps") {
  storage::AtomRecord record;
  record.set_atom_id(9);
  const auto digest = Sha256("abc");
  record.set_content_hash(std::string(reinterpret_cast<const char*>(digest.data()), 32));
  record.set_created_at_us(1'700'000'000'123'456);
  record.set_has_spatial_key(true);
  record.set_spatial_y(4.5);
  v1::Atom atom;
  rpc::ToProto(record, &atom);
  CHECK(atom.content_hash() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(atom.created_at().seconds() == 1'700'000'000);
  CHECK(atom.created_at().nanos() == 123'456'000);
  REQUIRE(atom.has_spatial_key());
  CHECK(atom.spatial_key().y() == 4.5);
  storage::AtomRecord no_point;
  v1::Atom plain;
  rpc::ToProto(no_point, &plain);
  CHECK_FALSE(plain.has_spatial_key());
}

TEST_CASE("dedup counters become savings") {
  engine::DedupReport report;
  report.total.set_unique_atoms(2);
  report.total.set_total_references(5);
  report.total.set_unique_bytes(100);
  report.total.set_logical_bytes(400);
  v1::DedupStats stats;
  rpc::ToProto(report, &stats);
  CHECK(stats.total().duplicates_avoided() == 3);
  CHECK(stats.total().bytes_saved() == 300);
  CHECK(stats.total().savings_percent() == Approx(75.0));
}
