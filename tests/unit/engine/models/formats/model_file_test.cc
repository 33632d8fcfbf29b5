#include "server/engine/models/formats/model_file.h"

#include <catch2/catch.hpp>

#include "onnx.pb.h"
#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_writer.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "tests/unit/engine/models/formats/format_test_util.h"

namespace hartonomous::engine::models {
namespace {

using testing::RequireInvalid;
using testing::RequireRoundTrip;

// Streams file through ScanModelFile as an importer would: a growing
// prefix until the header is complete, then the size.
ModelLayout StreamScan(ModelFormat format, const std::string& file, bool size_known) {
  uint64_t have = kModelDetectBytes;
  for (int i = 0; i < 40; ++i) {
    const std::optional<uint64_t> size =
        size_known ? std::optional<uint64_t>(file.size()) : std::nullopt;
    auto s = ScanModelFile(
        format, std::string_view(file).substr(0, std::min<uint64_t>(have, file.size())), size);
    REQUIRE(s.ok());
    if (s->complete()) {
      ModelLayout layout = s->layout;
      if (!size_known) REQUIRE(FinishLayout(&layout, file.size()).ok());
      return layout;
    }
    have = s->need_bytes;
  }
  FAIL("the scan did not complete");
  return {};
}

TEST_CASE("model files are detected and scanned through one entry point", "[model_file]") {
  auto st = WriteSafetensors({{"model.norm.weight", "F32", {4}}}, {std::string(16, 'a')}, {});
  auto gg = WriteGguf({}, {{"output.weight", kGgmlF16, {8}}}, {std::string(16, 'b')});
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(1);
  t->add_dims(2);
  t->set_raw_data(std::string(8, 'c'));
  const std::string ox = m.SerializeAsString();
  REQUIRE(st.ok());
  REQUIRE(gg.ok());
  REQUIRE(DetectModelFormat(*st) == ModelFormat::kSafetensors);
  REQUIRE(DetectModelFormat(*gg) == ModelFormat::kGguf);
  REQUIRE(DetectModelFormat(ox) == ModelFormat::kOnnx);
  REQUIRE(DetectModelFormat("\x01\x02", "model.onnx") == ModelFormat::kOnnx);
  REQUIRE(DetectModelFormat("\x01\x02", "x.safetensors") == ModelFormat::kSafetensors);
  REQUIRE_FALSE(DetectModelFormat("hello", "notes.txt"));
  REQUIRE(ParseModelFormatName("gguf") == ModelFormat::kGguf);
  REQUIRE_FALSE(ParseModelFormatName("pt"));

  for (bool size_known : {true, false}) {
    const ModelLayout a = StreamScan(ModelFormat::kSafetensors, *st, size_known);
    RequireRoundTrip(a, *st);
    REQUIRE(a.tensors[0].layer_type == LayerType::kNorm);
    const ModelLayout b = StreamScan(ModelFormat::kGguf, *gg, size_known);
    RequireRoundTrip(b, *gg);
  }
  const ModelLayout c = StreamScan(ModelFormat::kOnnx, ox, true);
  RequireRoundTrip(c, ox);
  REQUIRE(c.tensors[0].in_file);
  RequireInvalid(ScanModelFile(ModelFormat::kOnnx, ox, std::nullopt).status(),
                 {"file size", "must be known"});
  ModelScanOptions small;
  small.onnx.max_file_bytes = 4;
  RequireInvalid(ScanModelFile(ModelFormat::kOnnx, "", ox.size(), small).status(),
                 {"file", "over the ONNX limit of 4"});
}

}  // namespace
}  // namespace hartonomous::engine::models
