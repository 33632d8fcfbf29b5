// libFuzzer target for one model-file parser (chosen at build time by
// HT_FUZZ_MODEL_FORMAT: safetensors, gguf or onnx): any input must either
// parse into a layout whose segments rebuild exactly the input, or fail
// with INVALID_ARGUMENT -- never crash, hang, or return another error. For
// the streaming parsers (safetensors, GGUF), reading the same input as a
// growing prefix must reach the same layout or the same refusal.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "server/engine/models/formats/gguf_reader.h"
#include "server/engine/models/formats/onnx_reader.h"
#include "server/engine/models/formats/safetensors_reader.h"

using namespace hartonomous;
using namespace hartonomous::engine::models;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckLayout(const ModelLayout& layout, std::string_view input) {
  Check(ValidateLayout(layout).ok());
  Check(layout.file_size == input.size());
  Check(ConcatenateSegments(layout, input) == input);
}

bool SameSegments(const ModelLayout& a, const ModelLayout& b) {
  if (a.segments.size() != b.segments.size() || a.tensors.size() != b.tensors.size()) return false;
  for (size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].offset != b.segments[i].offset ||
        a.segments[i].length != b.segments[i].length || a.segments[i].kind != b.segments[i].kind) {
      return false;
    }
  }
  return true;
}

// Feeds the parser a growing prefix as a stream would, then closes the
// layout with the input's size. Returns the final status and layout.
template <typename Scan>
Status Stream(std::string_view input, Scan scan, ModelLayout* out) {
  uint64_t have = 0;
  for (int rounds = 0; rounds < 64; ++rounds) {
    auto r = scan(input.substr(0, have));
    if (!r.ok()) return r.status();
    const LayoutScan& s = r->scan;
    if (s.complete()) {
      *out = s.layout;
      return FinishLayout(out, input.size());
    }
    Check(s.need_bytes > have);
    if (s.need_bytes > input.size()) {
      // The parser may ask for more than it needs (GGUF doubles the
      // prefix); the stream ends first.
      if (have == input.size()) return Status::InvalidArgument("truncated");
      have = input.size();
      continue;
    }
    have = s.need_bytes;
  }
  std::abort();  // the prefix at least doubles each round
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string format = HT_FUZZ_MODEL_FORMAT;
  if (format == "onnx") {
    OnnxOptions options;
    options.max_graph_depth = 8;
    auto m = ParseOnnx(input, options);
    if (!m.ok()) {
      Check(m.status().code() == Status::Code::kInvalidArgument);
      return 0;
    }
    CheckLayout(m->layout, input);
    Check(m->details.size() == m->layout.tensors.size());
    for (size_t i = 0; i < m->layout.tensors.size(); ++i) {
      const TensorInfo& t = m->layout.tensors[i];
      const std::string_view v = OnnxTensorValues(*m, i, input);
      if (t.in_file) Check(v.size() == t.length);
    }
    // As ModelImport parses it: external tensors deferred (their files
    // streamed after the model), each with its range and no values.
    options.defer_external = true;
    auto d = ParseOnnx(input, options);
    if (!d.ok()) {
      Check(d.status().code() == Status::Code::kInvalidArgument);
      return 0;
    }
    CheckLayout(d->layout, input);
    Check(d->details.size() == d->layout.tensors.size());
    for (size_t i = 0; i < d->details.size(); ++i) {
      const OnnxTensor& x = d->details[i];
      if (x.external_location.empty()) continue;
      Check(!d->layout.tensors[i].in_file && x.decoded.empty());
      Check(x.external_offset <= std::numeric_limits<uint64_t>::max() - x.external_length);
    }
    return 0;
  }
  Result<ModelLayout> whole = Status::InvalidArgument("unset");
  ModelLayout streamed;
  Status stream_status;
  if (format == "safetensors") {
    SafetensorsOptions options;
    options.max_header_bytes = 1 << 20;
    auto h = ScanSafetensors(input, size, options);
    whole = h.ok() ? Result<ModelLayout>(h->scan.layout) : Result<ModelLayout>(h.status());
    stream_status = Stream(
        input, [&](std::string_view p) { return ScanSafetensors(p, std::nullopt, options); },
        &streamed);
  } else {
    GgufOptions options;
    options.max_header_bytes = 1 << 20;
    auto h = ScanGguf(input, size, options);
    whole = h.ok() ? Result<ModelLayout>(h->scan.layout) : Result<ModelLayout>(h.status());
    stream_status = Stream(
        input, [&](std::string_view p) { return ScanGguf(p, std::nullopt, options); }, &streamed);
  }
  if (!whole.ok()) {
    Check(whole.status().code() == Status::Code::kInvalidArgument);
    Check(!stream_status.ok());
    Check(stream_status.code() == Status::Code::kInvalidArgument);
    return 0;
  }
  CheckLayout(*whole, input);
  Check(stream_status.ok());
  Check(SameSegments(*whole, streamed));
  return 0;
}
