// The status page on the daemon's metrics port: /status.json after known
// traffic, and /status rendered by a real headless Chromium (Debian's
// chromium), its DOM after the page's script has refreshed it, and a
// screenshot whose pixels show the styled page.
#include <png.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "daemon_harness.h"
#include "metrics_util.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

Daemon::Options WithMetricsPort() {
  Daemon::Options options;
  options.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  return options;
}
const std::string kChromium = "/usr/bin/chromium";

struct Known {
  uint64_t logical_bytes = 0;
  uint64_t unique_bytes = 0;
  std::string model_name = "status-model";
};

// Known traffic: content A three times, content B once, 4 GetAtom misses, a
// collection of 3 vectors (on A and B's atoms), a model of 2 layers and 2
// inferences logged against it.
Known KnownTraffic(Client& client) {
  const std::string a = "the status page counts this sentence three times";
  const std::string b = "and this one once";
  Known known;
  known.logical_bytes = 3 * a.size() + b.size();
  known.unique_bytes = a.size() + b.size();
  std::vector<uint64_t> ids;
  for (const std::string* content : {&a, &a, &a, &b}) {
    v1::IngestAtomResponse response;
    REQUIRE(client.IngestAtom(TextAtom(*content), &response).ok());
    ids.push_back(response.atom_id());
  }
  for (int i = 0; i < 4; ++i) {
    v1::Atom atom;
    REQUIRE(client.GetAtom(ids.back() + 1000 + i, false, &atom).error_code() ==
            grpc::StatusCode::NOT_FOUND);
  }
  v1::CreateCollectionRequest create;
  create.set_name("status-vectors");
  create.mutable_spec()->set_embedding_type("text");
  create.mutable_spec()->set_dimension(4);
  create.mutable_spec()->set_metric(v1::METRIC_L2);
  v1::Collection collection;
  REQUIRE(client.CreateCollection(create, &collection).ok());
  std::vector<v1::EmbeddingInput> inputs;
  for (int i = 0; i < 2; ++i) {
    v1::EmbeddingInput input;
    input.set_atom_id(ids[i == 0 ? 0 : 3]);
    for (int d = 0; d < 4; ++d) input.add_vector(static_cast<float>(i * 4 + d));
    inputs.push_back(input);
  }
  v1::AddEmbeddingsResponse added;
  REQUIRE(client.AddEmbeddings("status-vectors", nullptr, inputs, &added).ok());
  v1::CreateModelRequest model;
  model.mutable_model()->set_model_name(known.model_name);
  model.mutable_model()->set_model_type("transformer");
  for (uint32_t i = 0; i < 2; ++i) {
    v1::ModelLayer* layer = model.add_layers();
    layer->set_layer_idx(i);
    layer->set_layer_name("blk." + std::to_string(i) + ".weight");
    layer->add_tensor_shape(8);
    layer->add_tensor_shape(16);
    layer->set_tensor_dtype("F32");
  }
  v1::Model created;
  REQUIRE(client.CreateModel(model, &created).ok());
  for (int i = 0; i < 2; ++i) {
    v1::LogInferenceRequest log;
    log.set_model_name(known.model_name);
    log.set_task_type("status-check");
    log.set_duration_ms(5 + i);
    v1::LogInferenceResponse logged;
    REQUIRE(client.LogInference(log, &logged).ok());
  }
  return known;
}

// data-value of the element with id `id` in an HTML document; nullopt when
// absent.
std::optional<std::string> DataValue(const std::string& html, const std::string& id) {
  const std::regex re("id=\"" + id + "\" data-value=\"([^\"]*)\"");
  std::smatch m;
  if (!std::regex_search(html, m, re)) return std::nullopt;
  return m[1].str();
}

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgba;  // width * height * 4
  std::array<uint8_t, 3> At(uint32_t x, uint32_t y) const {
    const size_t i = (static_cast<size_t>(y) * width + x) * 4;
    return {rgba[i], rgba[i + 1], rgba[i + 2]};
  }
};

Image ReadPng(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
  image.format = PNG_FORMAT_RGBA;
  Image out;
  out.width = image.width;
  out.height = image.height;
  out.rgba.resize(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, out.rgba.data(), 0, nullptr) != 0);
  return out;
}

ProcessResult Chromium(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--hide-scrollbars"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

}  // namespace

TEST_CASE("status.json reports known traffic", "[status]") {
  Daemon daemon(WithMetricsPort());
  const Known known = KnownTraffic(daemon.client());
  const HttpReply reply = HttpGet(MetricsAddress(daemon), "/status.json");
  REQUIRE(reply.status == 200);
  CHECK(reply.content_type == "application/json");
  const auto json = nlohmann::json::parse(reply.body);
  CHECK(json["state"] == "serving");
  CHECK(json["state_reason"] == "");
  const auto& total = json["atoms"]["total"];
  CHECK(total["atoms"] == 2);
  CHECK(total["references"] == 4);
  CHECK(total["logical_bytes"] == known.logical_bytes);
  CHECK(total["unique_bytes"] == known.unique_bytes);
  CHECK(json["atoms"]["dedup_saved_bytes"] == known.logical_bytes - known.unique_bytes);
  REQUIRE(json["collections"]["loaded"] == true);
  REQUIRE(json["collections"]["list"].size() == 1);
  CHECK(json["collections"]["list"][0]["name"] == "status-vectors");
  CHECK(json["collections"]["list"][0]["vectors"] == 2);
  CHECK(json["collections"]["list"][0]["dimension"] == 4);
  CHECK(json["models"]["count"] == 1);
  REQUIRE(json["models"]["list"].size() == 1);
  CHECK(json["models"]["list"][0]["name"] == known.model_name);
  CHECK(json["models"]["list"][0]["layers"] == 2);
  CHECK(json["models"]["list"][0]["parameters"] == 2 * 8 * 16);
  CHECK(json["models"]["list"][0]["usage_count"] == 2);
  CHECK(json["inference_logs"] == 2);
  // The storage numbers are GetServerStats'.
  v1::ServerStats stats;
  REQUIRE(daemon.client().GetServerStats(&stats).ok());
  CHECK(json["storage"]["map_size_bytes"] == stats.map_size_bytes());
  CHECK(json["storage"]["used_bytes"] > 0);
  // RPCs by method since the start (the first sample's interval).
  std::map<std::string, nlohmann::json> methods;
  for (const auto& m : json["rpc"]["methods"]) methods[m["method"]] = m;
  const auto& ingest = methods["/hartonomous.v1.AtomService/IngestAtom"];
  CHECK(ingest["calls"] == 4);
  CHECK(ingest["errors"] == 0);
  const auto& get = methods["/hartonomous.v1.AtomService/GetAtom"];
  CHECK(get["calls"] == 4);
  CHECK(get["errors"] == 4);
  CHECK(methods["/hartonomous.v1.InferenceService/LogInference"]["calls"] == 2);
  CHECK(json["rpc"]["interval_seconds"] > 0);
  // The next read, within the first minute, is still over the time since
  // the start: the same calls, and the GetStats above.
  const auto again = nlohmann::json::parse(HttpGet(MetricsAddress(daemon), "/status.json").body);
  REQUIRE(again["uptime_seconds"] < 60);
  std::map<std::string, uint64_t> before, after;
  for (const auto& m : json["rpc"]["methods"]) before[m["method"]] = m["calls"];
  for (const auto& m : again["rpc"]["methods"]) after[m["method"]] = m["calls"];
  ++before["/hartonomous.v1.AdminService/GetStats"];
  CHECK(after == before);
  CHECK(again["rpc"]["interval_seconds"] >= json["rpc"]["interval_seconds"]);
}

TEST_CASE("headless Chromium renders the status page with the daemon's numbers", "[status]") {
  REQUIRE(std::filesystem::exists(kChromium));
  Daemon daemon(WithMetricsPort());
  const Known known = KnownTraffic(daemon.client());
  const std::string url = "http://" + MetricsAddress(daemon) + "/status";
  // The DOM once the page's script has run: it fetches the page again
  // (virtual time lets its 5 s timer fire too) and swaps the report in.
  const ProcessResult dom = Chromium({"--virtual-time-budget=12000", "--dump-dom", url});
  INFO(dom.err.substr(0, 2000));
  REQUIRE(dom.exit_code == 0);
  const std::string& html = dom.out;
  const std::regex refreshed("<body[^>]* data-refreshes=\"([0-9]+)\"");
  std::smatch m;
  REQUIRE(std::regex_search(html, m, refreshed));
  CHECK(std::stoi(m[1].str()) >= 1);
  CHECK(html.find("id=\"live\" class=\"live\"") != std::string::npos);
  CHECK(DataValue(html, "state") == "serving");
  CHECK(DataValue(html, "atoms-total-atoms") == "2");
  CHECK(DataValue(html, "atoms-total-logical-bytes") == std::to_string(known.logical_bytes));
  CHECK(DataValue(html, "atoms-total-unique-bytes") == std::to_string(known.unique_bytes));
  CHECK(DataValue(html, "atoms-dedup-saved-bytes") ==
        std::to_string(known.logical_bytes - known.unique_bytes));
  CHECK(DataValue(html, "collection-0-vectors") == "2");
  CHECK(DataValue(html, "models-count") == "1");
  CHECK(DataValue(html, "model-0-parameters") == std::to_string(2 * 8 * 16));
  CHECK(DataValue(html, "inference-logs") == "2");
  CHECK(html.find("<td>status-vectors</td>") != std::string::npos);
  CHECK(html.find("<td>" + known.model_name + "</td>") != std::string::npos);

  // A screenshot: the header bar, the green "serving" badge and the white
  // cards on the grey page are drawn.
  TempDir dir;
  const std::string shot = dir.path() + "/status.png";
  const ProcessResult taken = Chromium({"--window-size=1280,900", "--screenshot=" + shot, url});
  INFO(taken.err.substr(0, 2000));
  REQUIRE(taken.exit_code == 0);
  const Image image = ReadPng(shot);
  REQUIRE(image.width == 1280);
  REQUIRE(image.height == 900);
  using Rgb = std::array<uint8_t, 3>;
  const Rgb header = {0x1d, 0x24, 0x33}, badge = {0x2e, 0x9e, 0x5b}, page = {0xf4, 0xf6, 0xfa},
            card = {0xff, 0xff, 0xff};
  CHECK(image.At(2, 2) == header);
  std::map<Rgb, size_t> pixels;
  for (uint32_t y = 0; y < image.height; ++y) {
    for (uint32_t x = 0; x < image.width; ++x) ++pixels[image.At(x, y)];
  }
  const size_t all = size_t{image.width} * image.height;
  CHECK(pixels[header] > all / 100);  // the header bar
  CHECK(pixels[badge] > 100);         // the serving badge
  CHECK(pixels[page] > all / 20);     // the page between the cards
  CHECK(pixels[card] > all / 10);     // the cards
  CHECK(pixels.size() > 50);          // text is anti-aliased: many shades
}
