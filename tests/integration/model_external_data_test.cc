// ONNX models whose initializers keep their values in external data files,
// through ImportModel / ExportModel against the real hartonomousd: the
// files streamed by the client in the same import (the server opens no
// path), every layer's values equal to what python3-onnx reads, the atoms
// shared with the same weights embedded in raw_data or in a safetensors
// file, every file exported byte for byte, a quantized copy exported with
// its values in the external file, each stream rule refused naming its
// field with nothing stored, a cancelled stream storing nothing, and the
// CLI's `model import` / `model export` with the files beside the model.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "model_store_audit.h"
#include "server/engine/models/formats/model_file.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "test_util.h"
#include "wait_idle.h"

using namespace hartonomous;
using namespace hartonomous::testing;
namespace models = hartonomous::engine::models;

namespace {

constexpr const char* kRealModel =
    "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv3d/model.onnx";

// mode "real" SRC OUT: OUT/model.onnx + OUT/weights.bin (SRC converted
// with onnx.save_model(..., save_as_external_data=True)) and
// OUT/overlap.onnx (the second tensor's range moved onto the first's).
// mode "gaps" - OUT: a synthetic model: OUT/embedded.onnx (raw_data) and
// OUT/gaps.onnx whose "w" is in OUT/sub/w.bin after a 100-byte lead and
// before 37 trailing bytes, and whose "b" and "s" are in OUT/rest.bin with
// a 13-byte gap between them; OUT/w.f32 holds w's values.
// Both write OUT/values.txt: "name hex" per initializer as python3-onnx
// reads the external-data model (load_external_data, numpy_helper).
const char* const kPython = R"PY(
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, external_data_helper, TensorProto

mode, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "real":
    m = onnx.load(src)
    path = os.path.join(out, "model.onnx")
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    o = onnx.load(path, load_external_data=False)
    first = o.graph.initializer[0]
    second = o.graph.initializer[1]
    for e in second.external_data:
        if e.key == "offset":
            e.value = "0"
    with open(os.path.join(out, "overlap.onnx"), "wb") as f:
        f.write(o.SerializeToString())
else:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((200, 200)).astype(np.float32)
    b = rng.standard_normal((200,)).astype(np.float32)
    s = np.arange(5, dtype=np.int64)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
             numpy_helper.from_array(s, "s")]
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y0"]), helper.make_node("Add", ["y0", "b"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 200])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 200])], inits)
    m = helper.make_model(g)
    onnx.save_model(m, os.path.join(out, "embedded.onnx"))
    with open(os.path.join(out, "w.f32"), "wb") as f:
        f.write(w.tobytes())
    os.makedirs(os.path.join(out, "sub"), exist_ok=True)
    with open(os.path.join(out, "sub", "w.bin"), "wb") as f:
        f.write(b"L" * 100 + w.tobytes() + b"T" * 37)
    with open(os.path.join(out, "rest.bin"), "wb") as f:
        f.write(b.tobytes() + b"G" * 13 + s.tobytes())
    ranges = {"w": ("sub/w.bin", 100, w.nbytes), "b": ("rest.bin", 0, b.nbytes),
              "s": ("rest.bin", b.nbytes + 13, s.nbytes)}
    for t in m.graph.initializer:
        location, offset, length = ranges[t.name]
        external_data_helper.set_external_data(t, location, offset, length)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
    path = os.path.join(out, "gaps.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())

loaded = onnx.load(path)  # reads the external files, independently of the server
with open(os.path.join(out, "values.txt"), "w") as f:
    for t in loaded.graph.initializer:
        f.write(t.name + " " + numpy_helper.to_array(t).tobytes().hex() + "\n")
print("ok", len(loaded.graph.initializer))
)PY";

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Runs kPython in dir; returns the values it read, by tensor name.
std::map<std::string, std::string> Convert(const std::string& dir, const std::string& mode,
                                           const std::string& src = "-") {
  WriteFile(dir + "/convert.py", kPython);
  const ProcessResult py = RunProcess({"/usr/bin/python3", dir + "/convert.py", mode, src, dir});
  INFO(py.out << py.err);
  REQUIRE(py.exit_code == 0);
  std::map<std::string, std::string> values;
  std::istringstream lines(Slurp(dir + "/values.txt"));
  std::string name, hex;
  while (lines >> name >> hex) {
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    values[name] = bytes;
  }
  REQUIRE(!values.empty());
  return values;
}

struct Imported {
  grpc::Status status;
  v1::ImportModelResponse response;
};

Imported Import(Client& client, const std::string& name, const std::string& file,
                const std::vector<Client::ImportExternal>& externals = {}, uint32_t chunk_bytes = 0,
                size_t message_bytes = 64 * 1024) {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  start.set_chunk_bytes(chunk_bytes);
  start.set_file_name("m.onnx");
  Imported out;
  grpc::ClientContext context;
  out.status =
      client.ImportModel(&context, start, file, externals, &out.response, {}, message_bytes);
  return out;
}

// The returned file refers to bytes (a named string or a literal), which
// must outlive it.
Client::ImportExternal External(const std::string& location, std::string_view bytes) {
  Client::ImportExternal e;
  e.location = location;
  e.size = bytes.size();
  e.bytes = bytes;
  return e;
}

struct Exported {
  grpc::Status status;
  v1::ExportModelHeader header;
  std::string file;
  std::vector<std::pair<v1::ExportExternalFile, std::string>> externals;
};

Exported Export(Client& client, const std::string& name, const std::string& format = "") {
  v1::ExportModelRequest request;
  request.set_model_name(name);
  request.set_format(format);
  Exported out;
  out.status = client.ExportModel(
      request, &out.header,
      [&](std::string_view b) {
        (out.externals.empty() ? out.file : out.externals.back().second).append(b);
        return true;
      },
      [&](const v1::ExportExternalFile& f) {
        out.externals.emplace_back(f, std::string());
        return true;
      });
  return out;
}

// The layers' bytes as the server holds them: the model exported as a
// safetensors file built from its layers, by tensor name.
std::map<std::string, std::string> LayerBytes(Client& client, const std::string& name) {
  const Exported st = Export(client, name, "safetensors");
  INFO(st.status.error_message());
  REQUIRE(st.status.ok());
  auto scan = models::ScanModelFile(models::ModelFormat::kSafetensors, st.file, st.file.size());
  REQUIRE(scan.ok());
  REQUIRE(scan->complete());
  std::map<std::string, std::string> out;
  for (const auto& t : scan->layout.tensors) out[t.name] = st.file.substr(t.offset, t.length);
  return out;
}

void CheckSameStore(const ModelStoreAudit& a, const ModelStoreAudit& b) {
  CHECK(a.models == b.models);
  CHECK(a.layers == b.layers);
  CHECK(a.tensor_rows == b.tensor_rows);
  CHECK(a.staging_rows == b.staging_rows);
  CHECK(a.tensor_atoms == b.tensor_atoms);
  CHECK(a.active_tensor_atoms == b.active_tensor_atoms);
  CHECK(a.unreferenced_atoms == b.unreferenced_atoms);
  CHECK(b.mismatches.empty());
}

}  // namespace

TEST_CASE(
    "model external data: a libonnx-testdata model saved with external data imports with "
    "python's values, shares the embedded import's atoms and exports both files byte for byte",
    "[models][import][onnx][external]") {
  REQUIRE(std::filesystem::exists(kRealModel));
  TempDir work;
  const std::string p = work.path() + "/";
  const auto values = Convert(work.path(), "real", kRealModel);
  const std::string embedded = Slurp(kRealModel);
  const std::string model = Slurp(p + "model.onnx");
  const std::string weights = Slurp(p + "weights.bin");
  REQUIRE(model.find("weights.bin") != std::string::npos);

  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  const Imported emb = Import(client, "embedded", embedded);
  INFO(emb.status.error_message());
  REQUIRE(emb.status.ok());
  const Imported ext = Import(client, "external", model, {External("weights.bin", weights)});
  INFO(ext.status.error_message());
  REQUIRE(ext.status.ok());
  CHECK(ext.response.format() == "onnx");
  CHECK(ext.response.bytes_received() == model.size() + weights.size());
  CHECK(ext.response.file_sha256() == Sha256Hex(model));
  REQUIRE(ext.response.layers_size() == emb.response.layers_size());
  REQUIRE(ext.response.layers_size() == static_cast<int>(values.size()));
  // Every tensor chunk was stored by the embedded import: only the model
  // file's framing is new.
  uint64_t tensor_bytes = 0;
  for (const auto& l : ext.response.layers()) {
    CAPTURE(l.layer_name());
    CHECK(l.bytes() > 0);
    CHECK(l.new_chunks() == 0);
    CHECK(l.sharing() == v1::LAYER_SHARING_SHARED);
    tensor_bytes += l.bytes();
  }
  CHECK(tensor_bytes == weights.size());
  CHECK(ext.response.new_bytes_stored() <= model.size());
  CHECK(ext.response.new_bytes_stored() < emb.response.new_bytes_stored());

  // The layers' values: python's, and the embedded model's.
  const auto ext_layers = LayerBytes(client, "external");
  CHECK(ext_layers == values);
  CHECK(LayerBytes(client, "embedded") == values);
  v1::GetLayerRequest get;
  get.set_model_name("external");
  get.set_layer_idx(0);
  v1::ModelLayer layer;
  REQUIRE(client.GetLayer(get, &layer).ok());
  CHECK(layer.parameters_json().find("\"external_location\":\"weights.bin\"") != std::string::npos);

  // Export: the model file, then weights.bin, each byte for byte.
  const Exported out = Export(client, "external");
  INFO(out.status.error_message());
  REQUIRE(out.status.ok());
  CHECK(out.header.format() == "onnx");
  CHECK(out.header.file_size() == model.size());
  CHECK(out.header.file_sha256() == Sha256Hex(model));
  CHECK(out.file == model);
  REQUIRE(out.externals.size() == 1);
  CHECK(out.externals[0].first.location() == "weights.bin");
  CHECK(out.externals[0].first.file_size() == weights.size());
  CHECK(out.externals[0].first.file_sha256() == Sha256Hex(weights));
  CHECK(Sha256Hex(out.externals[0].second) == Sha256Hex(weights));
  const Exported as_onnx = Export(client, "external", "onnx");
  REQUIRE(as_onnx.status.ok());
  CHECK(as_onnx.file == model);
  REQUIRE(as_onnx.externals.size() == 1);
  CHECK(as_onnx.externals[0].second == weights);
  // The embedded import's export is unchanged: one file.
  const Exported emb_out = Export(client, "embedded");
  REQUIRE(emb_out.status.ok());
  CHECK(emb_out.file == embedded);
  CHECK(emb_out.externals.empty());
  // A caller that cannot receive external files is refused, not given half.
  v1::ExportModelRequest request;
  request.set_model_name("external");
  v1::ExportModelHeader header;
  const grpc::Status refused =
      client.ExportModel(request, &header, [](std::string_view) { return true; });
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(refused.error_message(), Catch::Contains("weights.bin"));

  // Deleting the embedded model leaves the external one whole.
  v1::DeleteModelRequest del;
  del.set_model_name("embedded");
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  const Exported again = Export(client, "external");
  REQUIRE(again.status.ok());
  CHECK(again.file == model);
  REQUIRE(again.externals.size() == 1);
  CHECK(again.externals[0].second == weights);
  REQUIRE(daemon.Stop() == 0);
  const ModelStoreAudit audit = AuditModelStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 1);
  CHECK(audit.staging_rows == 0);
  CHECK(audit.unreferenced_atoms == 0);
}

TEST_CASE(
    "model external data: two external files with gaps, cut across small messages into many "
    "chunks, share atoms with safetensors and embedded imports, and a quantized copy exports "
    "its values into the external file",
    "[models][import][onnx][external]") {
  TempDir work;
  const std::string p = work.path() + "/";
  const auto values = Convert(work.path(), "gaps");
  const std::string model = Slurp(p + "gaps.onnx");
  const std::string w_bin = Slurp(p + "sub/w.bin");
  const std::string rest = Slurp(p + "rest.bin");
  const std::string w = Slurp(p + "w.f32");
  REQUIRE(values.at("w") == w);

  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  // The same weight in a safetensors file first.
  auto st = models::WriteSafetensors({{"w", "F32", {200, 200}}}, {w}, {});
  REQUIRE(st.ok());
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name("safetensors");
  start.set_chunk_bytes(4096);
  v1::ImportModelResponse st_response;
  grpc::ClientContext st_context;
  REQUIRE(client.ImportModel(&st_context, start, *st, &st_response).ok());

  // Sent in 1000-byte messages: chunks and framing cut across messages.
  const Imported ext =
      Import(client, "gaps", model, {External("sub/w.bin", w_bin), External("rest.bin", rest)},
             4096, 1000);
  INFO(ext.status.error_message());
  REQUIRE(ext.status.ok());
  REQUIRE(ext.response.layers_size() == 3);
  for (const auto& l : ext.response.layers()) {
    CAPTURE(l.layer_name());
    if (l.layer_name() == "w") {
      CHECK(l.chunks() == (w.size() + 4095) / 4096);
      CHECK(l.sharing() == v1::LAYER_SHARING_SHARED);  // the safetensors file's atoms
    } else {
      CHECK(l.sharing() == v1::LAYER_SHARING_NEW);
    }
  }
  CHECK(LayerBytes(client, "gaps") == values);

  // The embedded model shares every tensor atom with it.
  const Imported emb = Import(client, "embedded", Slurp(p + "embedded.onnx"), {}, 4096);
  REQUIRE(emb.status.ok());
  for (const auto& l : emb.response.layers()) {
    CAPTURE(l.layer_name());
    CHECK(l.new_chunks() == 0);
  }
  CHECK(LayerBytes(client, "embedded") == values);

  const Exported out = Export(client, "gaps");
  INFO(out.status.error_message());
  REQUIRE(out.status.ok());
  CHECK(out.file == model);
  REQUIRE(out.externals.size() == 2);
  CHECK(out.externals[0].first.location() == "sub/w.bin");
  CHECK(out.externals[0].second == w_bin);
  CHECK(out.externals[0].first.file_sha256() == Sha256Hex(w_bin));
  CHECK(out.externals[1].first.location() == "rest.bin");
  CHECK(out.externals[1].second == rest);

  // A quantized copy (int8, layer "w" only) exported as onnx: the model
  // file and rest.bin as they were, w's range of sub/w.bin holding its
  // dequantized values, every other byte of it the original's.
  uint32_t w_idx = 0;
  for (const auto& l : ext.response.layers()) {
    if (l.layer_name() == "w") w_idx = l.layer_idx();
  }
  v1::QuantizeModelRequest quantize;
  quantize.set_model_name("gaps");
  quantize.set_name("gaps-int8");
  quantize.set_type("int8");
  quantize.add_layers(w_idx);
  v1::QuantizeModelResponse quantized;
  const grpc::Status q = client.QuantizeModel(quantize, &quantized);
  INFO(q.error_message());
  REQUIRE(q.ok());
  const Exported copy = Export(client, "gaps-int8", "onnx");
  INFO(copy.status.error_message());
  REQUIRE(copy.status.ok());
  CHECK(copy.header.file_sha256().empty());
  CHECK(copy.file == model);
  REQUIRE(copy.externals.size() == 2);
  CHECK(copy.externals[0].first.file_sha256().empty());
  const std::string& qw = copy.externals[0].second;
  REQUIRE(qw.size() == w_bin.size());
  CHECK(qw.substr(0, 100) == w_bin.substr(0, 100));
  CHECK(qw.substr(100 + w.size()) == w_bin.substr(100 + w.size()));
  CHECK(qw.substr(100, w.size()) != w);
  float max_abs = 0, max_err = 0;
  for (size_t i = 0; i < w.size() / 4; ++i) {
    float a = 0, b = 0;
    std::memcpy(&a, w.data() + 4 * i, 4);
    std::memcpy(&b, qw.data() + 100 + 4 * i, 4);
    max_abs = std::max(max_abs, std::fabs(a));
    max_err = std::max(max_err, std::fabs(a - b));
  }
  CHECK(max_err > 0);
  CHECK(max_err <= max_abs / 127.0f);
  CHECK(copy.externals[1].second == rest);
  REQUIRE(daemon.Stop() == 0);
  const ModelStoreAudit audit = AuditModelStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
  CHECK(audit.unreferenced_atoms == 0);
}

TEST_CASE(
    "model external data: every stream rule is refused naming its field and a cancelled "
    "stream stores nothing",
    "[models][import][onnx][external][bad-input]") {
  REQUIRE(std::filesystem::exists(kRealModel));
  TempDir work;
  const std::string p = work.path() + "/";
  Convert(work.path(), "real", kRealModel);
  const std::string model = Slurp(p + "model.onnx");
  const std::string weights = Slurp(p + "weights.bin");
  const std::string overlap = Slurp(p + "overlap.onnx");
  auto st = models::WriteSafetensors({{"w", "F32", {4}}}, {std::string(16, '\1')}, {});
  REQUIRE(st.ok());

  TempDir dir;
  ModelStoreAudit before;
  {
    // Something stored first: the refusals must leave it exactly so.
    Daemon daemon({.data_dir = dir.path()});
    REQUIRE(Import(daemon.client(), "kept", model, {External("weights.bin", weights)}).status.ok());
    REQUIRE(daemon.Stop() == 0);
    before = AuditModelStore(dir.path());
    REQUIRE(before.models == 1);
  }
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();

  // More bytes than the size declared (the ranges fit in the size).
  const std::string padded = weights + "pad";
  Client::ImportExternal short_size = External("weights.bin", padded);
  short_size.size = weights.size();
  Client::ImportExternal long_size = External("weights.bin", weights);
  long_size.size = weights.size() + 4;
  const std::string half = weights.substr(0, weights.size() / 2);
  struct Case {
    const char* what;
    std::string file;
    std::vector<Client::ImportExternal> externals;
    const char* field;
    const char* rule;
  };
  const std::vector<Case> cases = {
      {"a location no tensor names",
       model,
       {External("weights.bin", weights), External("other.bin", "xyz")},
       "external_file.location",
       "named by no tensor"},
      {"a location sent twice",
       model,
       {External("weights.bin", weights), External("weights.bin", weights)},
       "external_file.location",
       "sent already"},
      {"a named location never sent", model, {}, "external_file.location", "was not sent"},
      {"size under the bytes sent", model, {short_size}, "external_file.size", "carried more"},
      {"size over the bytes sent", model, {long_size}, "external_file.size", "carried"},
      {"a range past the end",
       model,
       {External("weights.bin", half)},
       "external_file.size",
       "takes bytes"},
      {"overlapping ranges",
       overlap,
       {External("weights.bin", weights)},
       "external_file.location",
       "overlap"},
      {"a non-ONNX import",
       *st,
       {External("weights.bin", weights)},
       "external_file",
       "only an ONNX model"},
      {"an empty location", model, {External("", weights)}, "external_file.location", "empty"},
      {"an absolute location",
       model,
       {External("/models/weights.bin", weights)},
       "external_file.location",
       "absolute"},
      {"a '..' location",
       model,
       {External("../weights.bin", weights)},
       "external_file.location",
       "\"..\""},
      {"a location with NUL",
       model,
       {External(std::string("weights.bin\0x", 13), weights)},
       "external_file.location",
       "NUL"},
      {"a location over 255 bytes",
       model,
       {External(std::string(256, 'a'), weights)},
       "external_file.location",
       "at most 255"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const Imported imported = Import(client, "bad", c.file, c.externals);
    INFO(imported.status.error_message());
    CHECK(imported.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(imported.status.error_message(), Catch::StartsWith(c.field));
    CHECK_THAT(imported.status.error_message(), Catch::Contains(c.rule));
  }
  {
    // external_file in the first message, before any byte of the model file.
    auto stub = v1::ModelService::NewStub(client.channel());
    grpc::ClientContext context;
    v1::ImportModelResponse response;
    auto writer = stub->ImportModel(&context, &response);
    v1::ImportModelRequest message;
    message.mutable_start()->mutable_model()->set_model_name("bad");
    message.mutable_external_file()->set_location("weights.bin");
    message.mutable_external_file()->set_size(weights.size());
    message.set_data(weights);
    writer->Write(message);
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::StartsWith("external_file:"));
    CHECK_THAT(status.error_message(), Catch::Contains("first message"));
  }
  {
    // Cancelled while the external file streams (after the model file).
    v1::ImportModelStart start;
    start.mutable_model()->set_model_name("cancelled");
    v1::ImportModelResponse response;
    grpc::ClientContext context;
    bool cancelled = false;
    const grpc::Status status = client.ImportModel(
        &context, start, model, {External("weights.bin", weights)}, &response,
        [&](uint64_t sent) {
          if (sent > model.size() && !cancelled) {
            cancelled = true;
            context.TryCancel();
          }
        },
        64);
    CHECK(cancelled);
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  WaitIdle(client);
  v1::GetModelRequest get;
  get.set_model_name("bad");
  v1::Model none;
  CHECK(client.GetModel(get, &none).error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(daemon.Stop() == 0);
  CheckSameStore(before, AuditModelStore(dir.path()));
}

TEST_CASE(
    "model external data: the CLI imports an ONNX model with the files it names beside it and "
    "exports them beside its output",
    "[models][import][onnx][external][cli]") {
  TempDir work;
  const std::string p = work.path() + "/";
  Convert(work.path(), "gaps");
  Daemon daemon;
  const nlohmann::json imported =
      JsonOf(Cli(daemon, {"--json", "model", "import", p + "gaps.onnx"}));
  CHECK(imported["format"] == "onnx");
  CHECK(imported["bytes_received"] == std::filesystem::file_size(p + "gaps.onnx") +
                                          std::filesystem::file_size(p + "sub/w.bin") +
                                          std::filesystem::file_size(p + "rest.bin"));
  std::filesystem::create_directory(p + "out");
  const nlohmann::json exported =
      JsonOf(Cli(daemon, {"--json", "model", "export", "gaps", "--output", p + "out/copy.onnx"}));
  CHECK(Slurp(p + "out/copy.onnx") == Slurp(p + "gaps.onnx"));
  CHECK(Slurp(p + "out/sub/w.bin") == Slurp(p + "sub/w.bin"));
  CHECK(Slurp(p + "out/rest.bin") == Slurp(p + "rest.bin"));
  REQUIRE(exported["external_files"].size() == 2);
  CHECK(exported["external_files"][0]["location"] == "sub/w.bin");
  // Exporting to standard output cannot place the external files.
  const ProcessResult to_stdout = Cli(daemon, {"model", "export", "gaps", "--output", "-"});
  CHECK(to_stdout.exit_code != 0);
  CHECK_THAT(to_stdout.err, Catch::Contains("external data"));

  // A model naming a location that leaves its directory is refused by
  // the CLI before anything is sent.
  std::string escaping = Slurp(p + "gaps.onnx");
  const size_t at = escaping.find("rest.bin");
  REQUIRE(at != std::string::npos);
  escaping.replace(at, 8, "../r.bin");
  WriteFile(p + "sub/escaping.onnx", escaping);
  const ProcessResult refused =
      Cli(daemon, {"model", "import", p + "sub/escaping.onnx", "--name", "escaping"});
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Catch::Contains("\"..\""));
  // A missing external file is a local error too.
  std::filesystem::remove(p + "rest.bin");
  const ProcessResult missing =
      Cli(daemon, {"model", "import", p + "gaps.onnx", "--name", "missing"});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("rest.bin"));
}
