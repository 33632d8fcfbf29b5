#include <catch2/catch.hpp>
#include <random>

#include "server/engine/models/formats/safetensors_dtype.h"
#include "server/engine/models/formats/safetensors_reader.h"
#include "server/engine/models/formats/safetensors_writer.h"
#include "tests/unit/engine/models/formats/format_test_util.h"

namespace hartonomous::engine::models {
namespace {

using testing::RandomBytes;
using testing::RawSafetensors;
using testing::RequireInvalid;
using testing::RequireRoundTrip;

Result<SafetensorsHeader> ScanWhole(std::string_view file, SafetensorsOptions o = {}) {
  return ScanSafetensors(file, file.size(), o);
}

TEST_CASE("safetensors dtype table has the 22 dtypes and their widths", "[safetensors]") {
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F4")) == 4);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F6_E2M3")) == 6);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F6_E3M2")) == 6);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F8_E8M0")) == 8);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F8_E4M3FNUZ")) == 8);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("F8_E5M2FNUZ")) == 8);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("BOOL")) == 8);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("C64")) == 64);
  REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype("BF16")) == 16);
  REQUIRE_FALSE(ParseSafetensorsDtype("f32"));
  REQUIRE_FALSE(ParseSafetensorsDtype("Q4_0"));
  for (int i = 0; i < kSafetensorsDtypeCount; ++i) {
    const auto d = SafetensorsDtypeAt(i);
    REQUIRE(ParseSafetensorsDtype(SafetensorsDtypeName(d)) == d);
  }
}

TEST_CASE("safetensors round trip for every dtype with odd shapes and empty and rank-0 tensors",
          "[safetensors]") {
  std::mt19937_64 rng(12);
  std::vector<SafetensorsTensorSpec> specs;
  std::vector<std::string> data;
  for (int i = 0; i < kSafetensorsDtypeCount; ++i) {
    const auto d = SafetensorsDtypeAt(i);
    const std::string name(SafetensorsDtypeName(d));
    const int bits = SafetensorsDtypeBits(d);
    // Odd shapes whose bit count is whole bytes: 4-bit needs an even count,
    // 6-bit a multiple of 4.
    const uint64_t cols = bits == 4 ? 6 : bits == 6 ? 4 : 7;
    specs.push_back({"model.layers." + name + ".weight", name, {3, cols}});
    specs.push_back({"scalar." + name, name, {}});
    specs.push_back({"empty." + name, name, {0, 5}});
  }
  for (const auto& s : specs) {
    auto n = SafetensorsByteLength("t", s.dtype, s.shape);
    if (!n.ok()) {
      // Rank-0 sub-byte tensors are not whole bytes: leave them out.
      REQUIRE(SafetensorsDtypeBits(*ParseSafetensorsDtype(s.dtype)) < 8);
      continue;
    }
    data.push_back(RandomBytes(rng, *n));
  }
  specs.erase(std::remove_if(specs.begin(), specs.end(),
                             [](const SafetensorsTensorSpec& s) {
                               return !SafetensorsByteLength("t", s.dtype, s.shape).ok();
                             }),
              specs.end());
  REQUIRE(specs.size() == data.size());
  std::vector<std::string_view> views(data.begin(), data.end());
  const std::vector<std::pair<std::string, std::string>> meta = {{"format", "pt"},
                                                                 {"note", "caf\xc3\xa9"}};
  auto file = WriteSafetensors(specs, views, meta);
  REQUIRE(file.ok());
  auto h = ScanWhole(*file);
  REQUIRE(h.ok());
  REQUIRE(h->scan.complete());
  RequireRoundTrip(h->scan.layout, *file);
  REQUIRE(h->metadata == meta);
  REQUIRE(h->scan.layout.tensors.size() == specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorInfo* t = nullptr;
    for (const auto& x : h->scan.layout.tensors) {
      if (x.name == specs[i].name) t = &x;
    }
    REQUIRE(t != nullptr);
    REQUIRE(t->dtype == specs[i].dtype);
    REQUIRE(t->shape == specs[i].shape);
    REQUIRE(file->substr(t->offset, t->length) == data[i]);
    uint64_t count = 1;
    for (uint64_t d : specs[i].shape) count *= d;
    REQUIRE(t->parameter_count == count);
  }
  // Every tensor starts aligned to its element size (wider first).
  for (const auto& t : h->scan.layout.tensors) {
    const int bytes = SafetensorsDtypeBits(*ParseSafetensorsDtype(t.dtype)) / 8;
    if (bytes > 1) REQUIRE((t.offset % bytes) == 0);
  }
}

TEST_CASE("safetensors is parsed from a growing prefix with bounded reads", "[safetensors]") {
  std::mt19937_64 rng(3);
  const std::string w = RandomBytes(rng, 4 * 6 * 4);
  auto file = WriteSafetensors({{"a.weight", "F32", {4, 6}}, {"b", "I8", {3}}},
                               {w, std::string_view("xyz")}, {});
  REQUIRE(file.ok());
  auto first = ScanSafetensors(std::string_view(*file).substr(0, 3), std::nullopt);
  REQUIRE(first.ok());
  REQUIRE(first->scan.need_bytes == 8);
  auto second = ScanSafetensors(std::string_view(*file).substr(0, 8), std::nullopt);
  REQUIRE(second.ok());
  const uint64_t header = second->scan.need_bytes;
  REQUIRE(header > 8);
  REQUIRE(header < file->size());
  auto done = ScanSafetensors(std::string_view(*file).substr(0, header), std::nullopt);
  REQUIRE(done.ok());
  REQUIRE(done->scan.complete());
  ModelLayout layout = done->scan.layout;
  REQUIRE(layout.file_size == file->size());
  RequireInvalid(FinishLayout(&layout, file->size() + 1), {"trailing bytes"});
  RequireInvalid(FinishLayout(&layout, file->size() - 1), {"truncated"});
  REQUIRE(FinishLayout(&layout, file->size()).ok());
  RequireRoundTrip(layout, *file);
  REQUIRE(layout.tensors[0].layer_type == LayerType::kOther);
}

TEST_CASE("safetensors with no tensors and an empty header object", "[safetensors]") {
  const std::string file = RawSafetensors("{}      ", "");
  auto h = ScanWhole(file);
  REQUIRE(h.ok());
  REQUIRE(h->scan.layout.tensors.empty());
  RequireRoundTrip(h->scan.layout, file);
}

struct BadCase {
  const char* what;
  std::string file;
  std::vector<std::string_view> needles;
};

TEST_CASE("safetensors refuses each broken rule naming the field", "[safetensors]") {
  const std::string ok_t = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  std::vector<BadCase> cases = {
      {"truncated length", std::string("\x05\x00\x00", 3), {"header", "truncated"}},
      {"header past end", testing::Le64(100) + "{}", {"header length", "past the end"}},
      {"over the limit", testing::Le64(uint64_t{1} << 40), {"header length", "over the limit"}},
      {"not json", RawSafetensors("{\"t\":", ""), {"header", "not UTF-8 JSON"}},
      {"not utf-8", RawSafetensors("{\"\xff\":1}", ""), {"header", "not UTF-8 JSON"}},
      {"not an object", RawSafetensors("[1,2]", ""), {"header", "must be a JSON object"}},
      {"duplicate key",
       RawSafetensors("{" + ok_t + "," + ok_t + "}", std::string(8, 'x')),
       {"header", "duplicate key \"t\""}},
      {"non-string metadata",
       RawSafetensors(R"({"__metadata__":{"a":1}})", ""),
       {"__metadata__[\"a\"]", "must be a string"}},
      {"metadata not object",
       RawSafetensors(R"({"__metadata__":"x"})", ""),
       {"__metadata__", "must be an object"}},
      {"nested too deep",
       RawSafetensors(R"({"t":{"x":[[1]],"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "a"),
       {"header", "nested deeper"}},
      {"metadata array",
       RawSafetensors(R"({"__metadata__":{"a":["x"]}})", ""),
       {"__metadata__[\"a\"]", "must be a string, got array"}},
      {"duplicate field",
       RawSafetensors(R"({"t":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "a"),
       {"duplicate key \"dtype\""}},
      {"missing dtype",
       RawSafetensors(R"({"t":{"shape":[1],"data_offsets":[0,1]}})", "a"),
       {"tensor \"t\".dtype", "must be a string"}},
      {"tensor not object",
       RawSafetensors(R"({"t":[1]})", ""),
       {"tensor \"t\"", "must be an object"}},
      {"offsets of three",
       RawSafetensors(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", "a"),
       {"tensor \"t\".data_offsets", "[begin, end]"}},
      {"empty name",
       RawSafetensors(R"({"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd"),
       {"empty tensor name"}},
      {"unknown dtype",
       RawSafetensors(R"({"t":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".dtype", "unknown dtype \"F31\""}},
      {"negative dim",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".shape[0]", "negative"}},
      {"float dim",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".shape[0]", "non-negative integer"}},
      {"rank over cap",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,)"
                      R"(1,1,1,1,1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})",
                      "abcd"),
       {"tensor \"t\".shape", "rank over the cap of 32"}},
      {"shape overflow",
       RawSafetensors(
           R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".shape", "overflows"}},
      {"byte size overflow",
       RawSafetensors(
           R"({"t":{"dtype":"F64","shape":[4294967296,1073741824],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".shape", "overflows"}},
      {"sub-byte not whole",
       RawSafetensors(R"({"t":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", "ab"),
       {"tensor \"t\".shape", "not a whole number of bytes"}},
      {"wrong length",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"),
       {"tensor \"t\".data_offsets", "shape x dtype is 8"}},
      {"missing offsets",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1]}})", "abcd"),
       {"tensor \"t\".data_offsets", "must be an array"}},
      {"end before begin",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "abcd"),
       {"tensor \"t\".data_offsets", "end before begin"}},
      {"gap",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", "abcdefgh"),
       {"tensor \"t\".data_offsets", "gap of 4 bytes"}},
      {"overlap",
       RawSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      "abcdefgh"),
       {"tensor \"b\".data_offsets", "overlaps tensor \"a\""}},
      {"alias",
       RawSafetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                      "abcd"),
       {"tensor \"b\".data_offsets", "aliases tensor \"a\""}},
      {"past end",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd"),
       {"tensor \"t\".data_offsets", "past the end"}},
      {"trailing bytes",
       RawSafetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcdef"),
       {"file", "2 trailing bytes"}},
  };
  for (const BadCase& c : cases) {
    INFO(c.what);
    SafetensorsOptions o;
    auto h = ScanWhole(c.file, o);
    REQUIRE_FALSE(h.ok());
    RequireInvalid(h.status(), {});
    for (std::string_view n : c.needles) {
      INFO("expected in message: " << n << " got " << h.status().message());
      CHECK(h.status().message().find(n) != std::string::npos);
    }
  }
}

TEST_CASE("safetensors header limit is configurable", "[safetensors]") {
  const std::string file =
      RawSafetensors(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "z");
  SafetensorsOptions o;
  o.max_header_bytes = 16;
  RequireInvalid(ScanWhole(file, o).status(), {"header length", "over the limit of 16"});
  o.max_header_bytes = 1 << 20;
  REQUIRE(ScanWhole(file, o).ok());
}

TEST_CASE("safetensors writer refuses bad tensors naming them", "[safetensors]") {
  RequireInvalid(WriteSafetensors({{"", "F32", {1}}}, {"abcd"}, {}).status(), {"tensor name"});
  RequireInvalid(
      WriteSafetensors({{"a", "F32", {1}}, {"a", "F32", {1}}}, {"abcd", "abcd"}, {}).status(),
      {"tensor \"a\"", "repeated"});
  RequireInvalid(WriteSafetensors({{"a", "F33", {1}}}, {"abcd"}, {}).status(),
                 {"tensor \"a\"", "unknown dtype"});
  RequireInvalid(WriteSafetensors({{"a", "F32", {2}}}, {"abcd"}, {}).status(),
                 {"tensor \"a\"", "4 bytes of data"});
  RequireInvalid(WriteSafetensors({{"__metadata__", "F32", {1}}}, {"abcd"}, {}).status(),
                 {"reserved"});
  RequireInvalid(WriteSafetensors({{"a", "F32", {1}}}, {"abcd"}, {{"k", "\xff"}}).status(),
                 {"metadata", "UTF-8"});
}

TEST_CASE("safetensors with many tensors round-trips", "[safetensors]") {
  // 20000 keys: the header is parsed and written without per-key scans.
  std::vector<SafetensorsTensorSpec> specs;
  std::vector<std::string_view> data;
  for (int i = 0; i < 20000; ++i) {
    specs.push_back({"model.layers." + std::to_string(i) + ".bias", "U8", {1}});
    data.push_back("x");
  }
  auto file = WriteSafetensors(specs, data, {});
  REQUIRE(file.ok());
  auto h = ScanWhole(*file);
  REQUIRE(h.ok());
  REQUIRE(h->scan.layout.tensors.size() == 20000);
  RequireRoundTrip(h->scan.layout, *file);
}

TEST_CASE("layer types are guessed from tensor names", "[layer_type]") {
  REQUIRE(GuessLayerType("model.embed_tokens.weight") == LayerType::kEmbedding);
  REQUIRE(GuessLayerType("token_embd.weight") == LayerType::kEmbedding);
  REQUIRE(GuessLayerType("model.layers.0.self_attn.q_proj.weight") == LayerType::kAttention);
  REQUIRE(GuessLayerType("blk.0.attn_q.weight") == LayerType::kAttention);
  REQUIRE(GuessLayerType("model.layers.0.mlp.down_proj.weight") == LayerType::kFeedforward);
  REQUIRE(GuessLayerType("blk.3.ffn_up.weight") == LayerType::kFeedforward);
  REQUIRE(GuessLayerType("model.layers.0.input_layernorm.weight") == LayerType::kNorm);
  REQUIRE(GuessLayerType("blk.0.attn_norm.weight") == LayerType::kNorm);
  REQUIRE(GuessLayerType("model.norm.weight") == LayerType::kNorm);
  REQUIRE(GuessLayerType("lm_head.weight") == LayerType::kOther);
  REQUIRE(std::string(LayerTypeName(LayerType::kFeedforward)) == "feedforward");
}

}  // namespace
}  // namespace hartonomous::engine::models
