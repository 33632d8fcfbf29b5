// ImportModel with start.quantize: the import and its quantized copy in one
// RPC, equal to an import followed by QuantizeModel, and all or nothing
// when the quantization fails. Real daemons, real LMDB.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "model_store_audit.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;
namespace models = hartonomous::engine::models;

namespace {

const char kLinearOnnx[] =
    "/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx";

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::vector<float> Normal(size_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> out(n);
  for (float& x : out) x = normal(rng);
  return out;
}

std::string MustSafetensors(const std::vector<models::SafetensorsTensorSpec>& specs,
                            const std::vector<std::string>& data) {
  const std::vector<std::string_view> views(data.begin(), data.end());
  auto file = models::WriteSafetensors(specs, views, {});
  REQUIRE(file.ok());
  return *file;
}

struct ImportResult {
  grpc::Status status;
  v1::ImportModelResponse response;
};

ImportResult Import(Client& client, const std::string& name, const std::string& file,
                    const v1::ImportQuantization* quantize = nullptr) {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  if (quantize != nullptr) *start.mutable_quantize() = *quantize;
  ImportResult out;
  grpc::ClientContext context;
  out.status = client.ImportModel(&context, start, file, &out.response, {}, 64 * 1024);
  return out;
}

std::string MustExport(Client& client, const std::string& name, const std::string& format) {
  v1::ExportModelRequest request;
  request.set_model_name(name);
  request.set_format(format);
  v1::ExportModelHeader header;
  std::string bytes;
  const grpc::Status status = client.ExportModel(request, &header, [&](std::string_view b) {
    bytes.append(b);
    return true;
  });
  INFO(name << " as '" << format << "': " << status.error_message());
  REQUIRE(status.ok());
  CHECK(header.file_size() == bytes.size());
  return bytes;
}

std::vector<v1::ModelLayer> Layers(Client& client, const std::string& name) {
  v1::ListLayersRequest request;
  request.set_model_name(name);
  std::vector<v1::ModelLayer> layers;
  const grpc::Status status = client.ListLayers(request, [&](const v1::ModelLayer& layer) {
    layers.push_back(layer);
    return true;
  });
  INFO(status.error_message());
  REQUIRE(status.ok());
  return layers;
}

// The layer as a comparable text: every field but ids and times.
std::string LayerText(v1::ModelLayer layer) {
  layer.clear_layer_id();
  layer.clear_model_id();
  layer.clear_created_at();
  return layer.ShortDebugString();
}

bool ModelExists(Client& client, const std::string& name) {
  v1::GetModelRequest request;
  request.set_model_name(name);
  v1::Model model;
  const grpc::Status status = client.GetModel(request, &model);
  CHECK((status.ok() || status.error_code() == grpc::StatusCode::NOT_FOUND));
  return status.ok();
}

struct Case {
  std::string label;
  std::string file;
  std::string type;
  std::vector<uint32_t> layers;
  bool saturate = false;
  std::vector<std::string> formats;  // export formats compared
};

}  // namespace

TEST_CASE(
    "model import with start.quantize equals an import followed by QuantizeModel: the same "
    "layers, error statistics, exported bytes and store",
    "[models][import][quantize]") {
  const std::vector<float> w = Normal(64 * 96, 11, 0.05f);
  std::vector<float> big = Normal(32 * 32, 12, 1.0f);
  big[5] = 1e6f;  // beyond fp16's range: saturated with saturate
  const std::string ids(16, '\x03');
  std::vector<Case> cases;
  cases.push_back({"safetensors q8_0, every layer",
                   MustSafetensors({{"model.layers.0.mlp.up_proj.weight", "F32", {64, 96}},
                                    {"model.norm.weight", "F32", {7}},
                                    {"ids", "I32", {4}}},
                                   {FloatBytes(w), FloatBytes(Normal(7, 13, 1.0f)), ids}),
                   "q8_0",
                   {},
                   false,
                   {"", "safetensors", "gguf"}});
  cases.push_back({"safetensors f16 with saturate",
                   MustSafetensors({{"blk.0.attn_q.weight", "F32", {32, 32}}}, {FloatBytes(big)}),
                   "f16",
                   {},
                   true,
                   {"", "safetensors", "gguf"}});
  // The ONNX Linear model's weight is its initializer named "1" (listed).
  cases.push_back(
      {"onnx int8, one listed layer", ReadFile(kLinearOnnx), "int8", {}, false, {"", "onnx"}});
  for (Case& c : cases) {
    INFO(c.label);
    TempDir one_dir, two_dir;
    v1::ImportModelResponse together;
    v1::QuantizeModelResponse after;
    {
      Daemon two({.data_dir = two_dir.path()});
      const ImportResult plain = Import(two.client(), "m", c.file);
      INFO(plain.status.error_message());
      REQUIRE(plain.status.ok());
      CHECK_FALSE(plain.response.has_quantized());
      if (c.type == "int8") {
        for (const auto& l : plain.response.layers()) {
          if (l.layer_name() == "1") c.layers.push_back(l.layer_idx());
        }
        REQUIRE(c.layers.size() == 1);
      }
      v1::QuantizeModelRequest request;
      request.set_model_name("m");
      request.set_name("m-q");
      request.set_type(c.type);
      for (uint32_t idx : c.layers) request.add_layers(idx);
      request.set_saturate(c.saturate);
      const grpc::Status status = two.client().QuantizeModel(request, &after);
      INFO(status.error_message());
      REQUIRE(status.ok());
    }
    Daemon one({.data_dir = one_dir.path()});
    Daemon two({.data_dir = two_dir.path()});
    v1::ImportQuantization quantize;
    quantize.set_name("m-q");
    quantize.set_type(c.type);
    for (uint32_t idx : c.layers) quantize.add_layers(idx);
    quantize.set_saturate(c.saturate);
    const ImportResult imported = Import(one.client(), "m", c.file, &quantize);
    INFO(imported.status.error_message());
    REQUIRE(imported.status.ok());
    together = imported.response;
    REQUIRE(together.has_quantized());
    const v1::QuantizeModelResponse& q = together.quantized();

    // The report: QuantizeModel's, field for field (the models' ids and
    // times aside).
    CHECK(q.model().model_name() == "m-q");
    CHECK(q.model().model_id() == after.model().model_id());
    CHECK(q.model().layer_count() == after.model().layer_count());
    CHECK(q.model().parameter_count() == after.model().parameter_count());
    CHECK(q.new_bytes_stored() == after.new_bytes_stored());
    CHECK(q.bytes_shared() == after.bytes_shared());
    REQUIRE(q.layers_size() == after.layers_size());
    int quantized = 0;
    for (int i = 0; i < q.layers_size(); ++i) {
      INFO(q.layers(i).ShortDebugString() << " vs " << after.layers(i).ShortDebugString());
      CHECK(q.layers(i).SerializeAsString() == after.layers(i).SerializeAsString());
      quantized += q.layers(i).quantized();
      if (q.layers(i).quantized() && !c.saturate) {
        CHECK(q.layers(i).snr_db() > 20);
        CHECK(q.layers(i).max_abs_error() >= 0);
      }
    }
    CHECK(quantized >= 1);
    if (c.saturate) CHECK(q.layers(0).saturated() == 1);

    // The stored layers of both models, and what they export.
    for (const std::string& name : {"m", "m-q"}) {
      INFO(name);
      const auto a = Layers(one.client(), name);
      const auto b = Layers(two.client(), name);
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i) CHECK(LayerText(a[i]) == LayerText(b[i]));
      for (const std::string& format : c.formats) {
        INFO("format '" << format << "'");
        CHECK(MustExport(one.client(), name, format) == MustExport(two.client(), name, format));
      }
    }
    CHECK(MustExport(one.client(), "m", "") == c.file);

    // The two stores hold the same rows, atoms and references.
    REQUIRE(one.Stop() == 0);
    REQUIRE(two.Stop() == 0);
    const ModelStoreAudit a = AuditModelStore(one_dir.path());
    const ModelStoreAudit b = AuditModelStore(two_dir.path());
    CHECK(a.mismatches.empty());
    CHECK(b.mismatches.empty());
    CHECK(a.models == 2);
    CHECK(a.models == b.models);
    CHECK(a.layers == b.layers);
    CHECK(a.tensor_rows == b.tensor_rows);
    CHECK(a.rows_by_kind == b.rows_by_kind);
    CHECK(a.tensor_atoms == b.tensor_atoms);
    CHECK(a.active_tensor_atoms == b.active_tensor_atoms);
    CHECK(a.staging_rows == 0);
    CHECK(a.unreferenced_atoms == 0);
  }
}

TEST_CASE(
    "model import with start.quantize: a quantization that fails fails the import naming the "
    "field and leaves nothing behind",
    "[models][import][quantize]") {
  const std::vector<float> shared = Normal(32 * 64, 21, 0.1f);
  std::vector<float> nan = Normal(32 * 32, 22, 0.1f);
  nan[40] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> big = Normal(32 * 32, 23, 0.1f);
  big[7] = 1e6f;
  const std::string base =
      MustSafetensors({{"blk.0.ffn_up.weight", "F32", {32, 64}}}, {FloatBytes(shared)});
  // Each bad file shares a tensor with the stored model: its references
  // must come back to what they were.
  const std::string with_nan =
      MustSafetensors({{"blk.0.ffn_up.weight", "F32", {32, 64}}, {"z.weight", "F32", {32, 32}}},
                      {FloatBytes(shared), FloatBytes(nan)});
  const std::string with_big =
      MustSafetensors({{"blk.0.ffn_up.weight", "F32", {32, 64}}, {"z.weight", "F32", {32, 32}}},
                      {FloatBytes(shared), FloatBytes(big)});
  const std::string odd =
      MustSafetensors({{"odd.weight", "F32", {4, 33}}}, {FloatBytes(Normal(4 * 33, 24, 0.1f))});

  TempDir dir;
  ModelStoreAudit before;
  {
    Daemon daemon({.data_dir = dir.path()});
    REQUIRE(Import(daemon.client(), "base", base).status.ok());
    REQUIRE(daemon.Stop() == 0);
    before = AuditModelStore(dir.path());
    REQUIRE(before.mismatches.empty());
    REQUIRE(before.models == 1);
  }

  struct Bad {
    std::string label;
    std::string file;
    v1::ImportQuantization quantize;
    grpc::StatusCode code;
    std::vector<std::string> contains;
  };
  auto quantization = [](const std::string& type, std::vector<uint32_t> layers = {},
                         const std::string& name = "") {
    v1::ImportQuantization q;
    q.set_type(type);
    q.set_name(name);
    for (uint32_t idx : layers) q.add_layers(idx);
    return q;
  };
  const std::vector<Bad> bads = {
      {"NaN weights",
       with_nan,
       quantization("q8_0"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize", "('z.weight')", "element 40 is NaN"}},
      {"beyond fp16 without saturate",
       with_big,
       quantization("f16"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize", "('z.weight')", "element 7", "saturate"}},
      {"a listed layer the file does not have",
       with_nan,
       quantization("q8_0", {7}),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.layers", "the file has no layer 7"}},
      {"a listed layer whose rows are not whole blocks",
       odd,
       quantization("q4_0", {0}),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.layers[0] ('odd.weight')", "not whole blocks of 32"}},
      {"no layer suits the type",
       odd,
       quantization("q8_0"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.type", "no layer of the file can be quantized to q8_0"}},
      {"an unknown type",
       base,
       quantization("int3"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.type", "int3"}},
      {"the copy named as the model",
       base,
       quantization("q8_0", {}, "m"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.name", "other than model.model_name"}},
      {"a copy name breaking the rule",
       base,
       quantization("q8_0", {}, "bad name!"),
       grpc::StatusCode::INVALID_ARGUMENT,
       {"start.quantize.name"}},
      {"a copy name that is taken",
       base,
       quantization("q8_0", {}, "base"),
       grpc::StatusCode::ALREADY_EXISTS,
       {"start.quantize.name", "'base' already exists"}},
  };
  {
    Daemon daemon({.data_dir = dir.path()});
    for (const Bad& bad : bads) {
      INFO(bad.label);
      const ImportResult r = Import(daemon.client(), "m", bad.file, &bad.quantize);
      INFO(r.status.error_message());
      CHECK(r.status.error_code() == bad.code);
      for (const std::string& part : bad.contains) {
        CHECK_THAT(r.status.error_message(), Catch::Contains(part));
      }
      CHECK_FALSE(ModelExists(daemon.client(), "m"));
      CHECK_FALSE(ModelExists(daemon.client(), "m-q8_0"));
      CHECK_FALSE(ModelExists(daemon.client(), "m-f16"));
    }
    REQUIRE(daemon.Stop() == 0);
  }
  const ModelStoreAudit after = AuditModelStore(dir.path());
  CHECK(after.mismatches.empty());
  CHECK(after.models == before.models);
  CHECK(after.layers == before.layers);
  CHECK(after.tensor_rows == before.tensor_rows);
  CHECK(after.tensor_atoms == before.tensor_atoms);
  CHECK(after.active_tensor_atoms == before.active_tensor_atoms);
  CHECK(after.unreferenced_atoms == 0);
  CHECK(after.staging_rows == 0);

  // The copy's name taken while the file streams (by another client, in
  // the progress callback, after the import's start was sent): the commit
  // fails naming start.quantize.name, the copy's staged values (and the
  // import's) are released.
  const std::string large = MustSafetensors({{"large.weight", "F32", {512, 1024}}},
                                            {FloatBytes(Normal(512 * 1024, 25, 0.1f))});
  {
    Daemon daemon({.data_dir = dir.path()});
    v1::ImportModelStart start;
    start.mutable_model()->set_model_name("late");
    *start.mutable_quantize() = quantization("q8_0", {}, "late-copy");
    v1::ImportModelResponse response;
    grpc::ClientContext context;
    bool created = false;
    const grpc::Status status = daemon.client().ImportModel(
        &context, start, large, &response,
        [&](uint64_t sent) {
          if (created || sent < large.size() / 2) return;
          v1::CreateModelRequest create;
          create.mutable_model()->set_model_name("late-copy");
          v1::Model model;
          created = daemon.client().CreateModel(create, &model).ok();
        },
        64 * 1024);
    REQUIRE(created);
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    CHECK_THAT(status.error_message(), Catch::Contains("start.quantize.name: a model named "
                                                       "'late-copy' already exists"));
    CHECK_FALSE(ModelExists(daemon.client(), "late"));
    v1::DeleteModelRequest del;
    del.set_model_name("late-copy");
    v1::DeleteModelResponse deleted;
    REQUIRE(daemon.client().DeleteModel(del, &deleted).ok());
    REQUIRE(daemon.Stop() == 0);
  }
  const ModelStoreAudit raced = AuditModelStore(dir.path());
  CHECK(raced.mismatches.empty());
  CHECK(raced.models == before.models);
  CHECK(raced.layers == before.layers);
  CHECK(raced.tensor_rows == before.tensor_rows);
  CHECK(raced.tensor_atoms == before.tensor_atoms);
  CHECK(raced.staging_rows == 0);

  // The same file with saturate: both models, the default copy name, the
  // clamped value counted.
  Daemon daemon({.data_dir = dir.path()});
  v1::ImportQuantization saturate = quantization("f16");
  saturate.set_saturate(true);
  const ImportResult ok = Import(daemon.client(), "m", with_big, &saturate);
  INFO(ok.status.error_message());
  REQUIRE(ok.status.ok());
  CHECK(ok.response.quantized().model().model_name() == "m-f16");
  REQUIRE(ok.response.quantized().layers_size() == 2);
  uint64_t saturated = 0;
  for (const auto& l : ok.response.quantized().layers()) {
    CHECK(l.quantized());
    saturated += l.saturated();
    if (l.layer_name() == "z.weight") CHECK(l.saturated() == 1);
  }
  CHECK(saturated == 1);
  CHECK(ModelExists(daemon.client(), "m"));
  CHECK(ModelExists(daemon.client(), "m-f16"));
}

TEST_CASE("cli: model import --quantize stores the model and its quantized copy",
          "[cli][models][quantize]") {
  TempDir dir;
  const std::string path = dir.path() + "/tiny.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    out << MustSafetensors({{"blk.0.ffn_up.weight", "F32", {8, 64}}},
                           {FloatBytes(Normal(8 * 64, 31, 0.1f))});
  }
  Daemon daemon;
  const nlohmann::json r =
      JsonOf(Cli(daemon, {"--json", "model", "import", path, "--quantize", "q4_0"}));
  CHECK(r["model"]["model_name"] == "tiny");
  CHECK(r["quantized"]["model"]["model_name"] == "tiny-q4_0");
  REQUIRE(r["quantized"]["layers"].size() == 1);
  CHECK(r["quantized"]["layers"][0]["quantized"] == true);
  CHECK(r["quantized"]["layers"][0]["dtype_after"] == "Q4_0");
  CHECK(r["quantized"]["layers"][0]["snr_db"].get<double>() > 10);

  const ProcessResult text = Cli(daemon, {"model", "import", path, "--name", "again", "--quantize",
                                          "q8_0", "--quantized-name", "again-8"});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("quantized copy, model") != std::string::npos);
  CHECK(text.out.find("'again-8'") != std::string::npos);

  const ProcessResult bad = Cli(daemon, {"model", "import", path, "--name", "third", "--quantize",
                                         "q8_0", "--quantize-layers", "3"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("INVALID_ARGUMENT: start.quantize.layers") != std::string::npos);
  const ProcessResult usage = Cli(daemon, {"model", "import", path, "--saturate"});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.find("--saturate: only with --quantize") != std::string::npos);
}
