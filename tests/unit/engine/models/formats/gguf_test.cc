#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "server/engine/models/formats/ggml_type.h"
#include "server/engine/models/formats/gguf_reader.h"
#include "server/engine/models/formats/gguf_writer.h"
#include "tests/unit/engine/models/formats/format_test_util.h"

namespace hartonomous::engine::models {
namespace {

using testing::RandomBytes;
using testing::RequireInvalid;
using testing::RequireRoundTrip;
using T = GgufValueType;

// Hand-made GGUF bytes for the refusal tests.
struct Bytes {
  std::string s;
  Bytes& U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  Bytes& U64(uint64_t v) {
    s += testing::Le64(v);
    return *this;
  }
  Bytes& Str(std::string_view t) {
    U64(t.size());
    s += t;
    return *this;
  }
  Bytes& Raw(std::string_view t) {
    s += t;
    return *this;
  }
};

Bytes Preamble(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
  Bytes b;
  b.Raw("GGUF").U32(version).U64(tensors).U64(kvs);
  return b;
}

std::vector<GgufKvSpec> EveryKvType() {
  std::string u16s;
  for (uint16_t v : {1, 300, 65535}) {
    u16s.push_back(static_cast<char>(v & 0xff));
    u16s.push_back(static_cast<char>(v >> 8));
  }
  return {
      {"general.architecture", GgufValue::String("llama")},
      {"t.u8", GgufValue::Scalar(T::kUint8, 200)},
      {"t.i8", GgufValue::Scalar(T::kInt8, static_cast<uint8_t>(-5))},
      {"t.u16", GgufValue::Scalar(T::kUint16, 65000)},
      {"t.i16", GgufValue::Scalar(T::kInt16, static_cast<uint16_t>(-300))},
      {"t.u32", GgufValue::Scalar(T::kUint32, 4000000000u)},
      {"t.i32", GgufValue::Scalar(T::kInt32, static_cast<uint32_t>(-70000))},
      {"t.f32", GgufValue::Float32(1.5f)},
      {"t.bool", GgufValue::Scalar(T::kBool, 1)},
      {"t.u64", GgufValue::Scalar(T::kUint64, 1ull << 40)},
      {"t.i64", GgufValue::Scalar(T::kInt64, static_cast<uint64_t>(-1))},
      {"t.f64", GgufValue::Float64(-2.25)},
      {"t.empty_string", GgufValue::String("")},
      {"t.array_u16", GgufValue::ScalarArray(T::kUint16, u16s, 3)},
      {"t.array_bool", GgufValue::ScalarArray(T::kBool, std::string("\x01\x00\x01", 3), 3)},
      {"t.array_empty", GgufValue::ScalarArray(T::kFloat64, "", 0)},
      {"tokenizer.ggml.tokens", GgufValue::StringArray({"<s>", "", "caf\xc3\xa9", "</s>"})},
      {"t.nested", GgufValue::ArrayOfArrays(
                       {GgufValue::StringArray({"a", "bc"}),
                        GgufValue::ArrayOfArrays({GgufValue::ScalarArray(T::kInt8, "\x7f", 1)}),
                        GgufValue::ScalarArray(T::kUint32, "", 0)})},
      {"general.alignment", GgufValue::Scalar(T::kUint32, 64)},
  };
}

TEST_CASE("ggml type table matches ggml's block layouts", "[gguf]") {
  REQUIRE(AllGgmlTypes().size() == 32);
  REQUIRE(FindGgmlType(kGgmlQ4_0)->type_size == 18);
  REQUIRE(FindGgmlType(kGgmlQ8_0)->type_size == 34);
  REQUIRE(FindGgmlTypeByName("Q6_K")->type_size == 210);
  REQUIRE(FindGgmlTypeByName("Q6_K")->block_size == 256);
  REQUIRE(FindGgmlTypeByName("IQ4_XS")->type_size == 136);
  REQUIRE(FindGgmlTypeByName("TQ1_0")->type_size == 54);
  REQUIRE(FindGgmlTypeByName("BF16")->id == 30);
  REQUIRE(FindGgmlType(4) == nullptr);
  REQUIRE(FindGgmlType(31) == nullptr);
  REQUIRE(FindGgmlType(40) == nullptr);
}

TEST_CASE("gguf round trip with every KV type and every ggml type", "[gguf]") {
  for (uint32_t version : {2u, 3u}) {
    std::mt19937_64 rng(version);
    std::vector<GgufTensorSpec> specs;
    std::vector<std::string> data;
    for (const GgmlType& t : AllGgmlTypes()) {
      specs.push_back({"blk.0." + std::string(t.name) + ".weight", t.id, {t.block_size * 2, 3}});
      data.push_back(RandomBytes(rng, uint64_t{t.type_size} * 2 * 3));
    }
    specs.push_back({"output_norm.weight", kGgmlF32, {5}});
    data.push_back(RandomBytes(rng, 20));
    std::vector<std::string_view> views(data.begin(), data.end());
    const auto kvs = EveryKvType();
    auto file = WriteGguf(kvs, specs, views, version);
    REQUIRE(file.ok());
    auto h = ScanGguf(*file, file->size());
    REQUIRE(h.ok());
    REQUIRE(h->scan.complete());
    REQUIRE(h->version == version);
    REQUIRE(h->alignment == 64);
    RequireRoundTrip(h->scan.layout, *file);
    REQUIRE(h->metadata.size() == kvs.size());
    for (size_t i = 0; i < kvs.size(); ++i) {
      INFO(kvs[i].key);
      REQUIRE(h->metadata[i].key == kvs[i].key);
      REQUIRE(h->metadata[i].value == kvs[i].value);
    }
    REQUIRE(*h->metadata[1].value.AsUnsigned() == 200);
    REQUIRE_FALSE(h->metadata[2].value.AsUnsigned());
    REQUIRE(*h->metadata[11].value.AsDouble() == -2.25);
    REQUIRE(h->metadata[16].value.StringAt(2) == "caf\xc3\xa9");
    const auto& tensors = h->scan.layout.tensors;
    REQUIRE(tensors.size() == specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      REQUIRE(tensors[i].name == specs[i].name);
      REQUIRE(tensors[i].shape == specs[i].dims);
      REQUIRE(tensors[i].offset % 64 == 0);
      REQUIRE(file->substr(tensors[i].offset, tensors[i].length) == data[i]);
      REQUIRE(h->ggml_types[i] == specs[i].ggml_type);
    }
    REQUIRE(tensors.back().layer_type == LayerType::kNorm);
    REQUIRE(tensors.back().parameter_count == 5);
    REQUIRE(tensors[0].dtype == "F32");
  }
}

TEST_CASE("gguf is parsed from a growing prefix and needs only the header", "[gguf]") {
  std::vector<std::string> tokens;
  for (int i = 0; i < 5000; ++i) tokens.push_back("token" + std::to_string(i));
  const std::string w(32 * 4, 'w');
  auto file = WriteGguf({{"tokenizer.ggml.tokens", GgufValue::StringArray(tokens)}},
                        {{"token_embd.weight", kGgmlF32, {32}}, {"x", kGgmlQ8_0, {32}}},
                        {w, std::string(34, 'q')});
  REQUIRE(file.ok());
  uint64_t have = 16;
  int rounds = 0;
  Result<GgufHeader> h = ScanGguf(std::string_view(*file).substr(0, have), std::nullopt);
  while (h.ok() && !h->scan.complete()) {
    REQUIRE(h->scan.need_bytes > have);
    have = std::min<uint64_t>(h->scan.need_bytes, file->size());
    h = ScanGguf(std::string_view(*file).substr(0, have), std::nullopt);
    REQUIRE(++rounds < 20);
  }
  REQUIRE(h.ok());
  REQUIRE(h->scan.layout.header_bytes <= have);
  REQUIRE(h->scan.layout.header_bytes < file->size());
  ModelLayout layout = h->scan.layout;
  REQUIRE(FinishLayout(&layout, file->size()).ok());
  RequireRoundTrip(layout, *file);
  REQUIRE(layout.tensors[0].layer_type == LayerType::kEmbedding);
  // Only the header's bytes are needed, not the data.
  GgufOptions small;
  small.max_header_bytes = 1024;
  RequireInvalid(ScanGguf(*file, file->size(), small).status(), {"header", "limit of 1024"});
}

TEST_CASE("gguf with one changed metadata value keeps every tensor segment", "[gguf]") {
  const std::string w(64 * 4, 'w');
  auto a = WriteGguf({{"general.name", GgufValue::String("base")}},
                     {{"blk.0.ffn_up.weight", kGgmlF32, {64}}}, {w});
  auto b = WriteGguf({{"general.name", GgufValue::String("base, renamed")}},
                     {{"blk.0.ffn_up.weight", kGgmlF32, {64}}}, {w});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto ha = ScanGguf(*a, a->size());
  auto hb = ScanGguf(*b, b->size());
  REQUIRE(ha.ok());
  REQUIRE(hb.ok());
  REQUIRE(ha->metadata[0].value != hb->metadata[0].value);
  const TensorInfo& ta = ha->scan.layout.tensors[0];
  const TensorInfo& tb = hb->scan.layout.tensors[0];
  REQUIRE(a->substr(ta.offset, ta.length) == b->substr(tb.offset, tb.length));
  REQUIRE(ha->metadata[0].length != hb->metadata[0].length);
}

TEST_CASE("gguf refuses each broken rule naming the field", "[gguf]") {
  struct Case {
    const char* what;
    std::string file;
    std::vector<std::string_view> needles;
  };
  auto tensor = [](Bytes b, std::string_view name, std::vector<uint64_t> dims, uint32_t type,
                   uint64_t offset) {
    b.Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) b.U64(d);
    b.U32(type).U64(offset);
    return b;
  };
  auto pad = [](Bytes b, size_t a = 32) {
    b.s.append((a - b.s.size() % a) % a, '\0');
    return b;
  };
  std::vector<Case> cases = {
      {"bad magic", Bytes{}.Raw("GGUG").U32(3).U64(0).U64(0).s, {"magic"}},
      {"version 1", Preamble(0, 0, 1).s, {"version", "1 is not supported"}},
      {"big endian",
       Bytes{}.Raw("GGUF").Raw(std::string("\0\0\0\3", 4)).U64(0).U64(0).s,
       {"version"}},
      {"truncated counts", Bytes{}.Raw("GGUF").U32(3).U64(0).s, {"metadata_kv_count", "truncated"}},
      {"kv count beyond bytes", Preamble(0, 1000).s, {"metadata_kv_count", "beyond the remaining"}},
      {"tensor count beyond bytes", Preamble(1000000, 0).s, {"tensor_count", "beyond"}},
      {"string beyond bytes",
       Preamble(0, 1).U64(1000).Raw("k").Raw(std::string(20, 'x')).s,
       {"metadata[0].key", "length 1000 beyond the remaining"}},
      {"unknown value type",
       Preamble(0, 1).Str("k").U32(13).s,
       {"metadata \"k\"", "unknown value type 13"}},
      {"array count beyond bytes",
       Preamble(0, 1).Str("k").U32(9).U32(4).U64(1000).U32(1).s,
       {"metadata \"k\"", "length 1000 beyond"}},
      {"string array count beyond bytes",
       Preamble(0, 1).Str("k").U32(9).U32(8).U64(1ull << 61).s,
       {"metadata \"k\"", "beyond"}},
      {"string element beyond bytes",
       Preamble(0, 1).Str("k").U32(9).U32(8).U64(1).U64(99).Raw("ab").s,
       {"metadata \"k\"[0]", "beyond"}},
      {"unknown element type",
       Preamble(0, 1).Str("k").U32(9).U32(77).U64(0).s,
       {"metadata \"k\"", "unknown array element type 77"}},
      {"arrays too deep",
       [] {
         Bytes b = Preamble(0, 1).Str("k").U32(9);
         for (int i = 0; i < 9; ++i) b.U32(9).U64(1);
         b.U32(4).U64(0);
         return b.s;
       }(),
       {"metadata \"k\"", "nested deeper than 8"}},
      {"bool not 0/1", Preamble(0, 1).Str("k").U32(7).Raw("\x02").s, {"metadata \"k\"", "bool"}},
      {"duplicate key",
       Preamble(0, 2).Str("k").U32(0).Raw("a").Str("k").U32(0).Raw("b").s,
       {"metadata \"k\"", "duplicate key"}},
      {"alignment not pow2",
       Preamble(0, 1).Str("general.alignment").U32(4).U32(48).s,
       {"general.alignment", "48 is not a power of two"}},
      {"alignment zero",
       Preamble(0, 1).Str("general.alignment").U32(4).U32(0).s,
       {"general.alignment", "power of two"}},
      {"alignment not u32",
       Preamble(0, 1).Str("general.alignment").U32(10).U64(32).s,
       {"general.alignment", "must be a u32"}},
      {"dimension 0",
       tensor(Preamble(1, 0), "w", {0}, 0, 0).s,
       {"tensor \"w\" dims[0]", "dimension 0"}},
      {"rank over cap",
       tensor(Preamble(1, 0), "w", {1, 1, 1, 1, 1}, 0, 0).s,
       {"tensor \"w\"", "rank 5 over the cap of 4"}},
      {"unknown ggml type",
       pad(tensor(Preamble(1, 0), "w", {1}, 4, 0)).s,
       {"tensor \"w\"", "unknown ggml type 4"}},
      {"block size",
       pad(tensor(Preamble(1, 0), "w", {31}, kGgmlQ4_0, 0)).s,
       {"tensor \"w\"", "not a multiple of the Q4_0 block size 32"}},
      {"size overflow",
       pad(tensor(Preamble(1, 0), "w", {1ull << 40, 1ull << 40}, kGgmlF32, 0)).s,
       {"tensor \"w\"", "overflows"}},
      {"empty name", tensor(Preamble(1, 0), "", {1}, 0, 0).s, {"tensor_info[0]", "empty name"}},
      {"duplicate name",
       tensor(tensor(Preamble(2, 0), "w", {1}, 0, 0), "w", {1}, 0, 32).s,
       {"tensor \"w\"", "duplicate tensor name"}},
      {"unaligned offset",
       pad(tensor(Preamble(1, 0), "w", {1}, 0, 4)).s + "abcdefgh",
       {"tensor \"w\"", "not a multiple of the alignment 32"}},
      {"gap",
       pad(tensor(Preamble(1, 0), "w", {1}, 0, 32)).s + std::string(36, 'x'),
       {"tensor \"w\"", "leaves a gap"}},
      {"alias",
       pad(tensor(tensor(Preamble(2, 0), "a", {1}, 0, 0), "b", {1}, 0, 0)).s + "abcd",
       {"tensor \"b\"", "aliases tensor \"a\""}},
      {"overlap",
       pad(tensor(tensor(Preamble(2, 0), "a", {16}, 0, 0), "b", {1}, 0, 32)).s +
           std::string(68, 'x'),
       {"tensor \"b\"", "overlaps tensor \"a\""}},
      {"past end",
       pad(tensor(Preamble(1, 0), "w", {4}, 0, 0)).s + "abcd",
       {"tensor \"w\"", "past the end"}},
      {"trailing bytes",
       pad(tensor(Preamble(1, 0), "w", {1}, 0, 0)).s + std::string(40, 'x'),
       {"file", "36 trailing bytes"}},
      {"truncated tensor info",
       Preamble(1, 0).Str("w").U32(2).U64(1).Raw("abcd").s,
       {"tensor \"w\" dims[1]", "truncated"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto h = ScanGguf(c.file, c.file.size());
    REQUIRE_FALSE(h.ok());
    RequireInvalid(h.status(), {});
    for (std::string_view n : c.needles) {
      INFO("expected in message: " << n << " got " << h.status().message());
      CHECK(h.status().message().find(n) != std::string::npos);
    }
  }
}

TEST_CASE("gguf truncated anywhere is refused and never read past the end", "[gguf]") {
  auto file = WriteGguf(EveryKvType(), {{"w", kGgmlQ8_0, {64, 2}}}, {std::string(136, 'q')});
  REQUIRE(file.ok());
  auto whole = ScanGguf(*file, file->size());
  REQUIRE(whole.ok());
  const uint64_t data_end = whole->scan.layout.tensors[0].offset + 136;
  REQUIRE(data_end < file->size());  // the data section is padded to 64
  // Cutting only trailing padding leaves a valid file.
  REQUIRE(ScanGguf(std::string_view(*file).substr(0, data_end), data_end).ok());
  for (size_t cut = 0; cut < data_end; ++cut) {
    const std::string_view prefix = std::string_view(*file).substr(0, cut);
    auto h = ScanGguf(prefix, cut);
    INFO("cut at " << cut);
    REQUIRE_FALSE(h.ok());
    REQUIRE(h.status().code() == Status::Code::kInvalidArgument);
    // Streaming: the same prefix asks for more bytes or is complete.
    auto s = ScanGguf(prefix, std::nullopt);
    REQUIRE(s.ok());
    if (!s->scan.complete()) REQUIRE(s->scan.need_bytes > cut);
  }
}

TEST_CASE("gguf writer refuses bad specs naming them", "[gguf]") {
  RequireInvalid(WriteGguf({}, {{"w", 4, {32}}}, {""}).status(),
                 {"tensor \"w\"", "unknown ggml type"});
  RequireInvalid(WriteGguf({}, {{"w", kGgmlF32, {0}}}, {""}).status(), {"dimension 0"});
  RequireInvalid(WriteGguf({}, {{"w", kGgmlF32, {2}}}, {"abc"}).status(),
                 {"tensor \"w\"", "3 bytes"});
  RequireInvalid(
      WriteGguf({{"general.alignment", GgufValue::Scalar(T::kUint32, 3)}}, {}, {}).status(),
      {"general.alignment", "power of two"});
  RequireInvalid(
      WriteGguf({{"k", GgufValue::String("a")}, {"k", GgufValue::String("b")}}, {}, {}).status(),
      {"metadata \"k\"", "repeated"});
}

}  // namespace
}  // namespace hartonomous::engine::models
