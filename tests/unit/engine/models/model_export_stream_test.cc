// ModelExportStream over a real LMDB environment: an imported file read
// batch by batch comes back byte for byte, in several batches of bounded
// size, the last one marked; planning errors come from OpenExport.
#include "server/engine/models/model_export_stream.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "server/engine/models/formats/safetensors_writer.h"
#include "server/engine/models/model_engine.h"
#include "server/engine/models/model_import.h"
#include "tests/unit/storage/temp_env.h"

using namespace hartonomous;
using namespace hartonomous::engine;

namespace {

struct Fixture {
  testing::TempEnv t;
  storage::WriteBatcher writer{t.env()};
  ModelEngine models{t.env(), t.tables(), writer, std::string(32, 'k')};
};

// Three F32 tensors of 2 MiB of random values each (6 MiB in all: more
// than one batch).
std::string File() {
  std::vector<models::SafetensorsTensorSpec> specs;
  std::vector<std::string> data;
  std::mt19937 rng(7);
  for (uint32_t i = 0; i < 3; ++i) {
    std::string bytes((size_t{2} << 20) + 4096 * i, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    data.push_back(std::move(bytes));
    specs.push_back(
        {"model.layers." + std::to_string(i) + ".weight", "F32", {data.back().size() / 4}});
  }
  std::vector<std::string_view> views(data.begin(), data.end());
  auto file = models::WriteSafetensors(specs, views, {});
  REQUIRE(file.ok());
  return *file;
}

void Import(Fixture& f, const std::string& name, const std::string& file) {
  ImportOptions options;
  options.model.model.set_model_name(name);
  options.file_name = name + ".safetensors";
  auto import = f.models.StartImport(options);
  REQUIRE(import->Begin().ok());
  constexpr size_t kMessage = size_t{1} << 20;
  for (size_t at = 0; at < file.size(); at += kMessage) {
    REQUIRE(import->Add(std::string_view(file).substr(at, kMessage)).ok());
  }
  auto report = import->Finish();
  INFO(report.status().ToString());
  REQUIRE(report.ok());
}

}  // namespace

TEST_CASE("an export read batch by batch is the imported file, in bounded batches",
          "[models][export]") {
  Fixture f;
  const std::string file = File();
  Import(f, "m", file);
  auto stream = f.models.OpenExport({0, "m"}, "", /*external_files=*/false);
  INFO(stream.status().ToString());
  REQUIRE(stream.ok());
  CHECK((*stream)->header().file_size == file.size());
  CHECK((*stream)->header().format == "safetensors");
  std::string out;
  int batches = 0;
  for (bool last = false; !last;) {
    auto batch = (*stream)->Next();
    INFO(batch.status().ToString());
    REQUIRE(batch.ok());
    ++batches;
    CHECK_FALSE(batch->external.has_value());
    size_t bytes = 0;
    for (const std::string& piece : batch->pieces) bytes += piece.size();
    // About 4 MiB per batch: the pieces read until the batch reaches it.
    CHECK(bytes <= (size_t{4} << 20) + (size_t{256} << 10));
    for (const std::string& piece : batch->pieces) out += piece;
    last = batch->last;
  }
  CHECK(batches >= 2);
  CHECK(out == file);
}

TEST_CASE("OpenExport refuses an unknown format and an unknown model", "[models][export]") {
  Fixture f;
  Import(f, "m", File());
  auto bad_format = f.models.OpenExport({0, "m"}, "tflite", true);
  REQUIRE_FALSE(bad_format.ok());
  CHECK(bad_format.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(bad_format.status().message(), Catch::Contains("got \"tflite\""));
  auto missing = f.models.OpenExport({0, "no-such-model"}, "", true);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Status::Code::kNotFound);
}
