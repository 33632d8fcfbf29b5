// ExportModel's formats against the real hartonomousd: a quantized copy of
// an ONNX model exported as its source's ONNX file with the quantized
// initializers dequantized in place (checked independently with Python's
// onnx package and the project's ONNX reader), Q8_0 / Q4_0 copies as GGUF
// files (read back with the project's GGUF reader and dequantized here),
// a quantized copy of a safetensors model as its source's file, and the
// refusals: an unknown format, a layer GGUF cannot hold, onnx without an
// ONNX file. The copied file record's references are checked in LMDB.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "model_store_audit.h"
#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_reader.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/tensor_atom_table.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;
namespace models = hartonomous::engine::models;

namespace {

const char kLinearOnnx[] =
    "/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx";

v1::ImportModelResponse Import(Client& client, const std::string& name, const std::string& file) {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  v1::ImportModelResponse response;
  grpc::ClientContext context;
  const grpc::Status status = client.ImportModel(&context, start, file, &response, {}, 64 * 1024);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

struct Exported {
  grpc::Status status;
  v1::ExportModelHeader header;
  std::string bytes;
};

Exported Export(Client& client, const std::string& name, const std::string& format) {
  v1::ExportModelRequest request;
  request.set_model_name(name);
  request.set_format(format);
  Exported out;
  out.status = client.ExportModel(request, &out.header, [&](std::string_view b) {
    out.bytes.append(b);
    return true;
  });
  return out;
}

std::string MustExport(Client& client, const std::string& name, const std::string& format,
                       v1::ExportModelHeader* header = nullptr) {
  Exported e = Export(client, name, format);
  INFO(name << " as '" << format << "': " << e.status.error_message());
  REQUIRE(e.status.ok());
  CHECK(e.header.file_size() == e.bytes.size());
  if (header != nullptr) *header = e.header;
  return e.bytes;
}

v1::QuantizeModelResponse Quantize(Client& client, const std::string& source,
                                   const std::string& type, const std::string& name,
                                   const std::vector<uint32_t>& layers = {}) {
  v1::QuantizeModelRequest request;
  request.set_model_name(source);
  request.set_type(type);
  request.set_name(name);
  for (uint32_t idx : layers) request.add_layers(idx);
  v1::QuantizeModelResponse response;
  const grpc::Status status = client.QuantizeModel(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::vector<float> Floats(std::string_view bytes) {
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

float Half(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp == 0 ? std::ldexp(static_cast<float>(mant), -24)
                     : std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

// Q8_0 / Q4_0 blocks dequantized as ggml's dequantize_row_q8_0 / _q4_0.
std::vector<float> DequantizeBlocks(std::string_view blocks, bool q4) {
  const size_t size = q4 ? 18 : 34;
  std::vector<float> out;
  for (size_t b = 0; b + size <= blocks.size(); b += size) {
    uint16_t d16 = 0;
    std::memcpy(&d16, blocks.data() + b, 2);
    const float d = Half(d16);
    std::vector<float> v(32);
    for (size_t j = 0; j < (q4 ? 16u : 32u); ++j) {
      const auto byte = static_cast<uint8_t>(blocks[b + 2 + j]);
      if (q4) {
        v[j] = static_cast<float>((byte & 0x0f) - 8) * d;
        v[j + 16] = static_cast<float>((byte >> 4) - 8) * d;
      } else {
        v[j] = static_cast<float>(static_cast<int8_t>(byte)) * d;
      }
    }
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

double SnrDb(const std::vector<float>& x, const std::vector<float>& y) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    signal += static_cast<double>(x[i]) * x[i];
    noise += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
  }
  return 10 * std::log10(signal / noise);
}

// Every "tensor" atom's references against the rows holding one; *active
// the active tensor atoms.
std::vector<std::string> AuditReferences(const std::string& dir, uint64_t* active) {
  const ModelStoreAudit audit = AuditModelStore(dir);
  *active = audit.active_tensor_atoms;
  return audit.mismatches;
}

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Checks with Python's onnx package, independently of the server's code:
// the graph (nodes, inputs, outputs, opsets, every initializer's name, type
// and dims) unchanged; initializers other than `replaced` byte-identical;
// `replaced` equal to the floats in expected.bin, and within half a row
// scale (scales.bin, per row) of the original.
const char kOnnxCheck[] = R"PY(
import sys
import numpy as np
import onnx
from onnx import numpy_helper
original, exported, replaced, expected, scales = sys.argv[1:6]
a, b = onnx.load(original), onnx.load(exported)
onnx.checker.check_model(b)
def graph_only(m):
    g = onnx.GraphProto()
    g.CopyFrom(m.graph)
    for t in g.initializer:
        t.ClearField("raw_data")
        t.ClearField("float_data")
    return g.SerializeToString(deterministic=True)
assert graph_only(a) == graph_only(b), "graph changed"
assert list(a.opset_import) == list(b.opset_import), "opsets changed"
ia = {t.name: t for t in a.graph.initializer}
ib = {t.name: t for t in b.graph.initializer}
assert ia.keys() == ib.keys()
for name in ia:
    if name == replaced:
        continue
    assert ia[name].SerializeToString() == ib[name].SerializeToString(), name + " changed"
want = np.fromfile(expected, dtype=np.float32)
got = numpy_helper.to_array(ib[replaced])
orig = numpy_helper.to_array(ia[replaced])
assert got.dtype == np.float32 and got.shape == orig.shape
assert np.array_equal(got.reshape(-1), want), "dequantized values differ"
s = np.fromfile(scales, dtype=np.float32)
rows = got.reshape(len(s), -1)
err = np.abs(rows - orig.reshape(len(s), -1))
# half a scale, plus the float rounding of x / scale (2^-20 max |x|)
assert (err <= s[:, None] / 2 * (1 + 3e-4)).all(), "beyond half a scale"
assert (err > 0).any(), "nothing was quantized"
print("ok", got.size, float(err.max()))
)PY";

}  // namespace

TEST_CASE(
    "model export: an int8 copy of an ONNX model exports as the ONNX file with its quantized "
    "initializer dequantized, the graph and other initializers unchanged",
    "[models][export][onnx]") {
  const std::string original = ReadFile(kLinearOnnx);
  REQUIRE(!original.empty());
  TempDir dir;
  TempDir work;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  const v1::ImportModelResponse imported = Import(client, "linear", original);
  // pytorch's Linear: weight "1" (8 x 10 FLOAT), bias "2" (8 FLOAT).
  uint32_t weight_idx = UINT32_MAX;
  for (const auto& l : imported.layers()) {
    if (l.layer_name() == "1") weight_idx = l.layer_idx();
  }
  REQUIRE(weight_idx != UINT32_MAX);
  const v1::QuantizeModelResponse q = Quantize(client, "linear", "int8", "linear-i8", {weight_idx});

  // The int8 values and row scales, from the copy's own (built) export.
  const std::string built = MustExport(client, "linear-i8", "");
  auto scan = models::ScanSafetensors(built, built.size());
  REQUIRE(scan.ok());
  std::map<std::string, models::TensorInfo> by_name;
  for (const auto& t : scan->scan.layout.tensors) by_name[t.name] = t;
  REQUIRE(by_name.count("1") == 1);
  REQUIRE(by_name.count("1.scale") == 1);
  const std::string i8 = built.substr(by_name["1"].offset, by_name["1"].length);
  const std::vector<float> scales =
      Floats(std::string_view(built).substr(by_name["1.scale"].offset, by_name["1.scale"].length));
  REQUIRE(i8.size() == 80);
  REQUIRE(scales.size() == 8);
  std::vector<float> expected(80);
  for (size_t i = 0; i < 80; ++i) {
    expected[i] = static_cast<float>(static_cast<int8_t>(i8[i])) * scales[i / 10];
  }

  v1::ExportModelHeader header;
  const std::string onnx = MustExport(client, "linear-i8", "onnx", &header);
  CHECK(header.format() == "onnx");
  CHECK(header.file_sha256().empty());  // another file than the source's
  REQUIRE(onnx.size() == original.size());
  CHECK(onnx != original);

  // The project's reader: same layout, only the weight's bytes differ.
  auto a = models::ParseOnnx(original);
  auto b = models::ParseOnnx(onnx);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->layout.tensors.size() == b->layout.tensors.size());
  for (size_t t = 0; t < a->layout.tensors.size(); ++t) {
    const auto& ta = a->layout.tensors[t];
    const auto& tb = b->layout.tensors[t];
    CHECK(ta.name == tb.name);
    CHECK(ta.offset == tb.offset);
    CHECK(ta.length == tb.length);
    if (ta.name == "1") {
      CHECK(Floats(std::string_view(onnx).substr(tb.offset, tb.length)) == expected);
    }
  }
  const auto& w = *std::find_if(a->layout.tensors.begin(), a->layout.tensors.end(),
                                [](const auto& t) { return t.name == "1"; });
  CHECK(onnx.substr(0, w.offset) == original.substr(0, w.offset));
  CHECK(onnx.substr(w.offset + w.length) == original.substr(w.offset + w.length));

  // Python's onnx package, independently.
  const std::string p = work.path() + "/";
  WriteFile(p + "original.onnx", original);
  WriteFile(p + "exported.onnx", onnx);
  WriteFile(p + "expected.bin", FloatBytes(expected));
  WriteFile(p + "scales.bin", FloatBytes(scales));
  WriteFile(p + "check.py", kOnnxCheck);
  const ProcessResult py =
      RunProcess({"/usr/bin/python3", p + "check.py", p + "original.onnx", p + "exported.onnx", "1",
                  p + "expected.bin", p + "scales.bin"});
  INFO(py.out << py.err);
  CHECK(py.exit_code == 0);
  CHECK(py.out.rfind("ok 80 ", 0) == 0);

  // The reported error agrees with the exported values.
  const auto original_w = Floats(std::string_view(original).substr(w.offset, w.length));
  for (const auto& l : q.layers()) {
    if (l.layer_idx() != weight_idx) continue;
    CHECK(l.quantized());
    CHECK(std::fabs(SnrDb(original_w, expected) - l.snr_db()) < 0.01);
  }

  // The source's own export is still its file; the copy's file outlives
  // the source (it holds its own references), and deleting both leaves no
  // tensor atom referenced.
  v1::ExportModelHeader source_header;
  CHECK(MustExport(client, "linear", "onnx", &source_header) == original);
  CHECK(source_header.file_sha256() == Sha256Hex(original));
  v1::DeleteModelRequest del;
  del.set_model_name("linear");
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  CHECK(MustExport(client, "linear-i8", "onnx") == onnx);
  REQUIRE(daemon.Stop() == 0);
  uint64_t active = 0;
  CHECK(AuditReferences(dir.path(), &active).empty());
  CHECK(active > 0);
  {
    Daemon again({.data_dir = dir.path()});
    del.set_model_name("linear-i8");
    REQUIRE(again.client().DeleteModel(del, &deleted).ok());
    REQUIRE(again.Stop() == 0);
  }
  CHECK(AuditReferences(dir.path(), &active).empty());
  CHECK(active == 0);
}

TEST_CASE(
    "model export: Q8_0 and Q4_0 copies as GGUF v3 files, read back and dequantized, and as "
    "their source's safetensors file dequantized",
    "[models][export][gguf]") {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(64 * 96);
  for (float& x : w) x = normal(rng);
  std::vector<models::SafetensorsTensorSpec> specs = {{"blk.0.ffn_up.weight", "F32", {64, 96}},
                                                      {"ids", "I32", {4}}};
  const std::string ids(16, '\x03');
  const std::string w_bytes = FloatBytes(w);
  auto file = models::WriteSafetensors(specs, {w_bytes, ids}, {});
  REQUIRE(file.ok());
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  Import(client, "fp32", *file);

  for (const bool q4 : {false, true}) {
    const std::string name = q4 ? "q4" : "q8";
    INFO(name);
    const v1::QuantizeModelResponse q = Quantize(client, "fp32", q4 ? "q4_0" : "q8_0", name);
    const v1::LayerQuantization* lq = nullptr;
    for (const auto& l : q.layers()) {
      if (l.layer_name() == "blk.0.ffn_up.weight") lq = &l;
    }
    REQUIRE(lq != nullptr);
    REQUIRE(lq->quantized());

    // The blocks as the safetensors export (as stored) gives them.
    const std::string built = MustExport(client, name, "");
    auto st = models::ScanSafetensors(built, built.size());
    REQUIRE(st.ok());
    std::string blocks;
    for (const auto& t : st->scan.layout.tensors) {
      if (t.name == "blk.0.ffn_up.weight") blocks = built.substr(t.offset, t.length);
    }
    REQUIRE(blocks.size() == 64 * 96 / 32 * (q4 ? 18 : 34));

    v1::ExportModelHeader header;
    const std::string gguf = MustExport(client, name, "gguf", &header);
    CHECK(header.format() == "gguf");
    CHECK(header.file_name() == name + ".gguf");
    auto parsed = models::ScanGguf(gguf, gguf.size());
    INFO(parsed.status().message());
    REQUIRE(parsed.ok());
    REQUIRE(parsed->scan.complete());
    CHECK(parsed->version == 3);
    const auto& tensors = parsed->scan.layout.tensors;
    REQUIRE(tensors.size() == 2);
    std::map<std::string, size_t> at;
    for (size_t i = 0; i < tensors.size(); ++i) at[tensors[i].name] = i;
    REQUIRE(at.count("blk.0.ffn_up.weight") == 1);
    REQUIRE(at.count("ids") == 1);
    const auto& tw = tensors[at["blk.0.ffn_up.weight"]];
    CHECK(parsed->ggml_types[at["blk.0.ffn_up.weight"]] ==
          (q4 ? models::kGgmlQ4_0 : models::kGgmlQ8_0));
    CHECK(tw.shape == std::vector<uint64_t>{96, 64});  // innermost first
    const std::string gguf_blocks = gguf.substr(tw.offset, tw.length);
    CHECK(gguf_blocks == blocks);
    const auto& ti = tensors[at["ids"]];
    CHECK(models::FindGgmlType(parsed->ggml_types[at["ids"]])->name == "I32");
    CHECK(gguf.substr(ti.offset, ti.length) == ids);
    bool named = false;
    for (const auto& kv : parsed->metadata) {
      if (kv.key == "general.name") {
        named = true;
        CHECK(kv.value.bytes == name);
      }
    }
    CHECK(named);

    // Dequantized here: the reported SNR, each error within the bound.
    const std::vector<float> y = DequantizeBlocks(gguf_blocks, q4);
    REQUIRE(y.size() == w.size());
    CHECK(std::fabs(SnrDb(w, y) - lq->snr_db()) < 0.01);
    double max_error = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      max_error = std::max(max_error, std::fabs(static_cast<double>(w[i]) - y[i]));
    }
    CHECK(max_error == Approx(lq->max_abs_error()).epsilon(1e-4));

    // As its source's safetensors file: the header and ids unchanged, the
    // weights the dequantized values.
    v1::ExportModelHeader st_header;
    const std::string back = MustExport(client, name, "safetensors", &st_header);
    CHECK(st_header.file_sha256().empty());
    REQUIRE(back.size() == file->size());
    auto orig = models::ScanSafetensors(*file, file->size());
    REQUIRE(orig.ok());
    for (const auto& t : orig->scan.layout.tensors) {
      if (t.name == "ids") CHECK(back.substr(t.offset, t.length) == ids);
      if (t.name == "blk.0.ffn_up.weight") {
        CHECK(back.substr(0, t.offset) == file->substr(0, t.offset));
        CHECK(Floats(std::string_view(back).substr(t.offset, t.length)) == y);
      }
    }
  }
  // The unquantized source as GGUF: its F32 bytes as they are.
  const std::string fp32 = MustExport(client, "fp32", "gguf");
  auto parsed = models::ScanGguf(fp32, fp32.size());
  REQUIRE(parsed.ok());
  for (size_t i = 0; i < parsed->scan.layout.tensors.size(); ++i) {
    const auto& t = parsed->scan.layout.tensors[i];
    if (t.name != "blk.0.ffn_up.weight") continue;
    CHECK(parsed->ggml_types[i] == models::kGgmlF32);
    CHECK(fp32.substr(t.offset, t.length) == w_bytes);
  }
}

TEST_CASE(
    "model export: an unknown format, a layer GGUF cannot hold and onnx without an ONNX file "
    "are refused naming the field or the layer",
    "[models][export]") {
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  const v1::ImportModelResponse imported = Import(client, "linear", ReadFile(kLinearOnnx));
  uint32_t weight_idx = UINT32_MAX;
  for (const auto& l : imported.layers()) {
    if (l.layer_name() == "1") weight_idx = l.layer_idx();
  }
  REQUIRE(weight_idx != UINT32_MAX);
  Quantize(client, "linear", "int8", "linear-i8", {weight_idx});
  std::vector<models::SafetensorsTensorSpec> specs = {{"mask", "BOOL", {4}}};
  auto file = models::WriteSafetensors(specs, {std::string(4, '\x01')}, {});
  REQUIRE(file.ok());
  Import(client, "mask", *file);

  Exported e = Export(client, "linear", "tflite");
  CHECK(e.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(e.status.error_message(), Catch::Contains("format") && Catch::Contains("tflite"));
  CHECK(e.bytes.empty());

  // int8 per row has no ggml type; BOOL neither.
  e = Export(client, "linear-i8", "gguf");
  CHECK(e.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(e.status.error_message(), Catch::Contains("('1')") && Catch::Contains("int8"));
  e = Export(client, "mask", "gguf");
  CHECK(e.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(e.status.error_message(), Catch::Contains("('mask')") && Catch::Contains("BOOL"));

  // onnx needs an ONNX file: a safetensors import has none.
  e = Export(client, "mask", "onnx");
  CHECK(e.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(e.status.error_message(), Catch::Contains("no ONNX file"));
  // ... which the ONNX import and its copy have.
  CHECK(MustExport(client, "linear", "onnx").size() == ReadFile(kLinearOnnx).size());
  CHECK(MustExport(client, "linear-i8", "onnx").size() == ReadFile(kLinearOnnx).size());
  // The ONNX model as safetensors and GGUF: built from its layers.
  CHECK(MustExport(client, "linear", "safetensors").size() > 0);
  CHECK(MustExport(client, "linear", "gguf").size() > 0);
}
