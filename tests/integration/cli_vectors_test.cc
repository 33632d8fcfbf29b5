// `hartonomous load-vectors`, `search` and `collections` end to end: the real
// CLI against a real daemon, with .npy, .fvecs and IDX (gzip) inputs.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_util.h"
#include "daemon_harness.h"

namespace hartonomous::testing {
namespace {

using nlohmann::json;

std::vector<std::vector<float>> Rows(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<std::vector<float>> rows(n, std::vector<float>(dim));
  for (auto& r : rows) {
    for (auto& x : r) x = dist(rng);
  }
  return rows;
}

std::string Npy(const std::vector<std::vector<float>>& rows) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows.size()) + ", " + std::to_string(rows[0].size()) + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (const auto& r : rows) out.append(reinterpret_cast<const char*>(r.data()), r.size() * 4);
  return out;
}

std::string Fvecs(const std::vector<std::vector<float>>& rows) {
  std::string out;
  for (const auto& r : rows) {
    const int32_t dim = static_cast<int32_t>(r.size());
    out.append(reinterpret_cast<const char*>(&dim), 4);
    out.append(reinterpret_cast<const char*>(r.data()), r.size() * 4);
  }
  return out;
}

std::string Write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace

TEST_CASE("load-vectors reads .npy and .fvecs, search finds each row first", "[cli][search]") {
  Daemon daemon;
  TempDir dir;
  auto rows = Rows(60, 10, 1);
  const std::string npy = Write(dir, "points.npy", Npy(rows));
  const std::string fvecs = Write(dir, "points.fvecs", Fvecs(Rows(30, 6, 2)));

  json loaded = JsonOf(Cli(daemon, {"--json", "load-vectors", npy, "--batch", "25"}));
  CHECK(loaded["rows"] == 60);
  CHECK(loaded["dimension"] == 10);
  CHECK(loaded["embeddings_added"] == 60);
  CHECK(loaded["collection"]["name"] == "points");
  CHECK(loaded["collection"]["vector_count"] == 60);
  json other = JsonOf(Cli(daemon, {"--json", "load-vectors", fvecs, "-c", "six", "--metric",
                                   "cosine", "--index", "flat"}));
  CHECK(other["collection"]["dimension"] == 6);
  CHECK(other["collection"]["index"]["kind"] == "flat");
  CHECK(other["collection"]["metric"] == "cosine");

  for (int row : {0, 17, 59}) {
    json found = JsonOf(Cli(daemon, {"--json", "search", "points", "--file", npy, "--row",
                                     std::to_string(row), "-k", "3"}));
    REQUIRE(found["results"].size() == 3);
    CHECK(found["results"][0]["metadata"]["row"] == row);
    CHECK(found["results"][0]["distance"].get<double>() == Approx(0).margin(1e-4));
  }
  std::string vec;
  for (float x : rows[4]) vec += (vec.empty() ? "" : ",") + std::to_string(x);
  ProcessResult text = Cli(daemon, {"search", "points", "--vector", vec, "-k", "1", "--exact"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("\"row\":4") != std::string::npos);
  CHECK(text.out.find("(exact,") != std::string::npos);

  json list = JsonOf(Cli(daemon, {"--json", "collections"}));
  REQUIRE(list.size() == 2);

  ProcessResult bad = Cli(daemon, {"search", "points", "--vector", "1,2"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("vector: 2 components but collection 'points' has dimension 10") !=
        std::string::npos);
  ProcessResult none = Cli(daemon, {"search", "points"});
  CHECK(none.exit_code == 2);
  ProcessResult broken = Cli(daemon, {"load-vectors", Write(dir, "x.npy", "not numpy")});
  CHECK(broken.exit_code == 1);
  CHECK(broken.err.find("not a .npy file") != std::string::npos);
}

TEST_CASE("load-vectors reads gzip IDX images with labels for filtered search", "[cli][search]") {
  if (!std::filesystem::exists(kFashionImages)) {
    WARN("Fashion-MNIST is not installed; skipping");
    return;
  }
  Daemon daemon;
  json loaded = JsonOf(Cli(daemon, {"--json", "load-vectors", kFashionImages, "--labels",
                                    kFashionLabels, "-c", "fmnist", "--limit", "500"}));
  CHECK(loaded["dimension"] == 784);
  CHECK(loaded["collection"]["vector_count"].get<int>() +
            loaded["embeddings_replaced"].get<int>() ==
        500);
  json found = JsonOf(Cli(daemon, {"--json", "search", "fmnist", "--file", kFashionImages, "--row",
                                   "3", "-k", "20", "--where", "label=7"}));
  REQUIRE(found["results"].size() == 20);
  for (const auto& hit : found["results"]) {
    CHECK(hit["metadata"]["label"] == 7);
  }
}

TEST_CASE("cli: search-batch answers every row as search does", "[cli][vectors]") {
  Daemon daemon;
  if (!LoadFashion(daemon, 200)) return;
  const json batch = JsonOf(Cli(daemon, {"--json", "search-batch", "fm", kFashionImages, "--limit",
                                         "5", "--exact", "-k", "3"}));
  REQUIRE(batch.size() == 5);
  for (size_t row = 0; row < 5; ++row) {
    INFO("row " << row);
    CHECK(batch[row]["row"] == row);
    REQUIRE(batch[row]["results"].size() == 3);
    // The image itself is in the collection: distance 0 first.
    CHECK(batch[row]["results"][0]["distance"].get<double>() == 0.0);
    const json one = JsonOf(Cli(daemon, {"--json", "search", "fm", "--file", kFashionImages,
                                         "--row", std::to_string(row), "--exact", "-k", "3"}));
    for (size_t i = 0; i < 3; ++i) {
      CHECK(batch[row]["results"][i]["atom_id"] == one["results"][i]["atom_id"]);
    }
  }
  const ProcessResult missing =
      Cli(daemon, {"search-batch", "nope", kFashionImages, "--limit", "1"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("nope") != std::string::npos);
}

}  // namespace hartonomous::testing
