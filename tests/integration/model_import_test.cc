// Model files through ImportModel / ExportModel against the real
// hartonomousd: byte-identical round trips of safetensors (every dtype),
// GGUF and every ONNX model with initializers in Debian's libonnx-testdata;
// tensors shared across models stored once; the delete cascade; bad input,
// cancelled streams, concurrent imports and a kill -9 mid-import leaving
// nothing behind, checked in the LMDB tables themselves.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon_harness.h"
#include "model_store_audit.h"
#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_writer.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "server/engine/models/formats/safetensors_dtype.h"
#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"
#include "test_util.h"
#include "wait_idle.h"

using namespace hartonomous;
using namespace hartonomous::testing;
namespace models = hartonomous::engine::models;

namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

struct Tensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::string data;
};

std::string Safetensors(const std::vector<Tensor>& tensors,
                        const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  std::vector<models::SafetensorsTensorSpec> specs;
  std::vector<std::string_view> data;
  for (const Tensor& t : tensors) {
    specs.push_back({t.name, t.dtype, t.shape});
    data.push_back(t.data);
  }
  auto file = models::WriteSafetensors(specs, data, metadata);
  REQUIRE(file.ok());
  return *file;
}

// A transformer-like model: `layers` blocks of attention, feed-forward and
// norm weights of `width` F32 values per row, values from `seed`.
std::vector<Tensor> TransformerTensors(int layers, uint64_t width, uint32_t seed) {
  std::vector<Tensor> out;
  for (int i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "self_attn.q_proj.weight",
                   "F32",
                   {width, 64},
                   RandomBytes(width * 64 * 4, seed * 100 + static_cast<uint32_t>(i))});
    out.push_back({p + "mlp.up_proj.weight",
                   "BF16",
                   {width, 96},
                   RandomBytes(width * 96 * 2, seed * 100 + 50 + static_cast<uint32_t>(i))});
    out.push_back({p + "input_layernorm.weight", "F32", {width}, std::string(width * 4, '\x01')});
  }
  return out;
}

struct Imported {
  grpc::Status status;
  v1::ImportModelResponse response;
};

Imported Import(Client& client, const std::string& name, const std::string& file,
                uint32_t chunk_bytes = 0, const std::string& file_name = "") {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  start.set_chunk_bytes(chunk_bytes);
  start.set_file_name(file_name);
  Imported out;
  grpc::ClientContext context;
  out.status = client.ImportModel(&context, start, file, &out.response, {}, 64 * 1024);
  return out;
}

std::string Export(Client& client, const std::string& name,
                   v1::ExportModelHeader* header = nullptr) {
  v1::ExportModelRequest request;
  request.set_model_name(name);
  std::string out;
  v1::ExportModelHeader ignored;
  const grpc::Status status =
      client.ExportModel(request, header != nullptr ? header : &ignored, [&](std::string_view b) {
        out.append(b);
        return true;
      });
  INFO(status.error_message());
  REQUIRE(status.ok());
  return out;
}

using Audit = ModelStoreAudit;
Audit AuditStore(const std::string& dir) { return AuditModelStore(dir); }

}  // namespace

TEST_CASE(
    "model import: safetensors of every dtype, odd shapes, empty and rank-0 tensors "
    "round-trip byte for byte",
    "[models][import]") {
  std::vector<Tensor> tensors;
  for (int i = 0; i < models::kSafetensorsDtypeCount; ++i) {
    const models::SafetensorsDtype dtype = models::SafetensorsDtypeAt(i);
    const int bits = models::SafetensorsDtypeBits(dtype);
    // 24 elements make whole bytes for 4- and 6-bit types; 3x5x7 for the rest.
    std::vector<uint64_t> shape =
        bits < 8 ? std::vector<uint64_t>{4, 6} : std::vector<uint64_t>{3, 5, 7};
    uint64_t elements = 1;
    for (uint64_t d : shape) elements *= d;
    tensors.push_back(
        {"t." + std::string(models::SafetensorsDtypeName(dtype)),
         std::string(models::SafetensorsDtypeName(dtype)), shape,
         RandomBytes(elements * static_cast<uint64_t>(bits) / 8, static_cast<uint32_t>(i))});
  }
  tensors.push_back({"scalar", "F32", {}, RandomBytes(4, 99)});
  tensors.push_back({"empty", "F16", {0, 3}, ""});
  // Several chunks at 4 KiB, the last one short.
  tensors.push_back({"model.embed_tokens.weight", "F32", {1001, 3}, RandomBytes(12012, 7)});
  const std::string file = Safetensors(tensors, {{"format", "pt"}, {"note", "every dtype"}});

  Daemon daemon;
  Client& client = daemon.client();
  const Imported imported = Import(client, "every-dtype", file, 4096);
  INFO(imported.status.error_message());
  REQUIRE(imported.status.ok());
  const v1::ImportModelResponse& r = imported.response;
  CHECK(r.format() == "safetensors");
  CHECK(r.bytes_received() == file.size());
  CHECK(r.model().layer_count() == tensors.size());
  REQUIRE(r.layers_size() == static_cast<int>(tensors.size()));
  CHECK(r.file_sha256() == ToHex(Sha256(file)));
  CHECK(Export(client, "every-dtype") == file);

  // The layers are the tensors, in file order (the writer's order).
  std::map<std::string, const Tensor*> by_name;
  for (const Tensor& t : tensors) by_name[t.name] = &t;
  std::vector<v1::ModelLayer> layers;
  v1::ListLayersRequest list;
  list.set_model_name("every-dtype");
  REQUIRE(client
              .ListLayers(list,
                          [&](const v1::ModelLayer& l) {
                            layers.push_back(l);
                            return true;
                          })
              .ok());
  REQUIRE(layers.size() == tensors.size());
  for (const v1::ModelLayer& layer : layers) {
    CAPTURE(layer.layer_name());
    REQUIRE(by_name.count(layer.layer_name()) == 1);
    const Tensor& t = *by_name[layer.layer_name()];
    CHECK(layer.tensor_dtype() == t.dtype);
    CHECK(std::vector<uint64_t>(layer.tensor_shape().begin(), layer.tensor_shape().end()) ==
          t.shape);
    uint64_t params = 1;
    for (uint64_t d : t.shape) params *= d;
    CHECK(layer.parameter_count() == params);
    const v1::LayerImport& report = r.layers(static_cast<int>(layer.layer_idx()));
    CHECK(report.bytes() == t.data.size());
    CHECK(report.chunks() == (t.data.size() + 4095) / 4096);
  }
  CHECK(layers[0].layer_type() != v1::LAYER_TYPE_UNSPECIFIED);
  const auto embed = std::find_if(layers.begin(), layers.end(), [](const v1::ModelLayer& l) {
    return l.layer_name() == "model.embed_tokens.weight";
  });
  REQUIRE(embed != layers.end());
  CHECK(embed->layer_type() == v1::LAYER_TYPE_EMBEDDING);
  CHECK(r.layers(static_cast<int>(
                     std::find_if(layers.begin(), layers.end(),
                                  [](const v1::ModelLayer& l) { return l.layer_name() == "empty"; })
                         ->layer_idx()))
            .sharing() == v1::LAYER_SHARING_EMPTY);
  daemon.Stop();
  const Audit audit = AuditStore(daemon.data_dir());
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
}

TEST_CASE(
    "model import: a fine-tune stores only its changed tensors, a re-import nothing new, "
    "and deleting one model keeps the other's bytes",
    "[models][import]") {
  const std::vector<Tensor> base = TransformerTensors(6, 256, 1);
  std::vector<Tensor> tuned = base;
  // The fine-tune changes two of its 18 tensors.
  tuned[1].data = RandomBytes(tuned[1].data.size(), 4242);
  tuned[4].data = RandomBytes(tuned[4].data.size(), 4343);
  const std::string base_file = Safetensors(base);
  const std::string tuned_file = Safetensors(tuned);

  Daemon daemon;
  Client& client = daemon.client();
  const Imported first = Import(client, "base", base_file);
  REQUIRE(first.status.ok());
  const Imported second = Import(client, "tuned", tuned_file);
  REQUIRE(second.status.ok());
  const v1::ImportModelResponse& r = second.response;
  uint64_t changed_bytes = tuned[1].data.size() + tuned[4].data.size();
  // New: the two changed tensors and the header (its offsets are the same,
  // so it is shared too).
  CHECK(r.new_bytes_stored() == changed_bytes);
  for (const v1::LayerImport& l : r.layers()) {
    CAPTURE(l.layer_name());
    const bool changed = l.layer_name() == tuned[1].name || l.layer_name() == tuned[4].name;
    CHECK(l.sharing() == (changed ? v1::LAYER_SHARING_NEW : v1::LAYER_SHARING_SHARED));
  }
  const Imported again = Import(client, "base-again", base_file);
  REQUIRE(again.status.ok());
  CHECK(again.response.new_bytes_stored() == 0);
  CHECK(again.response.new_atoms() == 0);

  v1::DeleteModelRequest del;
  del.set_model_name("base");
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  CHECK(deleted.atoms_purged() == 0);  // base-again holds every atom of base
  CHECK(Export(client, "tuned") == tuned_file);
  CHECK(Export(client, "base-again") == base_file);
  del.set_model_name("base-again");
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  // The two tensors tuned changed were base's alone (each one chunk).
  CHECK(deleted.atoms_purged() == 2);
  CHECK(deleted.bytes_freed() == base[1].data.size() + base[4].data.size());
  CHECK(Export(client, "tuned") == tuned_file);
  daemon.Stop();
  const Audit audit = AuditStore(daemon.data_dir());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 1);
  // What only the deleted models held is released and purged at once:
  // no inactive atom is left for a later purge.
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
}

TEST_CASE(
    "model import: GGUF v2 and v3 round-trip, and a changed metadata value adds no "
    "tensor bytes",
    "[models][import]") {
  std::vector<models::GgufTensorSpec> specs;
  std::vector<std::string> data;
  uint32_t seed = 0;
  for (const char* type : {"F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "BF16"}) {
    const models::GgmlType* t = models::FindGgmlTypeByName(type);
    REQUIRE(t != nullptr);
    const uint64_t ne0 = 256, ne1 = 3;
    specs.push_back({std::string("blk.0.") + type + ".weight", t->id, {ne0, ne1}});
    data.push_back(RandomBytes(ne0 / t->block_size * t->type_size * ne1, ++seed));
  }
  std::vector<std::string_view> views(data.begin(), data.end());
  auto kvs = [](const std::string& name) {
    return std::vector<models::GgufKvSpec>{
        {"general.architecture", models::GgufValue::String("llama")},
        {"general.name", models::GgufValue::String(name)},
        {"llama.context_length", models::GgufValue::Scalar(models::GgufValueType::kUint32, 4096)},
        {"tokenizer.ggml.tokens", models::GgufValue::StringArray({"<s>", "</s>", "a", "b"})}};
  };
  Daemon daemon;
  Client& client = daemon.client();
  for (uint32_t version : {2u, 3u}) {
    CAPTURE(version);
    auto file = models::WriteGguf(kvs("tiny"), specs, views, version);
    REQUIRE(file.ok());
    const std::string name = "gguf-v" + std::to_string(version);
    const Imported imported = Import(client, name, *file);
    INFO(imported.status.error_message());
    REQUIRE(imported.status.ok());
    CHECK(imported.response.format() == "gguf");
    CHECK(imported.response.layers_size() == static_cast<int>(specs.size()));
    CHECK(Export(client, name) == *file);
  }
  // Same tensors, one metadata value changed: only the header is new.
  auto renamed = models::WriteGguf(kvs("tiny-renamed"), specs, views, 3);
  REQUIRE(renamed.ok());
  const Imported imported = Import(client, "gguf-renamed", *renamed);
  REQUIRE(imported.status.ok());
  for (const v1::LayerImport& l : imported.response.layers()) {
    CAPTURE(l.layer_name());
    CHECK(l.new_bytes() == 0);
    CHECK(l.sharing() == v1::LAYER_SHARING_SHARED);
  }
  // The header, and the padding after it when its length changed.
  CHECK(imported.response.new_atoms() <= 2);
  CHECK(imported.response.new_bytes_stored() < 1024);
  CHECK(Export(client, "gguf-renamed") == *renamed);
}

TEST_CASE(
    "model import: every ONNX model with initializers in libonnx-testdata round-trips "
    "byte for byte",
    "[models][import][onnx]") {
  const std::filesystem::path root = "/usr/share/libonnx-testdata/data";
  REQUIRE(std::filesystem::exists(root));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() == ".onnx") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  Daemon daemon;
  Client& client = daemon.client();
  size_t with_tensors = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = models::ParseOnnx(bytes);
    if (!parsed.ok() || parsed->layout.tensors.empty()) continue;
    CAPTURE(path.string());
    const std::string name = "onnx-" + std::to_string(++with_tensors);
    const Imported imported = Import(client, name, bytes, 0, path.filename().string());
    INFO(imported.status.error_message());
    REQUIRE(imported.status.ok());
    CHECK(imported.response.format() == "onnx");
    CHECK(imported.response.layers_size() == static_cast<int>(parsed->layout.tensors.size()));
    REQUIRE(Export(client, name) == bytes);
  }
  CHECK(with_tensors >= 100);
  daemon.Stop();
  const Audit audit = AuditStore(daemon.data_dir());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == with_tensors);
}

TEST_CASE("model import: bad files are refused naming the rule and leave nothing behind",
          "[models][import][bad-input]") {
  const std::string good = Safetensors(TransformerTensors(2, 64, 3));
  // Larger than one staging batch (16 MiB), so that a failure at the end
  // must release atoms already committed.
  const std::string big = Safetensors({{"big.weight", "F32", {5 << 20}, RandomBytes(20 << 20, 5)}});
  std::string bad_json = good;
  bad_json[9] = '!';
  std::string huge_header = good;
  huge_header[6] = '\x7f';  // header length far past the end and the limit
  std::string unknown_dtype = Safetensors({{"x", "F32", {4}, RandomBytes(16, 1)}});
  const size_t at = unknown_dtype.find("\"F32\"");
  REQUIRE(at != std::string::npos);
  unknown_dtype.replace(at, 5, "\"F33\"");
  auto gguf = models::WriteGguf({}, {{"w", models::kGgmlF32, {8}}}, {RandomBytes(32, 2)}, 3);
  REQUIRE(gguf.ok());
  struct Case {
    const char* what;
    std::string file;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"truncated in the data", good.substr(0, good.size() - 1), "truncated"},
      {"truncated in the header", good.substr(0, 40), "truncated"},
      {"trailing bytes", good + "x", "trailing"},
      {"big file truncated at the end", big.substr(0, big.size() - 3), "truncated"},
      {"header not JSON", bad_json, "header"},
      {"header length past the end", huge_header, "header"},
      {"unknown dtype", unknown_dtype, "F33"},
      {"GGUF truncated", gguf->substr(0, gguf->size() - 8), "truncated"},
      {"not a model file", "hello, world, this is text", "not a safetensors, GGUF or ONNX"},
      {"ONNX that is not protobuf", std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11),
       "protobuf"},
  };
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Imported imported =
        Import(client, "bad", c.file, 0,
               std::string(c.what).find("ONNX") != std::string::npos ? "m.onnx" : "");
    CHECK(imported.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(imported.status.error_message(), Catch::Contains(c.expect));
  }
  // Start rules.
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name("x");
  start.set_chunk_bytes(100);
  v1::ImportModelResponse response;
  grpc::ClientContext context;
  grpc::Status status = client.ImportModel(&context, start, good, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("start.chunk_bytes"));
  start.set_chunk_bytes(0);
  start.set_sha256(std::string(64, '0'));
  grpc::ClientContext context2;
  status = client.ImportModel(&context2, start, good, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("start.sha256"));
  start.clear_sha256();
  start.mutable_model()->set_model_name("");
  grpc::ClientContext context3;
  status = client.ImportModel(&context3, start, good, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("model.model_name"));
  // A taken name fails before the file is stored.
  REQUIRE(Import(client, "taken", good).status.ok());
  const Imported twice = Import(client, "taken", big);
  CHECK(twice.status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 1);
  CHECK(audit.staging_rows == 0);
  // Only the one good model's atoms exist: the refused imports deleted theirs.
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
}

TEST_CASE("model import: a cancelled stream stores nothing", "[models][import][cancel]") {
  const std::string file =
      Safetensors({{"w.weight", "F32", {10 << 20}, RandomBytes(40 << 20, 11)}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name("cancelled");
  v1::ImportModelResponse response;
  grpc::ClientContext context;
  // Cancelled once most of the file (more than one staging batch) was sent.
  const grpc::Status status = client.ImportModel(
      &context, start, file, &response,
      [&](uint64_t sent) {
        if (sent >= (36u << 20)) context.TryCancel();
      },
      1 << 20);
  CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  WaitIdle(client);
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.models == 0);
  CHECK(audit.tensor_rows == 0);
  CHECK(audit.staging_rows == 0);
  CHECK(audit.tensor_atoms == 0);
}

TEST_CASE(
    "model import: concurrent imports of models sharing tensors keep exact reference "
    "counts",
    "[models][import][concurrency]") {
  const std::vector<Tensor> shared = TransformerTensors(4, 512, 21);
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::vector<Tensor> tensors = shared;
      tensors[0].data = RandomBytes(tensors[0].data.size(), 900 + static_cast<uint32_t>(i));
      Client client(ClientOptions{.target = daemon.address()});
      if (Import(client, "m" + std::to_string(i), Safetensors(tensors)).status.ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.models == 4);
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
}

TEST_CASE("model import: kill -9 during an import leaves no staged atoms after the restart",
          "[models][import][durability]") {
  const std::string file =
      Safetensors({{"w.weight", "F32", {12 << 20}, RandomBytes(48 << 20, 31)}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  REQUIRE(Import(daemon.client(), "kept", Safetensors(TransformerTensors(2, 64, 8))).status.ok());
  {
    Client client(ClientOptions{.target = daemon.address()});
    v1::ImportModelStart start;
    start.mutable_model()->set_model_name("interrupted");
    v1::ImportModelResponse response;
    grpc::ClientContext context;
    bool killed = false;
    const grpc::Status status = client.ImportModel(
        &context, start, file, &response,
        [&](uint64_t sent) {
          if (!killed && sent >= (40u << 20)) {
            killed = true;
            daemon.Kill9();
          }
        },
        1 << 20);
    CHECK_FALSE(status.ok());
  }
  daemon.Start();
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.models == 1);
  CHECK(audit.staging_rows == 0);
  CHECK(audit.mismatches.empty());
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
}

namespace {

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

}  // namespace

TEST_CASE(
    "model extract-student: the most important layers, sharing the teacher's atoms, "
    "exported as safetensors",
    "[models][student]") {
  // Layer i's weights have magnitude (i % 4) + 1: layers 3, 7 rank first.
  std::vector<Tensor> tensors;
  for (int i = 0; i < 8; ++i) {
    std::vector<float> values(3000);
    for (size_t j = 0; j < values.size(); ++j) {
      values[j] = static_cast<float>((i % 4) + 1) * (j % 2 == 0 ? 1.0f : -1.0f);
    }
    tensors.push_back({"model.layers." + std::to_string(i) + ".mlp.up_proj.weight",
                       "F32",
                       {1000, 3},
                       FloatBytes(values)});
  }
  const std::string file = Safetensors(tensors);
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  REQUIRE(Import(client, "teacher", file, 4096).status.ok());
  v1::ExtractStudentRequest request;
  request.set_model_name("teacher");
  request.set_target_ratio(0.25);
  request.set_student_name("student");
  v1::ExtractStudentResponse r;
  REQUIRE(client.ExtractStudent(request, &r).ok());
  CHECK(r.layers_total() == 8);
  CHECK(r.layers_kept() == 2);
  CHECK(r.bytes_shared() == 2 * 12000);
  std::set<std::string> kept;
  for (const auto& l : r.layers()) {
    CHECK(l.importance_known());
    CHECK_FALSE(l.importance_given());
    CHECK(l.importance() == Approx((l.layer_idx() % 4) + 1));
    if (l.kept()) kept.insert(l.layer_name());
  }
  CHECK(kept == std::set<std::string>{tensors[3].name, tensors[7].name});
  CHECK(r.model().layer_count() == 2);
  CHECK(r.model().parameter_count() == 6000);

  // Exported as safetensors holding exactly the teacher's bytes.
  v1::ExportModelHeader header;
  const std::string exported = Export(client, "student", &header);
  CHECK(header.format() == "safetensors");
  CHECK(header.file_sha256().empty());
  auto parsed = models::ScanSafetensors(exported, exported.size());
  REQUIRE(parsed.ok());
  REQUIRE(parsed->scan.complete());
  REQUIRE(parsed->scan.layout.tensors.size() == 2);
  for (const auto& t : parsed->scan.layout.tensors) {
    CAPTURE(t.name);
    const auto it = std::find_if(tensors.begin(), tensors.end(),
                                 [&](const Tensor& x) { return x.name == t.name; });
    REQUIRE(it != tensors.end());
    CHECK(exported.substr(t.offset, t.length) == it->data);
  }
  // Bad requests.
  request.set_student_name("student");
  CHECK(client.ExtractStudent(request, &r).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  request.set_student_name("s2");
  request.set_target_ratio(1.5);
  CHECK(client.ExtractStudent(request, &r).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  request.set_target_ratio(0.5);
  request.set_model_name("nobody");
  CHECK(client.ExtractStudent(request, &r).error_code() == grpc::StatusCode::NOT_FOUND);

  // The student keeps its bytes when the teacher goes.
  v1::DeleteModelRequest del;
  del.set_model_name("teacher");
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  CHECK(Export(client, "student") == exported);
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 1);
}

TEST_CASE("model geometry: a layer's weights as WKT LINESTRING ZM, paged", "[models][geometry]") {
  std::vector<float> values = {0.5f, -1.25f, 3.0f, 0.0f, -0.125f, 2.5f, 7.0f};
  std::vector<uint16_t> halves = {0x3c00, 0xbc00, 0x4000};  // 1, -1, 2 (F16)
  const std::string file =
      Safetensors({{"w.weight", "F32", {7}, FloatBytes(values)},
                   {"h.weight",
                    "F16",
                    {3},
                    std::string(reinterpret_cast<const char*>(halves.data()), halves.size() * 2)},
                   {"ids", "I32", {2}, std::string(8, '\x01')}});
  Daemon daemon;
  Client& client = daemon.client();
  REQUIRE(Import(client, "geo", file).status.ok());
  auto layer_of = [&](const std::string& name) {
    v1::ListLayersRequest list;
    list.set_model_name("geo");
    uint32_t idx = 0;
    REQUIRE(client
                .ListLayers(list,
                            [&](const v1::ModelLayer& l) {
                              if (l.layer_name() == name) idx = l.layer_idx();
                              return true;
                            })
                .ok());
    return idx;
  };
  auto geometry = [&](uint32_t layer, uint64_t start, uint32_t max,
                      std::vector<v1::LayerGeometry>* out) {
    v1::ExportLayerGeometryRequest request;
    request.set_model_name("geo");
    request.set_layer_idx(layer);
    request.set_start_index(start);
    request.set_max_points(max);
    out->clear();
    return client.ExportLayerGeometry(request, [&](const v1::LayerGeometry& g) {
      out->push_back(g);
      return true;
    });
  };
  std::vector<v1::LayerGeometry> got;
  REQUIRE(geometry(layer_of("w.weight"), 0, 0, &got).ok());
  REQUIRE(got.size() == 1);
  CHECK(got[0].wkt() ==
        "LINESTRING ZM (0 0.5 0.5 0, 1 -1.25 1.25 0, 2 3 3 0, 3 0 0 0, 4 -0.125 0.125 0, "
        "5 2.5 2.5 0, 6 7 7 0)");
  CHECK(got[0].total_points() == 7);
  CHECK(got[0].next_index() == 7);
  CHECK(got[0].last());
  REQUIRE(geometry(layer_of("w.weight"), 5, 1, &got).ok());
  REQUIRE(got.size() == 1);
  CHECK(got[0].wkt() == "POINT ZM (5 2.5 2.5 0)");
  CHECK(got[0].next_index() == 6);
  REQUIRE(geometry(layer_of("h.weight"), 1, 10, &got).ok());
  CHECK(got[0].wkt() == "LINESTRING ZM (1 -1 1 0, 2 2 2 0)");
  const grpc::Status ints = geometry(layer_of("ids"), 0, 0, &got);
  CHECK(ints.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(ints.error_message(), Catch::Contains("I32"));
  v1::ExportLayerGeometryRequest bad;
  bad.set_model_name("geo");
  bad.set_max_points(2000000);
  const grpc::Status too_many =
      client.ExportLayerGeometry(bad, [](const v1::LayerGeometry&) { return true; });
  CHECK(too_many.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(too_many.error_message(), Catch::Contains("max_points"));
}

TEST_CASE("model geometry: a page of many runs arrives in order, the last carrying the totals",
          "[models][geometry]") {
  // Real values: the first 100,000 bytes of Fashion-MNIST's compressed test
  // images, as float32 (25 runs of up to 4,096 points, more than one batch
  // of the stream).
  const std::string images =
      ReadFile("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  constexpr size_t kPoints = 100000;
  REQUIRE(images.size() > kPoints);
  std::vector<float> values(kPoints);
  for (size_t i = 0; i < kPoints; ++i) values[i] = static_cast<unsigned char>(images[i]);
  Daemon daemon;
  Client& client = daemon.client();
  REQUIRE(
      Import(client, "geo-big", Safetensors({{"w.weight", "F32", {kPoints}, FloatBytes(values)}}))
          .status.ok());
  // The page from `start` on (max_points 0: the default of 100,000).
  auto page = [&](uint64_t start) {
    v1::ExportLayerGeometryRequest request;
    request.set_model_name("geo-big");
    request.set_start_index(start);
    std::vector<v1::LayerGeometry> messages;
    const grpc::Status status =
        client.ExportLayerGeometry(request, [&](const v1::LayerGeometry& g) {
          messages.push_back(g);
          return true;
        });
    INFO(status.error_message());
    REQUIRE(status.ok());
    return messages;
  };
  std::vector<v1::LayerGeometry> got = page(0);
  REQUIRE(got.size() == (kPoints + 4095) / 4096);
  uint64_t next = 0;
  for (size_t m = 0; m < got.size(); ++m) {
    INFO("message " << m);
    CHECK(got[m].first_index() == next);
    CHECK(got[m].last() == (m + 1 == got.size()));
    // Every point of the run: "x y z m" with y the value and z = |y|.
    std::string wkt = got[m].wkt();
    REQUIRE(wkt.rfind("LINESTRING ZM (", 0) == 0);
    std::istringstream points(wkt.substr(15));
    for (uint32_t p = 0; p < got[m].points(); ++p) {
      double x, y, z, t;
      char separator;
      REQUIRE(points >> x >> y >> z >> t >> separator);
      CHECK(x == static_cast<double>(next + p));
      CHECK(y == values[next + p]);
      CHECK(z == values[next + p]);
    }
    next += got[m].points();
  }
  CHECK(next == kPoints);
  CHECK(got.back().total_points() == kPoints);
  CHECK(got.back().next_index() == kPoints);
  // A page past the end: one message, no points, the totals.
  got = page(kPoints + 7);
  REQUIRE(got.size() == 1);
  CHECK(got[0].points() == 0);
  CHECK(got[0].first_index() == kPoints);
  CHECK(got[0].next_index() == kPoints);
  CHECK(got[0].last());
}

namespace {

float Half(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? std::ldexp(static_cast<float>(mant), -24)
                     : std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

}  // namespace

TEST_CASE(
    "model quantize: Q8_0 and int8 copies whose exported values match the reported "
    "error, the source kept",
    "[models][quantize]") {
  // Weights from a fixed generator: 64 rows x 96 columns.
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(64 * 96);
  for (float& x : w) x = normal(rng);
  std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  bad.resize(32, 0.5f);
  const std::string file =
      Safetensors({{"model.layers.0.mlp.up_proj.weight", "F32", {64, 96}, FloatBytes(w)},
                   {"ids", "I32", {4}, std::string(16, '\x02')}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  REQUIRE(Import(client, "fp32", file).status.ok());
  v1::QuantizeModelRequest request;
  request.set_model_name("fp32");
  request.set_type("q8_0");
  request.set_name("q8");
  v1::QuantizeModelResponse r;
  const grpc::Status status = client.QuantizeModel(request, &r);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(r.layers_size() == 2);
  // The writer puts "ids" first (equal widths go by name).
  const int wi = r.layers(0).layer_name() == "ids" ? 1 : 0;
  const uint32_t weight_idx = r.layers(wi).layer_idx();
  const v1::LayerQuantization l = r.layers(wi);
  CHECK(l.quantized());
  CHECK(l.dtype_after() == "Q8_0");
  CHECK(l.bytes_after() == 64 * 96 / 32 * 34);
  CHECK_FALSE(r.layers(1 - wi).quantized());
  CHECK(r.layers(1 - wi).skipped() == "dtype 'I32' has no float values");
  CHECK(r.bytes_shared() == 16);  // the I32 layer, shared
  CHECK(r.new_bytes_stored() == l.bytes_after());

  // The exported Q8_0 blocks, dequantized here, give the reported error.
  const std::string exported = Export(client, "q8");
  auto parsed = models::ScanSafetensors(exported, exported.size());
  REQUIRE(parsed.ok());
  const auto& tensors = parsed->scan.layout.tensors;
  const auto it = std::find_if(tensors.begin(), tensors.end(), [](const auto& t) {
    return t.name == "model.layers.0.mlp.up_proj.weight";
  });
  REQUIRE(it != tensors.end());
  CHECK(it->dtype == "U8");
  const std::string blocks = exported.substr(it->offset, it->length);
  REQUIRE(blocks.size() == 64 * 96 / 32 * 34);
  double signal = 0, noise = 0, max_error = 0;
  for (size_t b = 0; b < blocks.size() / 34; ++b) {
    uint16_t d16 = 0;
    std::memcpy(&d16, blocks.data() + b * 34, 2);
    const float d = Half(d16);
    for (size_t j = 0; j < 32; ++j) {
      const float q = static_cast<float>(static_cast<int8_t>(blocks[b * 34 + 2 + j]));
      const double x = w[b * 32 + j];
      const double e = x - static_cast<double>(q * d);
      signal += x * x;
      noise += e * e;
      max_error = std::max(max_error, std::fabs(e));
      // The group bound: |d| / 2 plus the fp16 rounding of the scale.
      CHECK(std::fabs(e) <= std::fabs(d) / 2 * 1.07 + 1e-9);
    }
  }
  const double snr = 10 * std::log10(signal / noise);
  CHECK(std::fabs(snr - l.snr_db()) < 0.5);
  CHECK(max_error == Approx(l.max_abs_error()).epsilon(1e-3));
  CHECK(l.snr_db() > 30);

  // int8 per row: I8 values and F32 row scales.
  request.set_type("int8");
  request.set_name("i8");
  REQUIRE(client.QuantizeModel(request, &r).ok());
  const std::string i8 = Export(client, "i8");
  parsed = models::ScanSafetensors(i8, i8.size());
  REQUIRE(parsed.ok());
  std::map<std::string, models::TensorInfo> by_name;
  for (const auto& t : parsed->scan.layout.tensors) by_name[t.name] = t;
  REQUIRE(by_name.count("model.layers.0.mlp.up_proj.weight.scale") == 1);
  CHECK(by_name["model.layers.0.mlp.up_proj.weight"].dtype == "I8");
  CHECK(by_name["model.layers.0.mlp.up_proj.weight.scale"].shape == std::vector<uint64_t>{64});

  // Refusals: a quantized layer again, a listed layer without float values,
  // nothing left to quantize; the source exports unchanged.
  v1::QuantizeModelRequest again;
  again.set_model_name("q8");
  again.set_type("q4_0");
  again.set_name("q4");
  again.add_layers(weight_idx);
  grpc::Status refused = client.QuantizeModel(again, &r);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(refused.error_message(), Catch::Contains("already quantized"));
  again.set_requantize(true);
  REQUIRE(client.QuantizeModel(again, &r).ok());
  CHECK(r.layers(wi).dtype_after() == "Q4_0");
  v1::QuantizeModelRequest ints;
  ints.set_model_name("fp32");
  ints.set_type("f16");
  ints.set_name("f16");
  ints.add_layers(1 - weight_idx);
  refused = client.QuantizeModel(ints, &r);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(refused.error_message(), Catch::Contains("I32"));
  ints.set_type("q5");
  refused = client.QuantizeModel(ints, &r);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(refused.error_message(), Catch::Contains("type"));
  CHECK(Export(client, "fp32") == file);

  // NaN weights are refused naming the layer, and nothing is stored.
  REQUIRE(Import(client, "nan", Safetensors({{"bad.weight", "F32", {1, 32}, FloatBytes(bad)}}))
              .status.ok());
  v1::QuantizeModelRequest nan;
  nan.set_model_name("nan");
  nan.set_type("q8_0");
  nan.set_name("nan-q8");
  refused = client.QuantizeModel(nan, &r);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(refused.error_message(), Catch::Contains("bad.weight"));
  REQUIRE(daemon.Stop() == 0);
  const Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
  CHECK(audit.models == 5);  // fp32, q8, i8, q4, nan
}
