// Schema version 2 -> 3: a data dir in the version 2 layout (whole-hash
// "atom_hash" keys, every active atom in "atoms_by_refcount", composites
// storing their whole manifest and holding their parts through 'contains'
// edge rows) is built row by row here, then migrated and used.
#include <catch2/catch.hpp>
#include <cstring>
#include <map>

#include "server/engine/documents/decompose/decomposition.h"
#include "storage/key_codec.h"
#include "storage/sequence.h"
#include "storage/tables/relation_table.h"
#include "storage/tables/schema_migration.h"
#include "tests/unit/engine/documents/document_fixture.h"

namespace hartonomous::engine {
namespace {

using storage::AtomRecord;
using storage::AtomTable;

std::string Bytes(const Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// Writes rows as hartonomousd version 2 did.
class V2Writer {
 public:
  V2Writer(storage::WriteTxn& txn, const storage::Tables& t) : txn_(txn), t_(t), atoms_(t) {}

  // An atom holding `refs` references (0: inactive), whatever its content.
  uint64_t Atom(const std::string& content, const std::string& subtype, int64_t refs) {
    const std::string hash = Bytes(Sha256(content));
    if (auto it = ids_.find(hash); it != ids_.end()) return it->second;
    AtomRecord rec;
    rec.set_atom_id(++last_id_);
    rec.set_content_hash(hash);
    rec.set_modality("text");
    rec.set_subtype(subtype);
    rec.set_reference_count(refs);
    rec.set_is_active(refs > 0);
    rec.set_created_at_us(7);
    rec.set_updated_at_us(7);
    AtomTable::SetContentShape(&rec, content.size());
    REQUIRE(atoms_.Insert(txn_, rec, content).ok());
    // Version 2 keys: the whole hash, and every active atom by its count.
    REQUIRE(txn_.Del(t_.atom_hash, hash.substr(0, 8)).ok());
    REQUIRE(txn_.Put(t_.atom_hash, hash, storage::Be64Key(rec.atom_id())).ok());
    if (refs > 0) {
      std::string key = storage::Be64Key(static_cast<uint64_t>(refs));
      storage::AppendBe64(&key, rec.atom_id());
      REQUIRE(txn_.Put(t_.atoms_by_refcount, key, "").ok());
    }
    ids_[hash] = rec.atom_id();
    return rec.atom_id();
  }

  void Edge(uint64_t source, uint64_t target, uint64_t ordinal, const std::string& metadata) {
    storage::Edge edge;
    edge.source = source;
    edge.target = target;
    edge.type = "contains";
    edge.ordinal = ordinal;
    edge.record.set_weight(1.0);
    edge.record.set_metadata(metadata);
    edge.record.set_created_at_us(7);
    REQUIRE(storage::RelationTable(t_).Put(txn_, edge).ok());
  }

  void Finish() { REQUIRE(atoms_.FlushCounters(txn_).ok()); }

  uint64_t last_id_ = 0;

 private:
  storage::WriteTxn& txn_;
  const storage::Tables& t_;
  AtomTable atoms_;
  std::map<std::string, uint64_t> ids_;
};

// The version 2 manifest of a composite: header and the parts' hashes.
std::string Manifest(const std::string& header, const std::vector<std::string>& parts) {
  std::string out = header;
  for (const std::string& p : parts) out += Bytes(Sha256(p));
  return out;
}

TEST_CASE("a version 2 data dir is migrated to version 3 and reads, lists and deletes as before",
          "[document][migration]") {
  testing::DocumentFixture f;
  const auto& t = f.env.tables();
  const std::string para = "Alpha one. Beta two.\n";
  const std::string sep = "\n";
  const std::string text = para + sep + para;
  auto d = Decompose(text, "text", {});
  REQUIRE(d.ok());
  const std::string para_manifest =
      Manifest("hartonomous-composite/1 paragraph\n", {"Alpha one. ", "Beta two.\n"});
  const std::string root_manifest = Manifest(
      "hartonomous-document/1\n" + d->info.dump() + "\n", {para_manifest, sep, para_manifest});
  // A deleted document (inactive, its parts given back) listing the separator.
  const std::string gone_manifest =
      Manifest("hartonomous-document/1\n" + d->info.dump() + "\n", {sep});
  uint64_t root = 0, paragraph = 0, alpha = 0, gone = 0;
  {
    storage::WriteTxn txn(f.env.env(), nullptr);
    V2Writer v2(txn, t);
    alpha = v2.Atom("Alpha one. ", "sentence", 1);
    const uint64_t beta = v2.Atom("Beta two.\n", "sentence", 1);
    paragraph = v2.Atom(para_manifest, "paragraph", 2);
    const uint64_t separator = v2.Atom(sep, "separator", 1);
    root = v2.Atom(root_manifest, "document", 1);
    gone = v2.Atom(gone_manifest, "document", 0);
    v2.Edge(paragraph, alpha, 0, "");
    v2.Edge(paragraph, beta, 1, "");
    v2.Edge(root, paragraph, 0, "");
    v2.Edge(root, separator, 1, R"({"k":1})");
    v2.Edge(root, paragraph, 2, "");
    v2.Finish();
    storage::Sequence ids(txn, t.sequences, "atom_id");
    for (uint64_t i = 0; i < v2.last_id_; ++i) REQUIRE(ids.Next().ok());
    REQUIRE(ids.Flush().ok());
    std::string version;
    storage::AppendBe32(&version, 2);
    REQUIRE(txn.Put(t.meta, "schema_version", version).ok());
    REQUIRE(txn.Commit().ok());
  }
  // Opened as it is, a version 2 dir is refused; the daemon's open reports
  // the version to migrate from.
  CHECK(storage::OpenTables(f.env.env()).status().code() == Status::Code::kFailedPrecondition);
  uint32_t from = 0;
  REQUIRE(storage::OpenTables(f.env.env(), &from).ok());
  CHECK(from == 2);

  // Only possible composites have their content read.
  int contents_read = 0;
  const AtomTable::HeaderSizeFn counting = [&](const AtomRecord& atom,
                                               const AtomTable::ContentReader& read) {
    return DocumentEngine::ManifestHeaderSize(atom, [&]() -> Result<std::string> {
      ++contents_read;
      return read();
    });
  };
  auto migrate = [&] {
    auto done = storage::MigrateSchema(f.env.env(), t, from, counting);
    REQUIRE(done.ok());
    CHECK(done->atoms_done == 6);
  };
  migrate();
  CHECK(contents_read == 3);  // the paragraph and the two documents
  auto check = [&] {
    CHECK(f.Count(t.atom_relations) == 0);
    CHECK(f.Count(t.atom_relations_reverse) == 0);
    CHECK(f.Count(t.atom_hash) + f.Count(t.atom_hash_collisions) == 6);
    CHECK(f.Count(t.atoms_by_refcount) == 1);  // the paragraph, held twice
    CHECK(f.Count(t.atom_children) == 3);       // two documents and the paragraph
    uint32_t now = 0;
    REQUIRE(storage::OpenTables(f.env.env(), &now).ok());
    CHECK(now == storage::kSchemaVersion);
    auto got = f.docs.Get(root, false);
    REQUIRE(got.ok());
    CHECK(got->data == text);
    const auto top = f.Children(root, "contains");
    REQUIRE(top.size() == 3);
    CHECK(top[1].record.metadata() == R"({"k":1})");
    CHECK(top[2].target == paragraph);
    // Composites keep their content (and so their hash) exactly.
    storage::ReadTxn txn(f.env.env());
    AtomTable atoms(t);
    std::string content;
    REQUIRE(atoms.ReadContent(txn, **atoms.Get(txn, paragraph), &content).ok());
    CHECK(content == para_manifest);
    REQUIRE(atoms.ReadContent(txn, **atoms.Get(txn, gone), &content).ok());
    CHECK(content == gone_manifest);
    CHECK(**atoms.FindByHash(txn, Sha256(root_manifest)) == root);
  };
  check();

  // An interrupted migration resumes; upgrading an atom twice changes nothing.
  {
    storage::WriteTxn txn(f.env.env(), nullptr);
    std::string version;
    storage::AppendBe32(&version, 2);
    REQUIRE(txn.Put(t.meta, "migration_from", version).ok());
    REQUIRE(txn.Put(t.meta, "migration_next_atom", storage::Be64Key(0)).ok());
    REQUIRE(txn.Commit().ok());
  }
  CHECK_FALSE(storage::OpenTables(f.env.env()).ok());
  REQUIRE(storage::OpenTables(f.env.env(), &from).ok());
  CHECK(from == 2);
  contents_read = 0;
  migrate();
  CHECK(contents_read == 0);  // already upgraded: nothing to read
  check();

  // The migrated document deletes as a version 3 one: everything released.
  REQUIRE(f.docs.Delete(root).ok());
  CHECK_FALSE(f.atoms.Get(alpha, false)->record.is_active());
  CHECK_FALSE(f.atoms.Get(paragraph, false)->record.is_active());
  CHECK(f.Count(t.atoms_by_refcount) == 0);
  // And new documents dedup against migrated atoms.
  auto again = f.docs.Ingest(testing::Doc(text, "text"));
  REQUIRE(again.ok());
  CHECK(again->document_id == root);
  CHECK(f.docs.Get(root, false)->data == text);
}

}  // namespace
}  // namespace hartonomous::engine
