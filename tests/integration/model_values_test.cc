// Per-weight layer values, layer updates and deletes, and the immediate
// purge of released tensor atoms, against the real hartonomousd:
// SetLayerValues round trips through the geometry's Z and M, replacing
// values releases (and purges) the old atoms, bad input and cancelled
// streams store nothing, ExtractStudent ranks by the importance set,
// DeleteLayer keeps the layer's rows detached (the file still exports byte
// for byte) until the model goes, and DeleteModel purges what only it held.
// Reference counts are checked in the LMDB tables with the daemon stopped.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"
#include "model_store_audit.h"
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

struct Tensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  std::string data;
};

std::string Safetensors(const std::vector<Tensor>& tensors) {
  std::vector<models::SafetensorsTensorSpec> specs;
  std::vector<std::string_view> data;
  for (const Tensor& t : tensors) {
    specs.push_back({t.name, t.dtype, t.shape});
    data.push_back(t.data);
  }
  auto file = models::WriteSafetensors(specs, data, {});
  REQUIRE(file.ok());
  return *file;
}

std::string FloatBytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> out(n);
  for (float& x : out) x = dist(rng);
  return out;
}

void Import(Client& client, const std::string& name, const std::string& file) {
  v1::ImportModelStart start;
  start.mutable_model()->set_model_name(name);
  v1::ImportModelResponse response;
  grpc::ClientContext context;
  const grpc::Status status = client.ImportModel(&context, start, file, &response, {}, 1 << 20);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

std::string Export(Client& client, const std::string& name) {
  v1::ExportModelRequest request;
  request.set_model_name(name);
  std::string out;
  v1::ExportModelHeader header;
  const grpc::Status status = client.ExportModel(request, &header, [&](std::string_view b) {
    out.append(b);
    return true;
  });
  INFO(status.error_message());
  REQUIRE(status.ok());
  return out;
}

// layer_idx of the layer named `name` in model `model`.
uint32_t LayerIdx(Client& client, const std::string& model, const std::string& name) {
  v1::ListLayersRequest list;
  list.set_model_name(model);
  int64_t idx = -1;
  REQUIRE(client
              .ListLayers(list,
                          [&](const v1::ModelLayer& l) {
                            if (l.layer_name() == name) idx = l.layer_idx();
                            return true;
                          })
              .ok());
  REQUIRE(idx >= 0);
  return static_cast<uint32_t>(idx);
}

v1::SetLayerValuesStart Start(const std::string& model, uint32_t idx, v1::LayerValueKind kind) {
  v1::SetLayerValuesStart start;
  start.set_model_name(model);
  start.set_layer_idx(idx);
  start.set_kind(kind);
  return start;
}

grpc::Status SetValues(Client& client, const v1::SetLayerValuesStart& start,
                       const std::vector<float>& values, v1::SetLayerValuesResponse* r,
                       size_t message_values = 0) {
  return client.SetLayerValues(start, values, r, message_values);
}

std::string Geometry(Client& client, const std::string& model, uint32_t idx) {
  v1::ExportLayerGeometryRequest request;
  request.set_model_name(model);
  request.set_layer_idx(idx);
  std::string wkt;
  const grpc::Status status = client.ExportLayerGeometry(request, [&](const v1::LayerGeometry& g) {
    wkt += g.wkt();
    return true;
  });
  INFO(status.error_message());
  REQUIRE(status.ok());
  return wkt;
}

using Audit = ModelStoreAudit;
Audit AuditStore(const std::string& dir) { return AuditModelStore(dir); }

}  // namespace

TEST_CASE(
    "layer values: importance and temporal values round trip through geometry Z and M, "
    "and replacing them releases and purges the old atoms",
    "[models][values]") {
  const std::vector<float> w = {0.5f, -1.25f, 3.0f, 0.0f, -0.125f, 2.5f, 7.0f};
  // 100000 values: two 256 KiB chunks.
  const std::vector<float> big = RandomFloats(100000, 5);
  const std::string file = Safetensors(
      {{"w.weight", "F32", {7}, FloatBytes(w)}, {"big.weight", "F32", {100000}, FloatBytes(big)}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  Import(client, "vals", file);
  Import(client, "vals-copy", file);
  const uint32_t wi = LayerIdx(client, "vals", "w.weight");
  const uint32_t bi = LayerIdx(client, "vals", "big.weight");

  // Without stored values: Z = |w|, M = 0.
  CHECK(Geometry(client, "vals", wi) ==
        "LINESTRING ZM (0 0.5 0.5 0, 1 -1.25 1.25 0, 2 3 3 0, 3 0 0 0, 4 -0.125 0.125 0, "
        "5 2.5 2.5 0, 6 7 7 0)");
  v1::SetLayerValuesResponse r;
  const std::vector<float> importance = {1, 2, 0.25f, 4, 5, 6, 0.5f};
  const std::vector<float> temporal = {10, 20, 30, 40, 50, 60, 70};
  // Values in messages of 3: the stream's pieces are joined in order.
  grpc::Status status =
      SetValues(client, Start("vals", wi, v1::LAYER_VALUE_KIND_IMPORTANCE), importance, &r, 3);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(r.values() == 7);
  CHECK(r.chunks() == 1);
  CHECK(r.new_bytes_stored() == 28);
  CHECK(r.rows_replaced() == 0);
  CHECK(r.kind() == v1::LAYER_VALUE_KIND_IMPORTANCE);
  CHECK(r.layer().layer_name() == "w.weight");
  REQUIRE(SetValues(client, Start("vals", wi, v1::LAYER_VALUE_KIND_TEMPORAL), temporal, &r).ok());
  CHECK(Geometry(client, "vals", wi) ==
        "LINESTRING ZM (0 0.5 1 10, 1 -1.25 2 20, 2 3 0.25 30, 3 0 4 40, 4 -0.125 5 50, "
        "5 2.5 6 60, 6 7 0.5 70)");
  // The other model's layer is untouched.
  CHECK(Geometry(client, "vals-copy", wi).find("0 0.5 0.5 0,") != std::string::npos);

  // Replacing: the old importance atom is released and, held by no one
  // else, purged.
  const std::vector<float> again = {7, 6, 5, 4, 3, 2, 1};
  REQUIRE(SetValues(client, Start("vals", wi, v1::LAYER_VALUE_KIND_IMPORTANCE), again, &r).ok());
  CHECK(r.rows_replaced() == 1);
  CHECK(r.atoms_purged() == 1);
  CHECK(Geometry(client, "vals", wi) ==
        "LINESTRING ZM (0 0.5 7 10, 1 -1.25 6 20, 2 3 5 30, 3 0 4 40, 4 -0.125 3 50, "
        "5 2.5 2 60, 6 7 1 70)");
  // The same values on the copy share the atom: nothing new, and replacing
  // them there releases the shared atom without purging it.
  REQUIRE(
      SetValues(client, Start("vals-copy", wi, v1::LAYER_VALUE_KIND_IMPORTANCE), again, &r).ok());
  CHECK(r.new_bytes_stored() == 0);
  REQUIRE(SetValues(client, Start("vals-copy", wi, v1::LAYER_VALUE_KIND_IMPORTANCE), importance, &r)
              .ok());
  CHECK(r.rows_replaced() == 1);
  CHECK(r.atoms_purged() == 0);

  // A layer of two chunks, then cleared.
  const std::vector<float> big_importance = RandomFloats(100000, 6);
  REQUIRE(SetValues(client, Start("vals", bi, v1::LAYER_VALUE_KIND_IMPORTANCE), big_importance, &r,
                    30000)
              .ok());
  CHECK(r.chunks() == 2);
  v1::ExportLayerGeometryRequest page;
  page.set_model_name("vals");
  page.set_layer_idx(bi);
  page.set_start_index(65535);
  page.set_max_points(2);
  std::string wkt;
  REQUIRE(client
              .ExportLayerGeometry(page,
                                   [&](const v1::LayerGeometry& g) {
                                     wkt += g.wkt();
                                     return true;
                                   })
              .ok());
  // Points 65535 and 65536 straddle the chunk boundary.
  auto number = [](float f) { return static_cast<double>(f); };
  {
    std::istringstream in(wkt.substr(wkt.find('(') + 1));
    double x, y, z, m;
    char comma;
    in >> x >> y >> z >> m >> comma;
    CHECK(x == 65535);
    CHECK(y == number(big[65535]));
    CHECK(z == number(big_importance[65535]));
    in >> x >> y >> z >> m;
    CHECK(x == 65536);
    CHECK(z == number(big_importance[65536]));
    CHECK(m == 0);
  }
  v1::SetLayerValuesStart clear = Start("vals", bi, v1::LAYER_VALUE_KIND_IMPORTANCE);
  clear.set_clear(true);
  REQUIRE(SetValues(client, clear, {}, &r).ok());
  CHECK(r.rows_replaced() == 2);
  CHECK(r.atoms_purged() == 2);
  CHECK(r.values() == 0);

  REQUIRE(daemon.Stop() == 0);
  Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
  CHECK(audit.rows_by_kind[1] == 2);  // w.weight of both models
  CHECK(audit.rows_by_kind[2] == 1);
  // Nothing released is left behind inactive.
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
  CHECK(audit.unreferenced_atoms == 0);
}

TEST_CASE(
    "layer values: a wrong count, NaN, an unknown layer or kind, and a cancelled stream "
    "store nothing",
    "[models][values]") {
  const std::vector<float> big = RandomFloats(4 << 20, 9);  // 16 MiB of F32
  const std::string file = Safetensors({{"w.weight", "F32", {4}, FloatBytes({1, 2, 3, 4})},
                                        {"big.weight", "F32", {4 << 20}, FloatBytes(big)}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  Import(client, "bad", file);
  const uint32_t wi = LayerIdx(client, "bad", "w.weight");
  const uint32_t bi = LayerIdx(client, "bad", "big.weight");
  v1::SetLayerValuesResponse r;
  auto refused = [&](const v1::SetLayerValuesStart& start, const std::vector<float>& values,
                     grpc::StatusCode code, const std::string& text) {
    const grpc::Status status = SetValues(client, start, values, &r, 2);
    CAPTURE(text);
    CHECK(status.error_code() == code);
    CHECK_THAT(status.error_message(), Catch::Contains(text));
  };
  const auto importance = Start("bad", wi, v1::LAYER_VALUE_KIND_IMPORTANCE);
  refused(importance, {1, 2, 3}, grpc::StatusCode::INVALID_ARGUMENT,
          "has 4 parameters, got 3 values");
  refused(importance, {1, 2, 3, 4, 5}, grpc::StatusCode::INVALID_ARGUMENT,
          "has 4 parameters, got more values");
  refused(importance, {1, 2, std::numeric_limits<float>::quiet_NaN(), 4},
          grpc::StatusCode::INVALID_ARGUMENT, "values[2]: must be finite, got NaN");
  refused(importance, {1, std::numeric_limits<float>::infinity(), 3, 4},
          grpc::StatusCode::INVALID_ARGUMENT, "values[1]: must be finite, got Inf");
  refused(Start("bad", 99, v1::LAYER_VALUE_KIND_IMPORTANCE), {1, 2, 3, 4},
          grpc::StatusCode::NOT_FOUND, "layer_idx");
  refused(Start("no-such-model", 0, v1::LAYER_VALUE_KIND_IMPORTANCE), {1, 2, 3, 4},
          grpc::StatusCode::NOT_FOUND, "model_name");
  refused(Start("bad", wi, v1::LAYER_VALUE_KIND_UNSPECIFIED), {1, 2, 3, 4},
          grpc::StatusCode::INVALID_ARGUMENT, "start.kind");
  refused(Start("", wi, v1::LAYER_VALUE_KIND_IMPORTANCE), {1, 2, 3, 4},
          grpc::StatusCode::INVALID_ARGUMENT, "start.");
  v1::SetLayerValuesStart clear = importance;
  clear.set_clear(true);
  refused(clear, {1, 2, 3, 4}, grpc::StatusCode::INVALID_ARGUMENT, "start.clear");

  // A stream cancelled after more than one staging batch (8 MiB) was sent.
  {
    grpc::ClientContext context;
    const grpc::Status status = client.SetLayerValues(
        &context, Start("bad", bi, v1::LAYER_VALUE_KIND_TEMPORAL), big.data(), big.size(), &r,
        [&](uint64_t sent) {
          if (sent >= (3u << 20)) context.TryCancel();
        },
        1 << 18);
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
  }
  WaitIdle(client);
  // The model's file is unchanged.
  CHECK(Export(client, "bad") == file);
  REQUIRE(daemon.Stop() == 0);
  Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.staging_rows == 0);
  CHECK(audit.rows_by_kind[1] == 0);
  CHECK(audit.rows_by_kind[2] == 0);
  CHECK(audit.unreferenced_atoms == 0);
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
}

TEST_CASE("layer values: ExtractStudent ranks by the layer's importance, else stored values",
          "[models][values][student]") {
  // Mean |w|: a 3, b 2, c 1.
  const std::string file = Safetensors({{"a.weight", "F32", {4}, FloatBytes({3, -3, 3, -3})},
                                        {"b.weight", "F32", {4}, FloatBytes({2, -2, 2, 2})},
                                        {"c.weight", "F32", {4}, FloatBytes({1, 1, -1, 1})}});
  Daemon daemon;
  Client& client = daemon.client();
  Import(client, "teacher", file);
  const uint32_t b = LayerIdx(client, "teacher", "b.weight");
  const uint32_t c = LayerIdx(client, "teacher", "c.weight");
  int students = 0;
  // The teacher layer kept at ratio 1/3, and its importance's source.
  auto top = [&](std::string* source) {
    v1::ExtractStudentRequest request;
    request.set_model_name("teacher");
    request.set_target_ratio(1.0 / 3);
    request.set_student_name("student-" + std::to_string(students++));
    v1::ExtractStudentResponse response;
    const grpc::Status status = client.ExtractStudent(request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    REQUIRE(response.layers_kept() == 1);
    for (const auto& l : response.layers()) {
      if (l.kept()) {
        *source = l.importance_source();
        return l.layer_name();
      }
    }
    return std::string();
  };
  std::string source;
  CHECK(top(&source) == "a.weight");
  CHECK(source == "magnitude");
  // Stored per-weight importance of c: mean 10.
  v1::SetLayerValuesResponse r;
  REQUIRE(
      SetValues(client, Start("teacher", c, v1::LAYER_VALUE_KIND_IMPORTANCE), {10, 10, 5, 15}, &r)
          .ok());
  CHECK(top(&source) == "c.weight");
  CHECK(source == "weights");
  // The layer's own importance comes first.
  v1::UpdateLayerRequest update;
  update.set_model_name("teacher");
  update.set_layer_idx(b);
  update.mutable_layer()->set_importance(100);
  update.mutable_update_mask()->add_paths("importance");
  v1::ModelLayer updated;
  REQUIRE(client.UpdateLayer(update, &updated).ok());
  CHECK(updated.importance() == 100);
  CHECK(updated.layer_name() == "b.weight");  // not in the mask: kept
  CHECK(top(&source) == "b.weight");
  CHECK(source == "layer");
  // Cleared again (importance in the mask, unset in the layer).
  update.mutable_layer()->clear_importance();
  REQUIRE(client.UpdateLayer(update, &updated).ok());
  CHECK_FALSE(updated.has_importance());
  CHECK(top(&source) == "c.weight");

  // UpdateLayer refusals name the field.
  v1::UpdateLayerRequest bad = update;
  bad.mutable_update_mask()->clear_paths();
  grpc::Status status = client.UpdateLayer(bad, &updated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("update_mask"));
  bad.mutable_update_mask()->add_paths("tensor_dtype");
  status = client.UpdateLayer(bad, &updated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("tensor_dtype"));
  bad = update;
  bad.mutable_layer()->set_importance(std::numeric_limits<double>::quiet_NaN());
  status = client.UpdateLayer(bad, &updated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("layer.importance"));
  bad = update;
  bad.mutable_update_mask()->set_paths(0, "layer_name");
  bad.mutable_layer()->set_layer_name("");
  status = client.UpdateLayer(bad, &updated);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("layer.layer_name"));
  bad.set_layer_idx(42);
  bad.mutable_layer()->set_layer_name("x");
  status = client.UpdateLayer(bad, &updated);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE(
    "layer delete: the layer's rows stay detached and the file exports byte for byte, "
    "until the model's delete releases them",
    "[models][values][delete]") {
  const std::vector<float> w = RandomFloats(70000, 3);  // two chunks
  const std::string file = Safetensors({{"keep.weight", "F32", {4}, FloatBytes({1, 2, 3, 4})},
                                        {"gone.weight", "F32", {70000}, FloatBytes(w)}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  Import(client, "m", file);
  const uint32_t gone = LayerIdx(client, "m", "gone.weight");
  v1::SetLayerValuesResponse r;
  REQUIRE(
      SetValues(client, Start("m", gone, v1::LAYER_VALUE_KIND_TEMPORAL), RandomFloats(70000, 4), &r)
          .ok());
  v1::GetLayerRequest get;
  get.set_model_name("m");
  get.set_layer_idx(gone);
  v1::ModelLayer layer;
  REQUIRE(client.GetLayer(get, &layer).ok());
  // A cached activation of the layer goes with it.
  v1::PutActivationRequest put;
  put.set_layer_id(layer.layer_id());
  put.set_input_hash(std::string(32, '\x07'));
  put.add_shape(70000);
  put.set_dtype("F32");
  put.set_data(std::string(70000 * 4, '\0'));
  v1::PutActivationResponse put_response;
  const grpc::Status put_status = client.PutActivation(put, &put_response);
  INFO(put_status.error_message());
  REQUIRE(put_status.ok());

  v1::DeleteLayerRequest del;
  del.set_model_name("m");
  del.set_layer_idx(gone);
  v1::DeleteLayerResponse deleted;
  REQUIRE(client.DeleteLayer(del, &deleted).ok());
  CHECK(deleted.layer_id() == layer.layer_id());
  CHECK(deleted.tensor_rows_detached() == 4);  // two weight chunks, two temporal
  CHECK(deleted.dependent_rows_removed() >= 1);
  v1::GetActivationRequest lookup;
  lookup.set_layer_id(layer.layer_id());
  lookup.set_input_hash(put.input_hash());
  v1::GetActivationResponse found;
  const grpc::Status lookup_status = client.GetActivation(lookup, &found);
  CHECK((!lookup_status.ok() || !found.found()));
  CHECK(client.GetLayer(get, &layer).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(client.DeleteLayer(del, &deleted).error_code() == grpc::StatusCode::NOT_FOUND);
  v1::GetModelRequest model_request;
  model_request.set_model_name("m");
  v1::Model model;
  REQUIRE(client.GetModel(model_request, &model).ok());
  CHECK(model.layer_count() == 1);
  CHECK(model.parameter_count() == 4);
  CHECK(Export(client, "m") == file);
  // A student of the model sees only the remaining layer.
  v1::ExtractStudentRequest student;
  student.set_model_name("m");
  student.set_target_ratio(1);
  student.set_student_name("m-student");
  v1::ExtractStudentResponse student_response;
  REQUIRE(client.ExtractStudent(student, &student_response).ok());
  CHECK(student_response.layers_total() == 1);
  // A quantized copy cannot rebuild a file missing a layer: it gets no copy
  // of the file and exports as built from its layers.
  v1::QuantizeModelRequest quantize;
  quantize.set_model_name("m");
  quantize.set_name("m-f16");
  quantize.set_type("f16");
  v1::QuantizeModelResponse quantized;
  REQUIRE(client.QuantizeModel(quantize, &quantized).ok());
  const std::string copy = Export(client, "m-f16");
  CHECK(copy != file);
  CHECK(copy.find("\"F16\"") != std::string::npos);
  v1::DeleteModelRequest delete_copy;
  delete_copy.set_model_name("m-f16");
  v1::DeleteModelResponse copy_deleted;
  REQUIRE(client.DeleteModel(delete_copy, &copy_deleted).ok());
  CHECK(copy_deleted.atoms_purged() > 0);  // its f16 values

  REQUIRE(daemon.Stop() == 0);
  Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.detached_rows == 4);
  CHECK(audit.rows_by_kind[2] == 2);

  // After a restart the file still exports; deleting the model releases
  // and purges everything only it held.
  Daemon again({.data_dir = dir.path()});
  CHECK(Export(again.client(), "m") == file);
  v1::DeleteModelRequest delete_model;
  delete_model.set_model_name("m-student");
  v1::DeleteModelResponse model_deleted;
  REQUIRE(again.client().DeleteModel(delete_model, &model_deleted).ok());
  CHECK(model_deleted.atoms_purged() == 0);  // the teacher still holds them
  delete_model.set_model_name("m");
  REQUIRE(again.client().DeleteModel(delete_model, &model_deleted).ok());
  CHECK(model_deleted.atoms_purged() > 0);
  REQUIRE(again.Stop() == 0);
  audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 0);
  CHECK(audit.layers == 0);
  CHECK(audit.rows_by_kind.empty());
  CHECK(audit.tensor_atoms == 0);
}

TEST_CASE("model delete: atoms no one references any more are purged at once, shared ones stay",
          "[models][values][purge]") {
  const std::vector<float> shared = RandomFloats(80000, 21);  // two chunks
  const std::vector<float> own = RandomFloats(80000, 22);
  const std::string base = Safetensors({{"shared.weight", "F32", {80000}, FloatBytes(shared)},
                                        {"own.weight", "F32", {80000}, FloatBytes(own)}});
  const std::string tuned =
      Safetensors({{"shared.weight", "F32", {80000}, FloatBytes(shared)},
                   {"own.weight", "F32", {80000}, FloatBytes(RandomFloats(80000, 23))}});
  TempDir dir;
  Daemon daemon({.data_dir = dir.path()});
  Client& client = daemon.client();
  Import(client, "base", base);
  Import(client, "tuned", tuned);
  v1::DedupStats before;
  REQUIRE(client.GetDedupStats(1, &before).ok());
  v1::DeleteModelRequest del;
  del.set_model_name("base");
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  // Only "own.weight" of base (two chunks of 256 KiB and 57,856 bytes) was
  // its alone; the header and shared.weight are tuned's too.
  CHECK(deleted.atoms_purged() == 2);
  CHECK(deleted.bytes_freed() == 80000 * 4);
  CHECK(Export(client, "tuned") == tuned);
  // A purge afterwards finds nothing left to purge.
  v1::PurgeInactiveResponse purged;
  REQUIRE(client.PurgeInactive(0, &purged).ok());
  CHECK(purged.atoms_purged() == 0);
  v1::DedupStats after;
  REQUIRE(client.GetDedupStats(1, &after).ok());
  auto tensor = [](const v1::DedupStats& s) {
    for (const auto& m : s.modalities()) {
      if (m.modality() == "tensor") return m;
    }
    return v1::ModalityDedupStats();
  };
  CHECK(tensor(before).unique_atoms() - tensor(after).unique_atoms() == 2);
  CHECK(tensor(before).unique_bytes() - tensor(after).unique_bytes() == 80000 * 4);
  REQUIRE(daemon.Stop() == 0);
  Audit audit = AuditStore(dir.path());
  CHECK(audit.mismatches.empty());
  CHECK(audit.models == 1);
  CHECK(audit.tensor_atoms == audit.active_tensor_atoms);
  CHECK(audit.unreferenced_atoms == 0);
}

TEST_CASE("cli: model set-values, update-layer and delete-layer", "[cli][models][values]") {
  const std::string file = Safetensors({{"a.weight", "F32", {3}, FloatBytes({1, -2, 4})},
                                        {"b.weight", "F32", {2}, FloatBytes({5, 6})}});
  Daemon daemon;
  Import(daemon.client(), "cli-m", file);
  const uint32_t a = LayerIdx(daemon.client(), "cli-m", "a.weight");
  const uint32_t b = LayerIdx(daemon.client(), "cli-m", "b.weight");
  nlohmann::json set = JsonOf(Cli(daemon,
                                  {"--json", "model", "set-values", "cli-m", std::to_string(a),
                                   "--kind", "importance", "--text", "--file", "-"},
                                  "0.5 1.5\n2.5\n"));
  CHECK(set["values"] == 3);
  CHECK(set["rows_replaced"] == 0);
  nlohmann::json geometry =
      JsonOf(Cli(daemon, {"--json", "model", "geometry", "cli-m", std::to_string(a)}));
  CHECK(geometry["wkt"][0] == "LINESTRING ZM (0 1 0.5 0, 1 -2 1.5 0, 2 4 2.5 0)");
  const ProcessResult wrong = Cli(daemon,
                                  {"model", "set-values", "cli-m", std::to_string(a), "--kind",
                                   "temporal", "--text", "--file", "-"},
                                  "1 2");
  CHECK(wrong.exit_code != 0);
  CHECK_THAT(wrong.err, Catch::Contains("has 3 parameters, got 2 values"));
  nlohmann::json updated = JsonOf(Cli(daemon, {"--json", "model", "update-layer", "cli-m",
                                               std::to_string(b), "--importance", "0.75"}));
  CHECK(updated["importance"] == 0.75);
  nlohmann::json removed =
      JsonOf(Cli(daemon, {"--json", "model", "delete-layer", "cli-m", std::to_string(b)}));
  CHECK(removed["tensor_rows_detached"] == 1);
  nlohmann::json shown = JsonOf(Cli(daemon, {"--json", "model", "show", "cli-m"}));
  CHECK(shown["layer_count"] == 1);
  CHECK(Export(daemon.client(), "cli-m") == file);
}
