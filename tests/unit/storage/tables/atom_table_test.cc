#include "storage/tables/atom_table.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <map>

#include "storage/key_codec.h"
#include "tests/binary_content.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::storage;

namespace {

AtomRecord MakeAtom(uint64_t id, const std::string& content, const std::string& modality) {
  AtomRecord atom;
  atom.set_atom_id(id);
  const auto hash = Sha256(content);
  atom.set_content_hash(std::string(reinterpret_cast<const char*>(hash.data()), hash.size()));
  atom.set_modality(modality);
  atom.set_reference_count(1);
  atom.set_is_active(true);
  AtomTable::SetContentShape(&atom, content.size());
  return atom;
}

// English-like text that compresses well: the lines differ, the words repeat.
std::string Prose(size_t n) {
  static const char* kWords[] = {"the ",        "license ", "software ", "copyright ",
                                 "permission ", "granted ", "any ",      "person ",
                                 "obtaining ",  "a ",       "copy ",     "of "};
  std::string out;
  for (size_t i = 0; out.size() < n; ++i) {
    out += kWords[(i * 7 + i / 13) % 12];
    if (i % 17 == 16) out += std::to_string(i) + ".\n";
  }
  out.resize(n);
  return out;
}

uint64_t PayloadBytes(testing::TempEnv& t, uint64_t atom_id) {
  ReadTxn txn(t.env());
  auto cursor = txn.OpenCursor(t.tables().atom_payload);
  uint64_t bytes = 0;
  auto valid = cursor->First();
  while (valid.ok() && *valid) {
    if (ReadBe64(cursor->key()) == atom_id) bytes += cursor->value().size();
    valid = cursor->Next();
  }
  return bytes;
}

void InsertOne(testing::TempEnv& t, const AtomRecord& atom, const std::string& content) {
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(atoms.Insert(txn, atom, content).ok());
  REQUIRE(atoms.FlushCounters(txn).ok());
  REQUIRE(txn.Commit().ok());
}

AtomRecord Stored(testing::TempEnv& t, uint64_t atom_id) {
  ReadTxn txn(t.env());
  auto got = AtomTable(t.tables()).Get(txn, atom_id);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  return **got;
}

Status ReadBack(testing::TempEnv& t, const AtomRecord& atom, std::string* content) {
  ReadTxn txn(t.env());
  return AtomTable(t.tables()).ReadContent(txn, atom, content);
}

}  // namespace

TEST_CASE("insert stores record, chunked content and indexes, remove cascades") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  const std::string content = testing::BinaryContent((size_t{1} << 20) * 2 + 5, 1);  // three chunks
  AtomRecord atom = MakeAtom(7, content, "binary");
  CHECK(atom.chunk_count() == 3);
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(atoms.Insert(txn, atom, content).ok());
    // A row owned by the atom, as a later feature would write it.
    std::string key = Be64Key(7);
    key += "embedding";
    REQUIRE(txn.Put(t.tables().atom_embeddings, key, "vector").ok());
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  {
    ReadTxn txn(t.env());
    auto found = atoms.FindByHash(txn, Sha256(content));
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK(**found == 7);
    auto stored = atoms.Get(txn, 7);
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    atom = **stored;
    CHECK(atom.chunk_count() == 3);
    std::string back;
    REQUIRE(atoms.ReadContent(txn, atom, &back).ok());
    CHECK(back == content);
    auto counters = atoms.ReadCounters(txn);
    REQUIRE(counters->size() == 1);
    CHECK((*counters)[0].first == "binary");
    CHECK((*counters)[0].second.unique_bytes() == content.size());
  }
  {
    WriteTxn txn(t.env(), nullptr);
    AtomRecord inactive = atom;
    inactive.set_is_active(false);
    inactive.set_reference_count(0);
    REQUIRE(atoms.Update(txn, atom, inactive).ok());
    auto owned = atoms.Remove(txn, inactive);
    REQUIRE(owned.ok());
    CHECK(*owned == 1);
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  for (MDB_dbi dbi : {t.tables().atoms, t.tables().atom_hash, t.tables().atom_payload,
                      t.tables().atoms_by_refcount, t.tables().atoms_inactive,
                      t.tables().atom_embeddings, t.tables().dedup_counters}) {
    CHECK(*txn.Count(dbi) == 0);
  }
}

TEST_CASE("reference count index orders atoms and follows updates") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  for (uint64_t id = 1; id <= 5; ++id) {
    REQUIRE(atoms
                .Insert(txn, MakeAtom(id, "content " + std::to_string(id), "text"),
                        "content " + std::to_string(id))
                .ok());
  }
  auto before = atoms.Get(txn, 3);
  AtomRecord after = **before;
  after.set_reference_count(9);
  REQUIRE(atoms.Update(txn, **before, after).ok());
  auto top = atoms.TopByReferences(txn, 3);
  REQUIRE(top->size() == 3);
  CHECK((*top)[0].atom_id() == 3);
  CHECK((*top)[0].reference_count() == 9);
  // Atoms with one reference are not indexed; they follow, newest first.
  CHECK((*top)[1].atom_id() == 5);
  CHECK((*top)[2].atom_id() == 4);
  CHECK(*txn.Count(t.tables().atoms_by_refcount) == 1);
  AtomRecord back_to_one = after;
  back_to_one.set_reference_count(1);
  REQUIRE(atoms.Update(txn, after, back_to_one).ok());
  CHECK(*txn.Count(t.tables().atoms_by_refcount) == 0);
  REQUIRE(atoms.Update(txn, back_to_one, after).ok());
  REQUIRE(atoms.FlushCounters(txn).ok());
  auto counters = atoms.ReadCounters(txn);
  CHECK((*counters)[0].second.unique_atoms() == 5);
  CHECK((*counters)[0].second.total_references() == 13);
  // A duplicate hash is refused by the unique index.
  CHECK_FALSE(atoms.Insert(txn, MakeAtom(6, "content 1", "text"), "content 1").ok());
}

TEST_CASE("compressible content is stored as a smaller zstd frame and reads back") {
  testing::TempEnv t;
  const std::string content = Prose(20000);
  InsertOne(t, MakeAtom(1, content, "text"), content);
  const AtomRecord atom = Stored(t, 1);
  CHECK(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  CHECK(atom.content_size() == content.size());
  CHECK(atom.stored_size() < content.size() / 2);
  CHECK(PayloadBytes(t, 1) == atom.stored_size());
  CHECK(AtomTable::StoredSize(atom) == atom.stored_size());
  std::string back;
  REQUIRE(ReadBack(t, atom, &back).ok());
  CHECK(back == content);
  ReadTxn txn(t.env());
  auto counters = AtomTable(t.tables()).ReadCounters(txn);
  REQUIRE(counters->size() == 1);
  CHECK((*counters)[0].second.unique_bytes() == content.size());
  CHECK((*counters)[0].second.compressed_away_bytes() == content.size() - atom.stored_size());
}

TEST_CASE("incompressible and tiny content is stored raw") {
  testing::TempEnv t;
  const std::string noise = testing::BinaryContent(5000, 2);
  const std::string tiny =
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";  // compressible, but below the threshold
  REQUIRE(tiny.size() < kMinCompressBytes);
  InsertOne(t, MakeAtom(1, noise, "binary"), noise);
  InsertOne(t, MakeAtom(2, tiny, "text"), tiny);
  for (const auto& [id, content] : {std::pair<uint64_t, std::string>{1, noise}, {2, tiny}}) {
    const AtomRecord atom = Stored(t, id);
    CHECK(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kRaw));
    CHECK(atom.stored_size() == content.size());
    // Small payloads live in the record, larger ones in "atom_payload".
    const bool small = content.size() <= kInlinePayloadBytes;
    CHECK(PayloadBytes(t, id) == (small ? 0 : content.size()));
    CHECK(atom.inline_payload().size() == (small ? content.size() : 0));
    CHECK(atom.chunk_count() == (small ? 0 : 1));
    std::string back;
    REQUIRE(ReadBack(t, atom, &back).ok());
    CHECK(back == content);
  }
}

TEST_CASE("an inline payload that does not match the stored size is DATA_LOSS") {
  testing::TempEnv t;
  const std::string content = "short enough to live in the record";
  InsertOne(t, MakeAtom(1, content, "text"), content);
  AtomRecord atom = Stored(t, 1);
  REQUIRE(atom.chunk_count() == 0);
  atom.set_inline_payload(content.substr(1));
  std::string back;
  CHECK(ReadBack(t, atom, &back).code() == Status::Code::kDataLoss);
}

TEST_CASE("content over one chunk round trips compressed and raw") {
  testing::TempEnv t;
  // Half prose, half noise: compresses, but the frame still spans two rows.
  const std::string mixed = Prose(size_t{1} << 20) + testing::BinaryContent(size_t{3} << 20, 3);
  const std::string prose = Prose((size_t{5} << 20) + 17);
  InsertOne(t, MakeAtom(1, mixed, "binary"), mixed);
  InsertOne(t, MakeAtom(2, prose, "text"), prose);
  const AtomRecord a = Stored(t, 1);
  CHECK(a.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  CHECK(a.stored_size() < mixed.size());
  CHECK(a.chunk_count() == (a.stored_size() + kChunkBytes - 1) / kChunkBytes);
  CHECK(a.chunk_count() > 1);
  std::string back;
  REQUIRE(ReadBack(t, a, &back).ok());
  CHECK(back == mixed);
  const AtomRecord b = Stored(t, 2);
  CHECK(b.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  REQUIRE(ReadBack(t, b, &back).ok());
  CHECK(back == prose);
}

TEST_CASE("a corrupt compressed frame is DATA_LOSS") {
  testing::TempEnv t;
  const std::string content = Prose(30000);
  InsertOne(t, MakeAtom(1, content, "text"), content);
  const AtomRecord atom = Stored(t, 1);
  REQUIRE(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  std::string key = Be64Key(1);
  AppendBe32(&key, 0);
  std::string frame;
  {
    ReadTxn txn(t.env());
    std::string_view value;
    REQUIRE(*txn.Get(t.tables().atom_payload, key, &value));
    frame = std::string(value);
  }
  SECTION("damaged blocks") {
    for (size_t i = 12; i < frame.size(); i += 7) frame[i] = static_cast<char>(frame[i] ^ 0x5A);
  }
  SECTION("truncated frame") { frame.resize(frame.size() / 2); }
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(txn.Put(t.tables().atom_payload, key, frame).ok());
    REQUIRE(txn.Commit().ok());
  }
  std::string back;
  CHECK(ReadBack(t, atom, &back).code() == Status::Code::kDataLoss);
}

TEST_CASE("a frame that decodes to more than content_size is refused") {
  testing::TempEnv t;
  const std::string content = Prose(4000);
  InsertOne(t, MakeAtom(1, content, "text"), content);
  AtomRecord atom = Stored(t, 1);
  REQUIRE(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  // A record that claims less content than the frame holds: a frame that
  // would expand past the bound the reader allocates.
  atom.set_content_size(content.size() - 1);
  std::string back;
  CHECK(ReadBack(t, atom, &back).code() == Status::Code::kDataLoss);
  CHECK(back.size() <= content.size());
  // The codec alone, with a frame of a 100 MiB run and a 1 KiB bound.
  const EncodedPayload bomb = EncodePayload(std::string(size_t{100} << 20, 'z'));
  REQUIRE(bomb.codec == PayloadCodec::kZstd);
  std::string out;
  CHECK(DecodePayload(PayloadCodec::kZstd, bomb.frame, 1024, "bomb", &out).code() ==
        Status::Code::kDataLoss);
  CHECK(out.capacity() < (size_t{1} << 20));
  CHECK(DecodePayload(static_cast<PayloadCodec>(9), bomb.frame, 1024, "bomb", &out).code() ==
        Status::Code::kDataLoss);
}

TEST_CASE("a record written before compression (no codec fields) still reads") {
  testing::TempEnv t;
  const std::string content = Prose(3 * 1024 * 1024 + 11);  // compressible, stored raw as of old
  AtomRecord old = MakeAtom(1, content, "text");  // raw chunk_count, no codec, no stored_size
  old.set_canonical_text("old text");
  {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(txn.Put(t.tables().atoms, Be64Key(1), old.SerializeAsString()).ok());
    for (uint32_t chunk = 0; chunk < old.chunk_count(); ++chunk) {
      std::string key = Be64Key(1);
      AppendBe32(&key, chunk);
      REQUIRE(txn.Put(t.tables().atom_payload, key,
                      std::string_view(content).substr(chunk * kChunkBytes, kChunkBytes))
                  .ok());
    }
    REQUIRE(txn.Commit().ok());
  }
  // Next to it, a new compressed atom.
  const std::string fresh = Prose(9000) + "new";
  InsertOne(t, MakeAtom(2, fresh, "text"), fresh);
  const AtomRecord a = Stored(t, 1);
  CHECK(a.payload_codec() == 0);
  CHECK_FALSE(a.canonical_text_is_content());
  CHECK(AtomTable::StoredSize(a) == content.size());
  std::string back;
  REQUIRE(ReadBack(t, a, &back).ok());
  CHECK(back == content);
  CHECK(a.canonical_text() == "old text");
  REQUIRE(ReadBack(t, Stored(t, 2), &back).ok());
  CHECK(back == fresh);
}

TEST_CASE("canonical_text equal to the content is stored once") {
  testing::TempEnv t;
  const std::string text = Prose(2000);
  AtomRecord same = MakeAtom(1, text, "text");
  same.set_canonical_text(text);
  AtomRecord other = MakeAtom(2, text + "!", "text");
  other.set_canonical_text("a summary");
  InsertOne(t, same, text);
  InsertOne(t, other, text + "!");
  AtomRecord a = Stored(t, 1);
  CHECK(a.canonical_text_is_content());
  CHECK(a.canonical_text().empty());
  CHECK(AtomTable::UnstoredCanonicalTextBytes(a) == text.size());
  const AtomRecord b = Stored(t, 2);
  CHECK_FALSE(b.canonical_text_is_content());
  CHECK(b.canonical_text() == "a summary");
  AtomTable atoms(t.tables());
  {
    ReadTxn txn(t.env());
    REQUIRE(atoms.ResolveCanonicalText(txn, &a).ok());
    CHECK(a.canonical_text() == text);
  }
  // An update of a resolved record does not store the text again.
  {
    const AtomRecord before = Stored(t, 1);
    WriteTxn txn(t.env(), nullptr);
    AtomRecord after = a;
    after.set_reference_count(2);
    REQUIRE(atoms.Update(txn, before, after).ok());
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  const AtomRecord c = Stored(t, 1);
  CHECK(c.reference_count() == 2);
  CHECK(c.canonical_text().empty());
  CHECK(c.canonical_text_is_content());
}

namespace {

// A record whose 32-byte hash is chosen by the test (the table trusts the
// caller's hash), so that two atoms can share an 8-byte prefix.
AtomRecord WithHash(uint64_t id, const std::string& hash) {
  AtomRecord atom = MakeAtom(id, "x", "text");
  atom.set_content_hash(hash);
  return atom;
}

Sha256Digest Digest(const std::string& hash) {
  Sha256Digest d;
  std::memcpy(d.data(), hash.data(), d.size());
  return d;
}

}  // namespace

TEST_CASE("atoms whose hashes share the 8-byte prefix are both found and removed apart") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  const std::string a = std::string(8, 'p') + std::string(24, 'a');
  const std::string b = std::string(8, 'p') + std::string(24, 'b');
  const std::string c = std::string(8, 'p') + std::string(24, 'c');
  REQUIRE(atoms.Insert(txn, WithHash(1, a), "x").ok());
  REQUIRE(atoms.Insert(txn, WithHash(2, b), "x").ok());
  CHECK(*txn.Count(t.tables().atom_hash) == 1);
  CHECK(*txn.Count(t.tables().atom_hash_collisions) == 1);
  CHECK(**atoms.FindByHash(txn, Digest(a)) == 1);
  CHECK(**atoms.FindByHash(txn, Digest(b)) == 2);
  CHECK_FALSE(atoms.FindByHash(txn, Digest(c))->has_value());
  // The same whole hash again is refused, in the prefix slot or past it.
  CHECK(atoms.Insert(txn, WithHash(3, a), "x").code() == Status::Code::kAlreadyExists);
  CHECK(atoms.Insert(txn, WithHash(3, b), "x").code() == Status::Code::kAlreadyExists);
  // Removing the prefix holder leaves the other findable, and the freed slot
  // takes a newcomer.
  REQUIRE(atoms.Remove(txn, **atoms.Get(txn, 1)).ok());
  CHECK_FALSE(atoms.FindByHash(txn, Digest(a))->has_value());
  CHECK(**atoms.FindByHash(txn, Digest(b)) == 2);
  REQUIRE(atoms.Insert(txn, WithHash(4, c), "x").ok());
  CHECK(**atoms.FindByHash(txn, Digest(c)) == 4);
  CHECK(**atoms.FindByHash(txn, Digest(b)) == 2);
  REQUIRE(atoms.Remove(txn, **atoms.Get(txn, 2)).ok());
  CHECK(*txn.Count(t.tables().atom_hash_collisions) == 0);
  CHECK(**atoms.FindByHash(txn, Digest(c)) == 4);
}

TEST_CASE("a composite's content is its header and its listed children's hashes") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  std::vector<std::string> parts = {"first. ", "second. ", "first. "};
  const std::string header = "hartonomous-composite/1 paragraph\n";
  std::string content = header;
  uint64_t next_id = 10;
  std::vector<uint64_t> ids;
  std::map<std::string, uint64_t> by_text;
  AtomRecord parent;
  parent.set_atom_id(1);
  for (const std::string& p : parts) {
    const auto h = Sha256(p);
    content += std::string(reinterpret_cast<const char*>(h.data()), h.size());
  }
  const auto ph = Sha256(content);
  parent.set_content_hash(std::string(reinterpret_cast<const char*>(ph.data()), ph.size()));
  parent.set_modality("text");
  REQUIRE(atoms.InsertComposite(txn, &parent, header, parts.size(), 5).ok());
  ChildListing listing;
  listing.created_at_us = 5;
  for (const std::string& p : parts) {
    if (!by_text.count(p)) {
      AtomRecord child = MakeAtom(next_id, p, "text");
      REQUIRE(atoms.AddListedEdge(txn, &child, 1).ok());
      REQUIRE(atoms.InsertNew(txn, &child, p, 5).ok());
      by_text[p] = next_id++;
    } else {
      auto before = **atoms.Get(txn, by_text[p]);
      AtomRecord after = before;
      after.set_reference_count(after.reference_count() + 1);
      REQUIRE(atoms.AddListedEdge(txn, &after, 1).ok());
      REQUIRE(atoms.Update(txn, before, after).ok());
    }
    listing.children.push_back({by_text[p], ""});
  }
  REQUIRE(atoms.PutChildren(txn, 1, listing).ok());
  const AtomRecord stored = **atoms.Get(txn, 1);
  CHECK(stored.content_lists_children());
  CHECK(stored.content_size() == content.size());
  std::string back;
  REQUIRE(atoms.ReadContent(txn, stored, &back).ok());
  CHECK(back == content);
  const AtomRecord first = **atoms.Get(txn, by_text["first. "]);
  CHECK(first.listed_references() == 2);
  CHECK(first.reference_count() == 2);
  REQUIRE(first.containers_size() == 1);
  CHECK(first.containers(0) == 1);
  auto children = *atoms.Children(txn, 1);
  REQUIRE(children.has_value());
  REQUIRE(children->children.size() == 3);
  CHECK(children->children[2].atom_id == by_text["first. "]);
  // Released, the list names no children but the content still reads.
  auto released = atoms.ReleaseChildren(txn, 1);
  REQUIRE(released.ok());
  CHECK(released->children.size() == 3);
  CHECK_FALSE(atoms.Children(txn, 1)->has_value());
  REQUIRE(atoms.ReadContent(txn, stored, &back).ok());
  CHECK(back == content);
}

TEST_CASE("containers past the inline ones spill to atom_containers and come back in order") {
  testing::TempEnv t;
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  AtomRecord child = MakeAtom(1000, "shared", "text");
  REQUIRE(atoms.Insert(txn, child, "shared").ok());
  AtomRecord before = **atoms.Get(txn, 1000);
  AtomRecord after = before;
  // Parents in a scrambled order, some twice.
  std::vector<uint64_t> parents;
  for (uint64_t i = 0; i < 40; ++i) parents.push_back((i * 17) % 40 + 1);
  for (uint64_t p : parents) REQUIRE(atoms.AddListedEdge(txn, &after, p).ok());
  REQUIRE(atoms.AddListedEdge(txn, &after, 7).ok());
  CHECK(after.listed_references() == 41);
  CHECK(after.containers_size() == static_cast<int>(kInlineContainers));
  CHECK(after.spilled_containers() == 40 - kInlineContainers);
  REQUIRE(atoms.Update(txn, before, after).ok());
  std::vector<uint64_t> seen;
  REQUIRE(atoms
              .ForEachContainer(txn, after, 0,
                                [&](uint64_t p) {
                                  seen.push_back(p);
                                  return true;
                                })
              .ok());
  REQUIRE(seen.size() == 40);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i + 1);
  seen.clear();
  REQUIRE(atoms
              .ForEachContainer(txn, after, 30,
                                [&](uint64_t p) {
                                  seen.push_back(p);
                                  return seen.size() < 3;
                                })
              .ok());
  CHECK(seen == std::vector<uint64_t>{30, 31, 32});
  // Removing: inline and spilled alike; an unknown container is DATA_LOSS.
  for (uint64_t p = 1; p <= 40; ++p) {
    REQUIRE(atoms.RemoveListedEdges(txn, &after, p, p == 7 ? 2 : 1).ok());
  }
  CHECK(after.listed_references() == 0);
  CHECK(after.containers_size() == 0);
  CHECK(after.spilled_containers() == 0);
  CHECK(*txn.Count(t.tables().atom_containers) == 0);
  after.set_listed_references(1);
  CHECK(atoms.RemoveListedEdges(txn, &after, 99, 1).code() == Status::Code::kDataLoss);
}

namespace {

// Inserts contents as atoms first_id, first_id + 1, ... in one transaction,
// encoded together by PackPayloads.
void InsertPacked(testing::TempEnv& t, uint64_t first_id,
                  const std::vector<std::string>& contents) {
  std::vector<std::string_view> views(contents.begin(), contents.end());
  const std::vector<EncodedPayload> packed = PackPayloads(views);
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  for (size_t i = 0; i < contents.size(); ++i) {
    REQUIRE(atoms.Insert(txn, MakeAtom(first_id + i, contents[i], "text"), contents[i], &packed[i])
                .ok());
  }
  REQUIRE(atoms.FlushCounters(txn).ok());
  REQUIRE(txn.Commit().ok());
}

uint64_t Rows(testing::TempEnv& t, MDB_dbi dbi) {
  ReadTxn txn(t.env());
  return *txn.Count(dbi);
}

void RemoveOne(testing::TempEnv& t, uint64_t id) {
  AtomTable atoms(t.tables());
  // Read before the write transaction begins: a thread never holds a read
  // transaction and the write lock at once, in either order.
  const auto stored = Stored(t, id);
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(atoms.Remove(txn, stored).ok());
  REQUIRE(atoms.FlushCounters(txn).ok());
  REQUIRE(txn.Commit().ok());
}

}  // namespace

TEST_CASE("PackPayloads packs small contents in order into blocks of at most kBlockBytes") {
  std::vector<std::string> contents;
  for (int i = 0; i < 100; ++i) contents.push_back(Prose(1000 + i));
  contents.push_back(Prose(kMaxBlockedBytes + 1));  // encoded on its own
  contents.push_back("");                           // stays raw
  std::vector<std::string_view> views(contents.begin(), contents.end());
  const auto packed = PackPayloads(views);
  REQUIRE(packed.size() == contents.size());
  std::map<const PayloadBlock*, uint64_t> next_offset;
  for (size_t i = 0; i < 100; ++i) {
    REQUIRE(packed[i].codec == PayloadCodec::kBlock);
    const PayloadBlock* block = packed[i].block.get();
    CHECK(packed[i].block_offset == next_offset[block]);  // contiguous, in order
    next_offset[block] += contents[i].size();
    CHECK(block->raw_size <= kBlockBytes);
  }
  CHECK(next_offset.size() == 2);  // 100 x ~1 KB fill two 64 KiB blocks
  for (const auto& [block, end] : next_offset) {
    CHECK(block->raw_size == end);
    CHECK(block->codec == PayloadCodec::kZstd);
    CHECK(block->stored.size() < block->raw_size / 2);
  }
  CHECK(packed[100].codec == PayloadCodec::kZstd);
  CHECK(packed[100].block == nullptr);
  CHECK(packed[101].codec == PayloadCodec::kRaw);
  // One small content alone is encoded as before, not as a block of one.
  const auto single = PackPayloads({std::string_view(contents[0])});
  CHECK(single[0].codec == PayloadCodec::kZstd);
}

TEST_CASE("block members read back, share one stored block, and free it with the last member") {
  testing::TempEnv t;
  std::vector<std::string> contents;
  for (int i = 0; i < 40; ++i) contents.push_back(Prose(200 + 37 * i) + std::to_string(i));
  InsertPacked(t, 1, contents);
  CHECK(Rows(t, t.tables().payload_blocks) == 1);
  CHECK(Rows(t, t.tables().atom_payload) == 0);
  uint64_t stored = 0;
  AtomTable::BlockCache cache;
  {
    ReadTxn txn(t.env());
    AtomTable atoms(t.tables());
    for (size_t i = 0; i < contents.size(); ++i) {
      const AtomRecord atom = Stored(t, i + 1);
      CHECK(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kBlock));
      CHECK(atom.payload_block() == 1);  // keyed by its first member's id
      CHECK(atom.inline_payload().empty());
      stored += atom.stored_size();
      std::string back;
      REQUIRE(atoms.ReadContent(txn, atom, &back, i % 2 == 0 ? &cache : nullptr).ok());
      CHECK(back == contents[i]);
    }
    CHECK(cache.block_id == 1);
    // The members' shares add up to about the block's stored bytes, far
    // below the raw bytes.
    std::string_view block;
    REQUIRE(*txn.Get(t.tables().payload_blocks, Be64Key(1), &block));
    CHECK(stored >= block.size() - 5);
    CHECK(stored <= block.size() - 5 + contents.size());
    auto counters = atoms.ReadCounters(txn);
    REQUIRE(counters->size() == 1);
    CHECK((*counters)[0].second.compressed_away_bytes() ==
          (*counters)[0].second.unique_bytes() - stored);
  }
  // Removing members keeps the block until the last one goes.
  for (uint64_t id = 1; id < contents.size(); ++id) RemoveOne(t, id);
  CHECK(Rows(t, t.tables().payload_blocks) == 1);
  {
    ReadTxn txn(t.env());
    std::string_view refs;
    REQUIRE(*txn.Get(t.tables().payload_block_refs, Be64Key(1), &refs));
    CHECK(ReadBe32(refs) == 1);
    CHECK(ReadBe32(refs.substr(4)) == contents.back().size());
    CHECK(ReadBe64(refs.substr(8)) == contents.size());
    std::string back;
    REQUIRE(AtomTable(t.tables()).ReadContent(txn, Stored(t, contents.size()), &back).ok());
    CHECK(back == contents.back());
  }
  RemoveOne(t, contents.size());
  CHECK(Rows(t, t.tables().payload_blocks) == 0);
  CHECK(Rows(t, t.tables().payload_block_refs) == 0);
}

TEST_CASE("members already stored leave the block unwritten or with dead bytes") {
  testing::TempEnv t;
  const std::vector<std::string> first = {Prose(300) + "a", Prose(300) + "b"};
  InsertPacked(t, 1, first);
  REQUIRE(Rows(t, t.tables().payload_blocks) == 1);
  // A second write packs both again plus a new one; only the new one is
  // inserted (the others exist), so its block holds two dead members.
  const std::vector<std::string> second = {first[0], first[1], Prose(300) + "c"};
  std::vector<std::string_view> views(second.begin(), second.end());
  const auto packed = PackPayloads(views);
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  REQUIRE(atoms.Insert(txn, MakeAtom(3, second[2], "text"), second[2], &packed[2]).ok());
  REQUIRE(atoms.FlushCounters(txn).ok());
  REQUIRE(txn.Commit().ok());
  CHECK(Rows(t, t.tables().payload_blocks) == 2);
  const AtomRecord c = Stored(t, 3);
  CHECK(c.payload_block() == 3);
  CHECK(c.block_offset() == first[0].size() + first[1].size());
  std::string back;
  REQUIRE(ReadBack(t, c, &back).ok());
  CHECK(back == second[2]);
  // A write whose members all exist writes no block at all.
  {
    AtomTable none(t.tables());
    WriteTxn again(t.env(), nullptr);
    REQUIRE(none.FlushCounters(again).ok());
    REQUIRE(again.Commit().ok());
  }
  CHECK(Rows(t, t.tables().payload_blocks) == 2);
}

TEST_CASE("a missing, truncated or corrupt payload block, or a range past its end, is DATA_LOSS") {
  testing::TempEnv t;
  const std::vector<std::string> contents = {Prose(500) + "x", Prose(500) + "y"};
  InsertPacked(t, 1, contents);
  const AtomRecord atom = Stored(t, 2);
  std::string back;
  AtomRecord past = atom;
  past.set_block_offset(atom.block_offset() + 1);
  CHECK(ReadBack(t, past, &back).code() == Status::Code::kDataLoss);
  AtomRecord elsewhere = atom;
  elsewhere.set_payload_block(77);
  CHECK(ReadBack(t, elsewhere, &back).code() == Status::Code::kDataLoss);
  std::string value;
  {
    ReadTxn txn(t.env());
    std::string_view v;
    REQUIRE(*txn.Get(t.tables().payload_blocks, Be64Key(1), &v));
    value = std::string(v);
  }
  for (const std::string& bad : {value.substr(0, 3), value.substr(0, value.size() - 4),
                                 value.substr(0, 5) + std::string(value.size() - 5, 'z')}) {
    WriteTxn txn(t.env(), nullptr);
    REQUIRE(txn.Put(t.tables().payload_blocks, Be64Key(1), bad).ok());
    REQUIRE(txn.Commit().ok());
    CHECK(ReadBack(t, atom, &back).code() == Status::Code::kDataLoss);
  }
}

TEST_CASE("repacking moves the live members of mostly dead blocks and drops the dead bytes") {
  testing::TempEnv t;
  std::vector<std::string> sparse, dense, lone;
  for (int i = 0; i < 40; ++i) sparse.push_back(Prose(300 + 11 * i) + "s" + std::to_string(i));
  for (int i = 0; i < 10; ++i) dense.push_back(Prose(400 + 13 * i) + "d" + std::to_string(i));
  for (int i = 0; i < 8; ++i) lone.push_back(Prose(500 + 7 * i) + "l" + std::to_string(i));
  InsertPacked(t, 1, sparse);  // block 1: atoms 1..40
  InsertPacked(t, 41, dense);  // block 41: atoms 41..50
  InsertPacked(t, 51, lone);   // block 51: atoms 51..58
  // Block 1 keeps 5 of 40 members, block 41 keeps 9 of 10, block 51 keeps 1.
  for (uint64_t id = 1; id <= 40; ++id) {
    if (id % 8 != 3) RemoveOne(t, id);
  }
  RemoveOne(t, 45);
  for (uint64_t id = 52; id <= 58; ++id) RemoveOne(t, id);
  REQUIRE(Rows(t, t.tables().payload_blocks) == 3);

  RepackSummary summary;
  {
    AtomTable atoms(t.tables());
    WriteTxn txn(t.env(), nullptr);
    auto repacked = atoms.RepackSparseBlocks(txn, 0, 10);
    REQUIRE(repacked.ok());
    summary = *repacked;
    REQUIRE(atoms.FlushCounters(txn).ok());
    REQUIRE(txn.Commit().ok());
  }
  CHECK(summary.done);
  CHECK(summary.blocks == 2);  // blocks 1 and 51; block 41 is mostly live
  CHECK(summary.atoms == 6);
  // The six survivors of blocks 1 and 51 share one new block keyed by the
  // first (atom 3).
  {
    ReadTxn txn(t.env());
    std::string_view v;
    CHECK_FALSE(*txn.Get(t.tables().payload_blocks, Be64Key(1), &v));
    CHECK_FALSE(*txn.Get(t.tables().payload_blocks, Be64Key(51), &v));
    REQUIRE(*txn.Get(t.tables().payload_blocks, Be64Key(3), &v));
    REQUIRE(*txn.Get(t.tables().payload_block_refs, Be64Key(3), &v));
    CHECK(ReadBe32(v) == 6);
    CHECK(ReadBe64(v.substr(8)) == 51);
    REQUIRE(*txn.Get(t.tables().payload_block_refs, Be64Key(41), &v));
    CHECK(ReadBe32(v) == 9);
  }
  CHECK(Rows(t, t.tables().payload_blocks) == 2);
  uint64_t dropped = 0;
  for (uint64_t id = 1; id <= 40; ++id) {
    if (id % 8 != 3) dropped += sparse[id - 1].size();
  }
  for (uint64_t id = 52; id <= 58; ++id) dropped += lone[id - 51].size();
  CHECK(summary.dead_bytes == dropped);
  // Every survivor reads back unchanged; the new placement is recorded.
  std::map<uint64_t, std::string> live;
  for (uint64_t id = 3; id <= 40; id += 8) live[id] = sparse[id - 1];
  for (uint64_t id = 41; id <= 50; ++id) {
    if (id != 45) live[id] = dense[id - 41];
  }
  live[51] = lone[0];
  for (const auto& [id, content] : live) {
    const AtomRecord atom = Stored(t, id);
    std::string back;
    REQUIRE(ReadBack(t, atom, &back).ok());
    CHECK(back == content);
    CHECK(atom.payload_block() == (id > 40 && id <= 50 ? 41 : 3));
  }
  // The counters follow the new stored sizes.
  AtomTable atoms(t.tables());
  {
    ReadTxn txn(t.env());
    auto counters = atoms.ReadCounters(txn);
    REQUIRE(counters->size() == 1);
    uint64_t stored = 0, unique = 0;
    for (const auto& [id, content] : live) {
      stored += AtomTable::StoredSize(Stored(t, id));
      unique += content.size();
    }
    CHECK((*counters)[0].second.unique_bytes() == unique);
    CHECK((*counters)[0].second.compressed_away_bytes() == unique - stored);
  }
  // A second pass finds nothing more to do.
  WriteTxn again(t.env(), nullptr);
  auto second = atoms.RepackSparseBlocks(again, 0, 10);
  REQUIRE(second.ok());
  CHECK(second->blocks == 0);
}

TEST_CASE("a lone survivor of a repacked block is encoded on its own") {
  testing::TempEnv t;
  std::vector<std::string> contents;
  for (int i = 0; i < 6; ++i) contents.push_back(Prose(700 + 5 * i) + "x" + std::to_string(i));
  InsertPacked(t, 1, contents);
  for (uint64_t id = 2; id <= 6; ++id) RemoveOne(t, id);
  AtomTable atoms(t.tables());
  WriteTxn txn(t.env(), nullptr);
  auto repacked = atoms.RepackSparseBlocks(txn, 0, 10);
  REQUIRE(repacked.ok());
  CHECK(repacked->blocks == 1);
  REQUIRE(atoms.FlushCounters(txn).ok());
  REQUIRE(txn.Commit().ok());
  CHECK(Rows(t, t.tables().payload_blocks) == 0);
  CHECK(Rows(t, t.tables().payload_block_refs) == 0);
  const AtomRecord atom = Stored(t, 1);
  CHECK(atom.payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  CHECK(atom.payload_block() == 0);
  std::string back;
  REQUIRE(ReadBack(t, atom, &back).ok());
  CHECK(back == contents[0]);
}

TEST_CASE("PackUnstored encodes only contents that are neither stored, repeated nor skipped") {
  testing::TempEnv t;
  const std::string stored = Prose(400) + "stored";
  InsertOne(t, MakeAtom(1, stored, "text"), stored);
  const std::vector<std::string> contents = {stored, Prose(400) + "new a", Prose(400) + "new a",
                                             Prose(400) + "skipped", Prose(400) + "new b"};
  std::vector<Sha256Digest> hashes;
  for (const auto& c : contents) hashes.push_back(Sha256(c));
  std::vector<const Sha256Digest*> keys = {&hashes[0], &hashes[1], &hashes[2], nullptr, &hashes[4]};
  std::vector<std::string_view> views(contents.begin(), contents.end());
  ReadTxn txn(t.env());
  auto encoded = AtomTable(t.tables()).PackUnstored(txn, keys, views);
  REQUIRE(encoded.ok());
  REQUIRE(encoded->size() == 5);
  CHECK_FALSE((*encoded)[0].has_value());  // stored
  REQUIRE((*encoded)[1].has_value());
  CHECK_FALSE((*encoded)[2].has_value());  // a repeat of entry 1
  CHECK_FALSE((*encoded)[3].has_value());  // skipped
  REQUIRE((*encoded)[4].has_value());
  // The two new contents share one block.
  CHECK((*encoded)[1]->codec == PayloadCodec::kBlock);
  CHECK((*encoded)[1]->block == (*encoded)[4]->block);
  CHECK((*encoded)[4]->block_offset == contents[1].size());
}

TEST_CASE("RawContentEquals compares raw content in place, inline and across payload rows") {
  testing::TempEnv t;
  const std::string small = testing::BinaryContent(300, 11);                    // inline
  const std::string large = testing::BinaryContent(kChunkBytes * 2 + 777, 12);  // three rows
  const std::string prose = Prose(20000);                                       // zstd
  InsertOne(t, MakeAtom(1, small, "binary"), small);
  InsertOne(t, MakeAtom(2, large, "binary"), large);
  InsertOne(t, MakeAtom(3, prose, "text"), prose);
  REQUIRE(Stored(t, 2).chunk_count() == 3);
  REQUIRE(Stored(t, 3).payload_codec() == static_cast<uint32_t>(PayloadCodec::kZstd));
  ReadTxn txn(t.env());
  AtomTable atoms(t.tables());
  auto equals = [&](uint64_t id, std::string_view content) {
    auto result = atoms.RawContentEquals(txn, Stored(t, id), content);
    REQUIRE(result.ok());
    return *result;
  };
  CHECK(equals(1, small) == std::optional<bool>(true));
  CHECK(equals(2, large) == std::optional<bool>(true));
  // One byte different in each row, the last one included; another size.
  for (size_t at : {size_t{0}, kChunkBytes - 1, kChunkBytes, 2 * kChunkBytes + 776}) {
    std::string other = large;
    other[at] = static_cast<char>(other[at] ^ 1);
    CHECK(equals(2, other) == std::optional<bool>(false));
  }
  CHECK(equals(2, large.substr(1)) == std::optional<bool>(false));
  CHECK(equals(2, large + "x") == std::optional<bool>(false));
  std::string other_small = small;
  other_small.back() = static_cast<char>(other_small.back() ^ 1);
  CHECK(equals(1, other_small) == std::optional<bool>(false));
  // Compressed content is not compared in place.
  CHECK(equals(3, prose) == std::nullopt);
}

namespace {

// The row of atom_id as stored, parsed without restoring it.
AtomRecord RawRow(testing::TempEnv& t, uint64_t atom_id) {
  ReadTxn txn(t.env());
  std::string_view value;
  REQUIRE(*txn.Get(t.tables().atoms, Be64Key(atom_id), &value));
  AtomRecord raw;
  REQUIRE(raw.ParseFromArray(value.data(), static_cast<int>(value.size())));
  return raw;
}

}  // namespace

TEST_CASE("an atom row leaves out its id, an unchanged update time and well-known names",
          "[storage][atom-record]") {
  testing::TempEnv t;
  AtomRecord sentence = MakeAtom(7, "One sentence. ", "text");
  sentence.set_subtype("sentence");
  sentence.set_created_at_us(1'796'519'401'251'031);
  sentence.set_updated_at_us(1'796'519'401'251'031);
  AtomRecord custom = MakeAtom(8, "custom bytes", "x-custom");
  custom.set_subtype("patch");  // a coded subtype beside an uncoded modality
  custom.set_created_at_us(10);
  custom.set_updated_at_us(20);
  AtomRecord image = MakeAtom(9, "patch bytes", "image");
  image.set_subtype("x-tile");  // the other way round
  image.set_created_at_us(5);
  InsertOne(t, sentence, "One sentence. ");
  InsertOne(t, custom, "custom bytes");
  InsertOne(t, image, "patch bytes");

  const AtomRecord raw = RawRow(t, 7);
  CHECK(raw.atom_id() == 0);
  CHECK(raw.updated_at_us() == 0);
  CHECK(raw.modality().empty());
  CHECK(raw.subtype().empty());
  CHECK(raw.kind() == 1 + 16 * 3);
  const AtomRecord back = Stored(t, 7);
  CHECK(back.atom_id() == 7);
  CHECK(back.modality() == "text");
  CHECK(back.subtype() == "sentence");
  CHECK(back.kind() == 0);
  CHECK(back.updated_at_us() == sentence.created_at_us());
  CHECK(back.content_hash() == sentence.content_hash());
  CHECK(raw.ByteSizeLong() + 20 <= back.ByteSizeLong());

  const AtomRecord raw_custom = RawRow(t, 8);
  CHECK(raw_custom.modality() == "x-custom");
  CHECK(raw_custom.subtype().empty());
  CHECK(raw_custom.updated_at_us() == 20);  // differs from created: kept
  const AtomRecord custom_back = Stored(t, 8);
  CHECK(custom_back.modality() == "x-custom");
  CHECK(custom_back.subtype() == "patch");
  CHECK(custom_back.updated_at_us() == 20);
  const AtomRecord image_back = Stored(t, 9);
  CHECK(image_back.modality() == "image");
  CHECK(image_back.subtype() == "x-tile");
  CHECK(RawRow(t, 9).subtype() == "x-tile");

  // Scans restore rows as Get does.
  std::vector<AtomRecord> scanned;
  {
    ReadTxn txn(t.env());
    REQUIRE(AtomTable(t.tables())
                .records()
                .ScanAfter(txn, 0,
                           [&](uint64_t, AtomRecord&& atom) {
                             scanned.push_back(std::move(atom));
                             return true;
                           })
                .ok());
  }
  REQUIRE(scanned.size() == 3);
  CHECK(scanned[0].atom_id() == 7);
  CHECK(scanned[0].subtype() == "sentence");
  CHECK(scanned[1].modality() == "x-custom");
  CHECK(scanned[2].updated_at_us() == 5);
}

TEST_CASE("a version 4 atom row reads unchanged and a corrupt kind is DATA_LOSS",
          "[storage][atom-record]") {
  testing::TempEnv t;
  AtomRecord v4 = MakeAtom(3, "old row", "audio");
  v4.set_subtype("frame");
  v4.set_created_at_us(100);
  v4.set_updated_at_us(200);
  v4.set_inline_payload("old row");
  v4.set_chunk_count(0);  // inline
  AtomRecord coded_twice = MakeAtom(4, "x", "text");
  coded_twice.set_kind(1);  // "text" as a code beside the string "text"
  AtomRecord unknown = MakeAtom(5, "y", "");
  unknown.clear_modality();
  unknown.set_kind(15);  // no modality has code 15
  AtomRecord unknown_subtype = MakeAtom(6, "z", "");
  unknown_subtype.set_kind(16 * 1000);
  {
    WriteTxn txn(t.env(), nullptr);
    for (const AtomRecord* r : {&v4, &coded_twice, &unknown, &unknown_subtype}) {
      REQUIRE(txn.Put(t.tables().atoms, Be64Key(r->atom_id()), r->SerializeAsString()).ok());
    }
    REQUIRE(txn.Commit().ok());
  }
  const AtomRecord back = Stored(t, 3);
  CHECK(back.atom_id() == 3);
  CHECK(back.modality() == "audio");
  CHECK(back.subtype() == "frame");
  CHECK(back.updated_at_us() == 200);
  std::string content;
  REQUIRE(ReadBack(t, back, &content).ok());
  CHECK(content == "old row");

  ReadTxn txn(t.env());
  AtomTable atoms(t.tables());
  for (uint64_t id : {4, 5, 6}) {
    auto got = atoms.Get(txn, id);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == Status::Code::kDataLoss);
    CHECK(got.status().message() == "atoms: record " + std::to_string(id) + " is corrupt");
  }
}

TEST_CASE("an image patch's shape metadata is stored as four numbers, other metadata as text",
          "[storage][atom-record]") {
  testing::TempEnv t;
  const std::string shape = R"({"bytes_per_sample":1,"channels":3,"height":16,"width":4294967295})";
  REQUIRE(PatchShapeMetadata(1, 3, 16, 4294967295u) == shape);
  const std::vector<std::string> texts = {
      shape,
      R"({"bytes_per_sample":1, "channels":3,"height":16,"width":16})",         // spacing
      R"({"bytes_per_sample":01,"channels":3,"height":16,"width":16})",         // leading zero
      R"({"bytes_per_sample":1,"channels":3,"height":16,"width":16,"x":1})",    // another key
      R"({"bytes_per_sample":1,"channels":3,"height":16,"width":4294967296})",  // past uint32
      R"({"bytes_per_sample":1,"channels":3,"height":16,"width":16}x)",
      R"({"width":16})"};
  for (size_t i = 0; i < texts.size(); ++i) {
    AtomRecord atom = MakeAtom(10 + i, "patch " + std::to_string(i), "image");
    atom.set_subtype("patch");
    atom.set_metadata(texts[i]);
    InsertOne(t, atom, "patch " + std::to_string(i));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    const AtomRecord raw = RawRow(t, 10 + i);
    if (i == 0) {
      CHECK(raw.metadata().empty());
      CHECK(std::vector<uint32_t>(raw.patch_shape().begin(), raw.patch_shape().end()) ==
            std::vector<uint32_t>{1, 3, 16, 4294967295u});
    } else {
      CHECK(raw.metadata() == texts[i]);
      CHECK(raw.patch_shape().empty());
    }
    const AtomRecord back = Stored(t, 10 + i);
    CHECK(back.metadata() == texts[i]);
    CHECK(back.patch_shape().empty());
  }
  // A shape of other than four numbers, or beside metadata, is corrupt.
  AtomRecord three = MakeAtom(30, "a", "image");
  three.add_patch_shape(1);
  three.add_patch_shape(2);
  three.add_patch_shape(3);
  AtomRecord both = MakeAtom(31, "b", "image");
  for (uint32_t v : {1, 1, 7, 7}) both.add_patch_shape(v);
  both.set_metadata("{}");
  {
    WriteTxn txn(t.env(), nullptr);
    for (const AtomRecord* r : {&three, &both}) {
      REQUIRE(txn.Put(t.tables().atoms, Be64Key(r->atom_id()), r->SerializeAsString()).ok());
    }
    REQUIRE(txn.Commit().ok());
  }
  ReadTxn txn(t.env());
  for (uint64_t id : {30, 31}) {
    auto got = AtomTable(t.tables()).Get(txn, id);
    CHECK(got.status().code() == Status::Code::kDataLoss);
  }
}
