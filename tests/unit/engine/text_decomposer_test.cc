#include "server/engine/text_decomposer.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "decompose_test_util.h"

namespace hartonomous::engine {
namespace {

using testing::FlattenPart;
using testing::RoundTrip;

std::string RandomText(std::mt19937_64& rng, size_t pieces) {
  static const std::vector<std::string> kAlphabet = {
      "a", "b", "Z", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", ".", "!", "?",
      "...", "\"", ")", "é", "日本", "😀", "ß.", " \n", "0", ",", "\f"};
  std::string out;
  for (size_t i = 0; i < pieces; ++i) out += kAlphabet[rng() % kAlphabet.size()];
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("text round-trips byte for byte on random inputs", "[text]") {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 500; ++iter) {
    const std::string text = RandomText(rng, rng() % 200);
    auto d = DecomposeText(text, {});
    REQUIRE(d.ok());
    auto back = RoundTrip(*d);
    REQUIRE(back.ok());
    REQUIRE(*back == text);
    // Every sentence and separator is valid UTF-8 on its own: cuts never
    // split a multi-byte sequence.
    for (const auto& part : d->parts) {
      REQUIRE(FindInvalidUtf8(FlattenPart(part)) == std::string_view::npos);
      for (const auto& child : part.children) {
        REQUIRE(!child.content.empty());
        REQUIRE(FindInvalidUtf8(child.content) == std::string_view::npos);
      }
    }
  }
}

TEST_CASE("text edge cases", "[text]") {
  for (const std::string& text : {std::string(), std::string("x"), std::string("\n"),
                                 std::string("no trailing newline."), std::string("a\r\nb\r\n"),
                                 std::string("\n\n\nlead"), std::string("trail  \n\n  \n")}) {
    auto d = DecomposeText(text, {});
    REQUIRE(d.ok());
    REQUIRE(*RoundTrip(*d) == text);
  }
  REQUIRE(DecomposeText("", {})->parts.empty());
}

TEST_CASE("text splits paragraphs on blank lines and sentences after terminators", "[text]") {
  const std::string text = "One. Two!  Three?\r\nStill three.\r\n\r\n \t\r\nSecond para";
  auto d = DecomposeText(text, {});
  REQUIRE(d.ok());
  REQUIRE(d->parts.size() == 3);
  CHECK(d->parts[0].subtype == "paragraph");
  CHECK(d->parts[1].subtype == "separator");
  CHECK(d->parts[1].content == "\r\n \t\r\n");
  CHECK(d->parts[2].subtype == "paragraph");
  const auto& s = d->parts[0].children;
  REQUIRE(s.size() == 4);
  CHECK(s[0].content == "One. ");
  CHECK(s[1].content == "Two!  ");
  CHECK(s[2].content == "Three?\r\n");
  CHECK(s[3].content == "Still three.\r\n");
  CHECK(d->parts[2].children.size() == 1);
  CHECK(d->info["paragraphs"] == 2);
}

TEST_CASE("text rejects invalid UTF-8 naming the offset", "[text]") {
  for (const std::string& bad : {std::string("ok\xC0\xAF"), std::string("ok\xED\xA0\x80"),
                                std::string("ok\xF4\x90\x80\x80"), std::string("ok\xE6\x97"),
                                std::string("ok\x80")}) {
    auto d = DecomposeText(bad, {});
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == Status::Code::kInvalidArgument);
    CHECK(d.status().message().find("byte offset 2") != std::string::npos);
  }
}

TEST_CASE("text round-trips the Debian license texts", "[text][realdata]") {
  for (const char* name : {"GPL-3", "Apache-2.0", "Artistic", "MPL-2.0"}) {
    const std::string text = ReadFile(std::string("/usr/share/common-licenses/") + name);
    REQUIRE(!text.empty());
    auto d = DecomposeText(text, {});
    REQUIRE(d.ok());
    CHECK(d->info["paragraphs"].get<int>() > 5);
    REQUIRE(*RoundTrip(*d) == text);
  }
}

}  // namespace
}  // namespace hartonomous::engine
