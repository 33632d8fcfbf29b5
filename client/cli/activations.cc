#include "activations.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/sha256.h"
#include "cli_errors.h"
#include "commands.h"
#include "input_files.h"
#include "json_output.h"
#include "output_file.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;
using json = nlohmann::ordered_json;

std::vector<OptionSpec> ActivationInputOptions() {
  return {{"input", 0, "FILE", "the input whose activation it is: its SHA-256 names it"},
          {"input-hash", 0, "HEX", "the input's SHA-256, 64 hex digits (instead of --input)"}};
}

// The 32 bytes naming the input, from --input or --input-hash.
std::string InputHash(const Invocation& invocation) {
  if (invocation.Has("input") == invocation.Has("input-hash")) {
    throw UsageError("give exactly one of --input FILE or --input-hash HEX");
  }
  Sha256Digest digest;
  if (invocation.Has("input")) {
    digest = Sha256(ReadWholeFile(invocation.Get("input")));
  } else {
    const auto parsed = ParseSha256Hex(invocation.Get("input-hash"));
    if (!parsed) throw UsageError("--input-hash: expects 64 hex digits");
    digest = *parsed;
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string HexOf(const std::string& bytes) {
  Sha256Digest digest{};
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  return ToHex(digest);
}

}  // namespace

std::vector<OptionSpec> ActivationPutOptions() {
  std::vector<OptionSpec> options = ActivationInputOptions();
  options.insert(options.end(),
                 {{"data", 0, "FILE", "the activation's bytes (required; '-' = stdin)"},
                  {"shape", 0, "N,N...", "its shape (the layer's, when the layer has one)"},
                  {"dtype", 0, "T", "its dtype, e.g. F32 (the layer's, when it has one)"},
                  {"compute-ms", 0, "MS", "what computing it took (default 0)"}});
  return options;
}

std::vector<OptionSpec> ActivationGetOptions() {
  std::vector<OptionSpec> options = ActivationInputOptions();
  options.push_back({"output", 'o', "FILE", "write the activation's bytes to FILE ('-' = stdout)"});
  return options;
}

void RunActivationPut(const Invocation& invocation) {
  if (!invocation.Has("data")) throw UsageError("activation put needs --data FILE");
  v1::PutActivationRequest request;
  request.set_layer_id(ParseUint64(invocation.args[0], "layer id"));
  request.set_input_hash(InputHash(invocation));
  request.set_data(ReadWholeFile(invocation.Get("data")));
  const std::string shape = invocation.Get("shape");
  for (size_t start = 0; !shape.empty() && start <= shape.size();) {
    const size_t comma = shape.find(',', start);
    request.add_shape(ParseUint64(shape.substr(start, comma - start), "--shape"));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  request.set_dtype(invocation.Get("dtype"));
  if (invocation.Has("compute-ms")) {
    request.set_compute_time_ms(ParseDouble(invocation.Get("compute-ms"), "--compute-ms"));
  }
  const v1::PutActivationResponse put = Call(invocation, &Client::PutActivation, request);
  if (invocation.global.json) {
    PrintJson(std::cout, json{{"layer_id", request.layer_id()},
                              {"input_hash", HexOf(request.input_hash())},
                              {"bytes", request.data().size()},
                              {"avg_compute_time_ms", put.avg_compute_time_ms()}});
  } else {
    std::cout << "cached " << request.data().size() << " bytes for layer " << request.layer_id()
              << ", input " << HexOf(request.input_hash()) << " (layer average "
              << put.avg_compute_time_ms() << " ms)\n";
  }
}

void RunActivationGet(const Invocation& invocation) {
  v1::GetActivationRequest request;
  request.set_layer_id(ParseUint64(invocation.args[0], "layer id"));
  request.set_input_hash(InputHash(invocation));
  const v1::GetActivationResponse got = Call(invocation, &Client::GetActivation, request);
  if (got.found() && invocation.Has("output")) {
    OutputFile out(invocation.Get("output"));
    out.Write(got.data());
    out.Close();
  }
  if (invocation.global.json) {
    json shape = json::array();
    for (uint64_t d : got.shape()) shape.push_back(d);
    PrintJson(std::cout, json{{"found", got.found()},
                              {"shape", shape},
                              {"dtype", got.dtype()},
                              {"bytes", got.data().size()},
                              {"compute_time_ms", got.compute_time_ms()},
                              {"hits", got.hits()},
                              {"cache_hit_rate", got.cache_hit_rate()}});
  } else if (invocation.Get("output") != "-") {
    if (!got.found()) {
      std::cout << "not cached (layer hit rate " << got.cache_hit_rate() << ")\n";
    } else {
      std::cout << "cached: " << got.data().size() << " bytes, dtype " << got.dtype() << ", "
                << got.hits() << " hits (layer hit rate " << got.cache_hit_rate() << ")\n";
    }
  }
  if (!got.found()) throw Failure("NOT_FOUND: no activation cached for this layer and input");
}

}  // namespace hartonomous::cli
