// ModelImport over a real LMDB environment: the file's SHA-256 fed as the
// bytes arrive equals a separate SHA-256 of the file; a file that repeats a
// stored one (same header) has its pieces compared with the stored file's
// atoms instead of hashed, and ends up with exactly the atoms hashing gives
// (shared where equal, new where changed, each atom's hash the SHA-256 of
// its bytes); exports stay byte-identical.
#include "server/engine/models/model_import.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/engine/models/formats/safetensors_writer.h"
#include "server/engine/models/model_engine.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

// Chunks larger than the payload blocks' members (stored on their own, raw
// when incompressible), many per tensor.
constexpr uint32_t kChunk = 32 * 1024;
static_assert(kChunk > storage::kMaxBlockedBytes);

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  ModelEngine models{t.env(), t.tables(), writer, std::string(32, 'k')};
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Three F32 tensors; each tensor's bytes from make(i).
template <typename Make>
std::string File(Make make) {
  std::vector<models::SafetensorsTensorSpec> specs;
  std::vector<std::string> data;
  for (uint32_t i = 0; i < 3; ++i) {
    data.push_back(make(i));
    specs.push_back(
        {"model.layers." + std::to_string(i) + ".weight", "F32", {data.back().size() / 4}});
  }
  std::vector<std::string_view> views(data.begin(), data.end());
  auto file = models::WriteSafetensors(specs, views, {});
  REQUIRE(file.ok());
  return *file;
}

// 3 x 10 chunks of incompressible values, and one partial chunk each.
std::string RandomFile() {
  return File([](uint32_t i) { return RandomBytes(10 * kChunk + 20000, 100 + i); });
}

ImportReport Import(Fixture& f, const std::string& name, const std::string& file,
                    size_t message = 10007) {
  ImportOptions options;
  options.model.model.set_model_name(name);
  options.file_name = name + ".safetensors";
  options.chunk_bytes = kChunk;
  auto import = f.models.StartImport(options);
  REQUIRE(import->Begin().ok());
  for (size_t at = 0; at < file.size(); at += message) {
    REQUIRE(import->Add(std::string_view(file).substr(at, message)).ok());
  }
  auto report = import->Finish();
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return std::move(*report);
}

std::string Export(Fixture& f, const std::string& name) {
  std::string out;
  const Status status = f.models.ExportModel(
      {0, name}, [](const ModelEngine::ExportHeader&) { return Status::Ok(); },
      [&](std::string_view bytes) {
        out.append(bytes);
        return Status::Ok();
      });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return out;
}

uint64_t TensorBytes(const ImportReport& r) {
  uint64_t bytes = 0;
  for (const LayerImport& l : r.layers) bytes += l.bytes;
  return bytes;
}

// Every atom a model's tensor rows hold: its content hashes to its
// content_hash. Returns the atom ids.
std::set<uint64_t> CheckedAtoms(Fixture& f, uint64_t model_id) {
  std::set<uint64_t> ids;
  storage::ReadTxn txn(f.t.env());
  const storage::AtomTable atoms(f.t.tables());
  REQUIRE(storage::TensorAtomTable(f.t.tables())
              .ScanModel(txn, model_id,
                         [&](const storage::TensorChunkKey&, storage::TensorAtomRecord&& row) {
                           ids.insert(row.atom_id());
                           return true;
                         })
              .ok());
  for (uint64_t id : ids) {
    auto atom = atoms.Get(txn, id);
    REQUIRE(atom.ok());
    REQUIRE(atom->has_value());
    std::string content;
    REQUIRE(atoms.ReadContent(txn, **atom, &content).ok());
    const Sha256Digest hash = Sha256(content);
    CHECK((*atom)->content_hash() == std::string(hash.begin(), hash.end()));
  }
  return ids;
}

}  // namespace

TEST_CASE("model import: the file's SHA-256 fed as bytes arrive equals a separate SHA-256") {
  Fixture f;
  const std::string file = RandomFile();
  const Sha256Digest separate = Sha256(file);
  size_t n = 0;
  for (size_t message : {size_t{1} << 20, size_t{4099}, size_t{7}}) {
    const ImportReport r = Import(f, "m" + std::to_string(n++), file, message);
    CHECK(r.file_sha256 == separate);
    CHECK(r.bytes_received == file.size());
  }
  // The stored file and its export agree with it.
  CHECK(Export(f, "m0") == file);
}

TEST_CASE("model import: a re-import is compared with the stored file, not hashed") {
  Fixture f;
  const std::string file = RandomFile();
  const ImportReport first = Import(f, "base", file);
  CHECK(first.bytes_compared == 0);  // nothing stored to compare with
  CHECK(first.new_bytes_stored == file.size());
  const ImportReport again = Import(f, "again", file, 65536);
  // Every tensor chunk (stored raw: incompressible) was compared; the
  // header (stored with the small pieces, in a payload block) was hashed.
  CHECK(again.bytes_compared == TensorBytes(again));
  CHECK(again.bytes_compared > 0);
  CHECK(again.new_bytes_stored == 0);
  CHECK(again.new_atoms == 0);
  CHECK(again.file_sha256 == Sha256(file));
  CHECK(CheckedAtoms(f, again.model.model.model_id()) ==
        CheckedAtoms(f, first.model.model.model_id()));
  CHECK(Export(f, "again") == file);
}

TEST_CASE("model import: a changed tensor under the same header is hashed and stored anew") {
  Fixture f;
  const std::string file = RandomFile();
  const ImportReport base = Import(f, "base", file);
  // Same header (same names, dtypes and shapes): tensor 1 changed in one
  // byte of its middle chunk and of its partial last chunk, tensor 2 in
  // its first byte.
  std::string tuned = file;
  const uint64_t header = file.size() - TensorBytes(base);
  const uint64_t tensor = 10 * kChunk + 20000;
  for (uint64_t at :
       {header + tensor + 5 * kChunk + 17, header + 2 * tensor - 1, header + 2 * tensor}) {
    tuned[at] = static_cast<char>(tuned[at] ^ 0x40);
  }
  const ImportReport r = Import(f, "tuned", tuned);
  CHECK(r.new_atoms == 3);
  CHECK(r.new_bytes_stored == kChunk + 20000 + kChunk);
  CHECK(r.bytes_compared == TensorBytes(r) - r.new_bytes_stored);
  CHECK(r.layers[0].sharing == LayerSharing::kShared);
  CHECK(r.layers[1].sharing == LayerSharing::kPartlyShared);
  CHECK(r.layers[1].new_chunks == 2);
  CHECK(r.layers[2].new_chunks == 1);
  CHECK(r.file_sha256 == Sha256(tuned));
  const std::set<uint64_t> base_atoms = CheckedAtoms(f, base.model.model.model_id());
  const std::set<uint64_t> tuned_atoms = CheckedAtoms(f, r.model.model.model_id());
  std::vector<uint64_t> shared;
  std::set_intersection(base_atoms.begin(), base_atoms.end(), tuned_atoms.begin(),
                        tuned_atoms.end(), std::back_inserter(shared));
  CHECK(shared.size() == tuned_atoms.size() - 3);
  CHECK(Export(f, "tuned") == tuned);
  CHECK(Export(f, "base") == file);
}

TEST_CASE("model import: compressed stored chunks are hashed, with the same atoms") {
  Fixture f;
  // Values that compress (a repeating pattern): the stored chunks are zstd
  // frames, not compared in place.
  const std::string file = File([](uint32_t i) {
    std::string values;
    while (values.size() < 6 * kChunk) values += "weights of layer " + std::to_string(i) + ";";
    return values.substr(0, 6 * kChunk);
  });
  const ImportReport base = Import(f, "base", file);
  const ImportReport again = Import(f, "again", file);
  CHECK(again.bytes_compared == 0);
  CHECK(again.new_atoms == 0);
  CHECK(CheckedAtoms(f, again.model.model.model_id()) ==
        CheckedAtoms(f, base.model.model.model_id()));
  CHECK(Export(f, "again") == file);
}

TEST_CASE("model import: a stored file with another header predicts nothing") {
  Fixture f;
  const std::string file = RandomFile();
  Import(f, "base", file);
  // The same tensor bytes under other names: another header, so no
  // comparison; every chunk is still shared through its hash.
  std::string renamed = file;
  const size_t at = renamed.find("model.layers.0.weight");
  REQUIRE(at != std::string::npos);
  renamed[at] = 'M';
  const ImportReport r = Import(f, "renamed", renamed);
  CHECK(r.bytes_compared == 0);
  CHECK(r.new_atoms == 1);  // the header
  CHECK(Export(f, "renamed") == renamed);
}
