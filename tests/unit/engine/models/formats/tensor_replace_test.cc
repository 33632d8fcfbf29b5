#include "server/engine/models/formats/tensor_replace.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "onnx.pb.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "server/engine/models/formats/quantize.h"
#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "tests/unit/engine/models/formats/format_test_util.h"

namespace hartonomous::engine::models {
namespace {

using testing::RequireInvalid;

std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

TEST_CASE("an ONNX model exports with int8-dequantized initializers in place", "[replace]") {
  std::mt19937_64 rng(8);
  std::normal_distribution<float> dist(0.0f, 0.2f);
  std::vector<float> w(16 * 32);
  for (float& v : w) v = dist(rng);
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* g = m.mutable_graph();
  auto* node = g->add_node();
  node->set_op_type("MatMul");
  node->add_input("x");
  node->add_input("fc.weight");
  node->add_output("y");
  onnx::TensorProto* t = g->add_initializer();
  t->set_name("fc.weight");
  t->set_data_type(1);
  t->add_dims(16);
  t->add_dims(32);
  t->set_raw_data(FloatBytes(w));
  onnx::TensorProto* b = g->add_initializer();
  b->set_name("fc.bias");
  b->set_data_type(7);
  b->add_dims(2);
  b->add_int64_data(5);
  b->add_int64_data(6);
  const std::string file = m.SerializeAsString();
  auto parsed = ParseOnnx(file);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->layout.tensors[0].name == "fc.weight");

  auto q = Quantize("fc.weight", w, 16, 32, QuantType::kInt8PerChannel);
  REQUIRE(q.ok());
  const std::string dequantized = FloatBytes(Dequantize(*q));
  REQUIRE(dequantized != FloatBytes(w));
  auto out = ReplaceTensorData(parsed->layout, file, {{0, dequantized}});
  REQUIRE(out.ok());
  REQUIRE(out->size() == file.size());
  // Still a valid model, with the new weights and everything else as it was.
  onnx::ModelProto back;
  REQUIRE(back.ParseFromString(*out));
  REQUIRE(back.graph().initializer(0).raw_data() == dequantized);
  REQUIRE(back.graph().initializer(1).int64_data(1) == 6);
  REQUIRE(back.graph().node(0).op_type() == "MatMul");

  RequireInvalid(ReplaceTensorData(parsed->layout, file, {{1, "0123456789abcdef"}}).status(),
                 {"tensor \"fc.bias\"", "not one range of the file"});
  RequireInvalid(ReplaceTensorData(parsed->layout, file, {{0, "abc"}}).status(),
                 {"tensor \"fc.weight\"", "3 new bytes"});
  RequireInvalid(
      ReplaceTensorData(parsed->layout, file, {{0, dequantized}, {0, dequantized}}).status(),
      {"tensor \"fc.weight\"", "replaced twice"});
  RequireInvalid(ReplaceTensorData(parsed->layout, file, {{7, "x"}}).status(), {"tensor index 7"});
}

TEST_CASE("a safetensors file exports with replaced tensor bytes", "[replace]") {
  auto file =
      WriteSafetensors({{"a", "F16", {2}}, {"b", "U8", {3}}}, {"abcd", "xyz"}, {{"k", "v"}});
  REQUIRE(file.ok());
  auto h = ScanSafetensors(*file, file->size());
  REQUIRE(h.ok());
  size_t b = h->scan.layout.tensors[0].name == "b" ? 0 : 1;
  auto out = ReplaceTensorData(h->scan.layout, *file, {{b, "XYZ"}});
  REQUIRE(out.ok());
  auto h2 = ScanSafetensors(*out, out->size());
  REQUIRE(h2.ok());
  const TensorInfo& t = h2->scan.layout.tensors[b];
  REQUIRE(out->substr(t.offset, t.length) == "XYZ");
  REQUIRE(h2->metadata == h->metadata);
}

}  // namespace
}  // namespace hartonomous::engine::models
