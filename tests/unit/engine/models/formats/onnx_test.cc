#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "onnx.pb.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "tests/unit/engine/models/formats/format_test_util.h"
#include "tests/unit/temp_dir.h"

namespace hartonomous::engine::models {
namespace {

using testing::RequireInvalid;
using testing::RequireRoundTrip;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

using Row = std::tuple<std::string, std::string, std::vector<uint64_t>, int, std::string>;

std::vector<Row> RowsOf(const OnnxModel& m, std::string_view file) {
  std::vector<Row> rows;
  for (size_t i = 0; i < m.layout.tensors.size(); ++i) {
    const TensorInfo& t = m.layout.tensors[i];
    rows.emplace_back(t.name, OnnxTensorSourceName(m.details[i].source), t.shape,
                      m.details[i].data_type, Hex(OnnxTensorValues(m, i, file)));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST_CASE("onnx tensors equal what python3-onnx reads from libonnx-testdata and fixtures",
          "[onnx]") {
  hartonomous::testing::TempDir dir;
  const std::string cmd = std::string("/usr/bin/python3 ") + HARTONOMOUS_SOURCE_DIR +
                          "/tests/unit/engine/models/formats/onnx_expected.py " + dir.dir();
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto expected = nlohmann::json::parse(ReadFile(dir.dir() + "/expected.json"));
  REQUIRE(expected.size() > 150);  // the fixtures and libonnx-testdata's models
  size_t tensors = 0, in_file = 0, subgraph = 0;
  for (auto it = expected.begin(); it != expected.end(); ++it) {
    const std::string& path = it.key();
    INFO(path);
    const std::string file = ReadFile(path);
    OnnxOptions options;
    std::string weights;
    if (path.ends_with("/external.onnx")) {
      RequireInvalid(ParseOnnx(file).status(),
                     {"tensor \"ext.a\".external_data", "\"external.weights\" was not supplied"});
      weights = ReadFile(dir.dir() + "/external.weights");
      options.external_files.emplace("external.weights", weights);
    }
    auto m = ParseOnnx(file, options);
    REQUIRE(m.ok());
    RequireRoundTrip(m->layout, file);
    std::vector<Row> want;
    for (const auto& r : it.value()) {
      want.emplace_back(r["name"].get<std::string>(), r["source"].get<std::string>(),
                        r["dims"].get<std::vector<uint64_t>>(), r["data_type"].get<int>(),
                        r["hex"].get<std::string>());
    }
    std::sort(want.begin(), want.end());
    const std::vector<Row> got = RowsOf(*m, file);
    REQUIRE(got == want);
    tensors += got.size();
    for (size_t i = 0; i < m->layout.tensors.size(); ++i) {
      in_file += m->layout.tensors[i].in_file;
      subgraph += m->details[i].graph_depth > 0;
    }
  }
  // The comparison covered in-file (raw_data / packed) and decoded values
  // and subgraph initializers.
  REQUIRE(tensors > 300);
  REQUIRE(in_file > 50);
  REQUIRE(subgraph > 10);
}

onnx::ModelProto OneInitializer(const onnx::TensorProto& t) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  *m.mutable_graph()->add_initializer() = t;
  return m;
}

onnx::TensorProto FloatTensor(const std::string& name, std::vector<int64_t> dims, std::string raw) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(1);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(std::move(raw));
  return t;
}

TEST_CASE("onnx raw_data is a segment of the file at its exact offset", "[onnx]") {
  std::string raw(4 * 6, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7);
  const std::string file =
      OneInitializer(FloatTensor("encoder.layer.0.attention.q.weight", {2, 3}, raw))
          .SerializeAsString();
  auto m = ParseOnnx(file);
  REQUIRE(m.ok());
  RequireRoundTrip(m->layout, file);
  const TensorInfo& t = m->layout.tensors.at(0);
  REQUIRE(t.in_file);
  REQUIRE(file.substr(t.offset, t.length) == raw);
  REQUIRE(t.layer_type == LayerType::kAttention);
  REQUIRE(t.dtype == "FLOAT");
  REQUIRE(t.parameter_count == 6);
  // Protobuf framing, then raw_data (the last field of the message).
  REQUIRE(m->layout.segments.size() == 2);
  REQUIRE(m->layout.segments[0].kind == SegmentKind::kOther);
  REQUIRE(m->layout.segments[1].kind == SegmentKind::kTensor);
}

TEST_CASE("onnx packed float_data is in the file and varint fields are decoded", "[onnx]") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  onnx::TensorProto* f = m.mutable_graph()->add_initializer();
  f->set_name("f");
  f->set_data_type(1);
  f->add_dims(3);
  for (float v : {1.0f, -2.0f, 0.5f}) f->add_float_data(v);
  onnx::TensorProto* i = m.mutable_graph()->add_initializer();
  i->set_name("i");
  i->set_data_type(7);
  i->add_dims(2);
  i->add_int64_data(-1);
  i->add_int64_data(300);
  const std::string file = m.SerializeAsString();
  auto parsed = ParseOnnx(file);
  REQUIRE(parsed.ok());
  RequireRoundTrip(parsed->layout, file);
  const TensorInfo& tf = parsed->layout.tensors.at(0);
  const TensorInfo& ti = parsed->layout.tensors.at(1);
  REQUIRE(tf.in_file);
  const float want[3] = {1.0f, -2.0f, 0.5f};
  REQUIRE(file.substr(tf.offset, tf.length) ==
          std::string(reinterpret_cast<const char*>(want), 12));
  REQUIRE_FALSE(ti.in_file);
  const int64_t want_i[2] = {-1, 300};
  REQUIRE(OnnxTensorValues(*parsed, 1, file) ==
          std::string(reinterpret_cast<const char*>(want_i), 16));
}

TEST_CASE("onnx refuses each broken rule naming the tensor", "[onnx]") {
  RequireInvalid(ParseOnnx("\xff\xff\xff\xff").status(), {"model", "not protobuf"});
  RequireInvalid(ParseOnnx("").status(), {"model.graph", "missing"});
  RequireInvalid(
      ParseOnnx(OneInitializer(FloatTensor("w", {2, 3}, std::string(20, 'x'))).SerializeAsString())
          .status(),
      {"tensor \"w\".raw_data", "20 bytes", "needs 24"});
  RequireInvalid(ParseOnnx(OneInitializer(FloatTensor("w", {-1}, "")).SerializeAsString()).status(),
                 {"tensor \"w\".dims[0]", "negative"});
  RequireInvalid(
      ParseOnnx(OneInitializer(FloatTensor("w", {int64_t{1} << 40, int64_t{1} << 40}, ""))
                    .SerializeAsString())
          .status(),
      {"tensor \"w\".dims", "overflows"});
  {
    onnx::TensorProto t = FloatTensor("w", {1}, "abcd");
    t.set_data_type(99);
    RequireInvalid(ParseOnnx(OneInitializer(t).SerializeAsString()).status(),
                   {"tensor \"w\".data_type", "unknown data type 99"});
    t.set_data_type(8);
    RequireInvalid(ParseOnnx(OneInitializer(t).SerializeAsString()).status(),
                   {"tensor \"w\".data_type", "STRING"});
  }
  {
    onnx::TensorProto t;
    t.set_name("w");
    t.set_data_type(1);
    t.add_dims(3);
    t.add_float_data(1.0f);
    RequireInvalid(ParseOnnx(OneInitializer(t).SerializeAsString()).status(),
                   {"tensor \"w\".float_data", "1 values", "needs 3"});
  }
  {
    onnx::TensorProto t;
    t.set_name("w");
    t.set_data_type(1);
    t.add_dims(1);
    t.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto* kv = t.add_external_data();
    kv->set_key("location");
    kv->set_value("../../etc/passwd");
    const std::string file = OneInitializer(t).SerializeAsString();
    RequireInvalid(ParseOnnx(file).status(),
                   {"tensor \"w\".external_data", "\"../../etc/passwd\" was not supplied",
                    "never opened by path"});
    OnnxOptions o;
    o.external_files.emplace("../../etc/passwd", "ab");
    RequireInvalid(ParseOnnx(file, o).status(),
                   {"tensor \"w\".external_data", "2 bytes", "needs 4"});
    kv = t.add_external_data();
    kv->set_key("offset");
    kv->set_value("9");
    RequireInvalid(ParseOnnx(OneInitializer(t).SerializeAsString(), o).status(),
                   {"tensor \"w\".external_data", "past the end"});
  }
  {
    OnnxOptions o;
    o.max_file_bytes = 10;
    RequireInvalid(ParseOnnx(std::string(11, '\0'), o).status(), {"file", "over the limit of 10"});
  }
}

TEST_CASE("onnx external tensors deferred give their ranges and no values", "[onnx]") {
  onnx::ModelProto model;
  auto* graph = model.mutable_graph();
  const auto external = [&](const std::string& name, const char* offset, const char* length) {
    onnx::TensorProto* t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(1);
    t->add_dims(3);
    t->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto* kv = t->add_external_data();
    kv->set_key("location");
    kv->set_value("weights.bin");
    if (offset != nullptr) {
      kv = t->add_external_data();
      kv->set_key("offset");
      kv->set_value(offset);
    }
    if (length != nullptr) {
      kv = t->add_external_data();
      kv->set_key("length");
      kv->set_value(length);
    }
  };
  external("a", "16", "12");
  external("b", nullptr, nullptr);
  *graph->add_initializer() = FloatTensor("c", {1}, "abcd");
  const std::string file = model.SerializeAsString();
  OnnxOptions o;
  o.defer_external = true;
  auto m = ParseOnnx(file, o);
  INFO(m.status().ToString());
  REQUIRE(m.ok());
  REQUIRE(m->details.size() == 3);
  CHECK(m->details[0].external_location == "weights.bin");
  CHECK(m->details[0].external_offset == 16);
  CHECK(m->details[0].external_length == 12);
  CHECK(m->details[0].external_length_given);
  CHECK(m->details[0].decoded.empty());
  CHECK_FALSE(m->layout.tensors[0].in_file);
  CHECK(m->details[1].external_offset == 0);
  CHECK(m->details[1].external_length == 12);  // dims x type
  CHECK_FALSE(m->details[1].external_length_given);
  CHECK(m->details[2].external_location.empty());
  CHECK(m->layout.tensors[2].in_file);
  REQUIRE(ValidateLayout(m->layout).ok());
  // A length that is not dims x type is refused even deferred.
  external("d", "0", "8");
  RequireInvalid(ParseOnnx(model.SerializeAsString(), o).status(),
                 {"tensor \"d\".external_data", "8 bytes", "needs 12"});
  // Without defer_external, the file must be supplied.
  RequireInvalid(ParseOnnx(file).status(), {"tensor \"a\".external_data", "was not supplied"});
}

TEST_CASE("onnx subgraph nesting is bounded", "[onnx]") {
  // Twenty If nodes, each holding the next in its then_branch.
  onnx::GraphProto inner;
  *inner.add_initializer() = FloatTensor("deep.w", {1}, "abcd");
  for (int i = 0; i < 20; ++i) {
    onnx::GraphProto outer;
    auto* node = outer.add_node();
    node->set_op_type("If");
    auto* a = node->add_attribute();
    a->set_name("then_branch");
    a->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    *a->mutable_g() = inner;
    inner = outer;
  }
  onnx::ModelProto m;
  *m.mutable_graph() = inner;
  const std::string file = m.SerializeAsString();
  RequireInvalid(ParseOnnx(file).status(), {"graph", "nested deeper than 16"});
  OnnxOptions o;
  o.max_graph_depth = 20;
  auto ok = ParseOnnx(file, o);
  REQUIRE(ok.ok());
  REQUIRE(ok->layout.tensors.size() == 1);
  REQUIRE(ok->details[0].graph_depth == 20);
  RequireRoundTrip(ok->layout, file);
}

}  // namespace
}  // namespace hartonomous::engine::models
