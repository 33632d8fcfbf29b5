// DocumentSourceTable over a real LMDB environment: rows by source and by
// root, replacement, removal, absent sources and corrupt rows.
#include "storage/tables/document_source_table.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/sha256.h"
#include "storage/key_codec.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

DocumentSourceRecord Row(const std::string& uri, uint64_t document_id) {
  DocumentSourceRecord r;
  r.set_source_uri(uri);
  r.set_document_id(document_id);
  r.set_updated_at_us(1234);
  return r;
}

std::string SourceKey(const std::string& uri) {
  const Sha256Digest d = Sha256(uri);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

void PutCommitted(testing::TempEnv& t, const DocumentSourceRecord& row) {
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(DocumentSourceTable(t.tables()).Put(txn, row).ok());
  REQUIRE(txn.Commit().ok());
}

std::vector<std::string> UrisOf(testing::TempEnv& t, uint64_t document_id) {
  ReadTxn txn(t.env());
  auto rows = DocumentSourceTable(t.tables()).ForDocument(txn, document_id);
  REQUIRE(rows.ok());
  std::vector<std::string> uris;
  for (const auto& r : *rows) {
    CHECK(r.document_id() == document_id);
    uris.push_back(r.source_uri());
  }
  std::sort(uris.begin(), uris.end());
  return uris;
}

}  // namespace

TEST_CASE("document source table: round trip by source and by root") {
  testing::TempEnv t;
  PutCommitted(t, Row("file:///a", 7));
  PutCommitted(t, Row("file:///b", 7));
  PutCommitted(t, Row("file:///c", 9));
  {
    ReadTxn txn(t.env());
    auto a = DocumentSourceTable(t.tables()).Find(txn, "file:///a");
    REQUIRE(a.ok());
    REQUIRE(a->has_value());
    CHECK((*a)->document_id() == 7);
    CHECK((*a)->source_uri() == "file:///a");
    CHECK((*a)->updated_at_us() == 1234);
  }
  CHECK(UrisOf(t, 7) == std::vector<std::string>{"file:///a", "file:///b"});
  CHECK(UrisOf(t, 9) == std::vector<std::string>{"file:///c"});
  CHECK(UrisOf(t, 8).empty());
}

TEST_CASE("document source table: Put moves a source to its new root, Remove deletes both rows") {
  testing::TempEnv t;
  PutCommitted(t, Row("file:///a", 7));
  PutCommitted(t, Row("file:///a", 11));
  CHECK(UrisOf(t, 7).empty());
  CHECK(UrisOf(t, 11) == std::vector<std::string>{"file:///a"});
  {
    WriteTxn txn(t.env(), nullptr);
    DocumentSourceTable table(t.tables());
    auto removed = table.Remove(txn, "file:///a");
    REQUIRE(removed.ok());
    CHECK(*removed);
    auto again = table.Remove(txn, "file:///a");
    REQUIRE(again.ok());
    CHECK_FALSE(*again);
    REQUIRE(txn.Commit().ok());
  }
  CHECK(UrisOf(t, 11).empty());
  ReadTxn txn(t.env());
  auto gone = DocumentSourceTable(t.tables()).Find(txn, "file:///a");
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  auto count = txn.Count(t.tables().document_sources_by_root);
  REQUIRE(count.ok());
  CHECK(*count == 0);
}

TEST_CASE("document source table: a missing source is nullopt") {
  testing::TempEnv t;
  ReadTxn txn(t.env());
  auto missing = DocumentSourceTable(t.tables()).Find(txn, "file:///nothing");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
}

TEST_CASE("document source table: a corrupt row is DATA_LOSS naming the table") {
  testing::TempEnv t;
  PutCommitted(t, Row("file:///a", 7));
  PutCommitted(t, Row("file:///b", 8));
  {
    WriteTxn txn(t.env(), nullptr);
    // Not a protobuf: field 15, wire type 7 does not exist.
    REQUIRE(txn.Put(t.tables().document_sources, SourceKey("file:///a"), "\xff\xff\xff").ok());
    // A well-formed record under another source's key.
    REQUIRE(txn.Put(t.tables().document_sources, SourceKey("file:///b"),
                    Row("file:///other", 8).SerializeAsString())
                .ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  DocumentSourceTable table(t.tables());
  auto a = table.Find(txn, "file:///a");
  CHECK(a.status().code() == Status::Code::kDataLoss);
  CHECK(a.status().message().find("document_sources: record ") == 0);
  CHECK(a.status().message().find("is corrupt") != std::string::npos);
  auto b = table.Find(txn, "file:///b");
  CHECK(b.status().code() == Status::Code::kDataLoss);
  CHECK(b.status().message().find("does not match its key") != std::string::npos);
  auto by_root = table.ForDocument(txn, 7);
  CHECK(by_root.status().code() == Status::Code::kDataLoss);
}

TEST_CASE("document source table: a by-root entry without its row is DATA_LOSS") {
  testing::TempEnv t;
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(
        txn.Put(t.tables().document_sources_by_root, Be64Key(5) + SourceKey("file:///x"), "").ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  auto rows = DocumentSourceTable(t.tables()).ForDocument(txn, 5);
  CHECK(rows.status().code() == Status::Code::kDataLoss);
  CHECK(rows.status().message().find("document_sources_by_root") == 0);
}
