#include "server/engine/documents/decompose/text_decomposer.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "tests/unit/engine/documents/decompose/decompose_test_util.h"
#include "server/engine/documents/decompose/part_budget.h"

namespace hartonomous::engine {
namespace {

using testing::FlattenPart;
using testing::RoundTrip;

std::string RandomText(std::mt19937_64& rng, size_t pieces) {
  static const std::vector<std::string> kAlphabet = {
      "a", "b",   "Z",  " ", "  ", "\t",   "\n", "\n\n", "\r\n", "\r\n\r\n", "\r", ".", "!",
      "?", "...", "\"", ")", "é",  "日本", "😀",  "ß.",   " \n",  "0",        ",",  "\f"};
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
  for (const std::string& text :
       {std::string(), std::string("x"), std::string("\n"), std::string("no trailing newline."),
        std::string("a\r\nb\r\n"), std::string("\n\n\nlead"), std::string("trail  \n\n  \n")}) {
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
  // A one-sentence paragraph is a leaf: the paragraph is its sentence.
  CHECK_FALSE(d->parts[2].composite);
  CHECK(d->parts[2].children.empty());
  CHECK(d->parts[2].content == "Second para");
  CHECK(d->parts[0].composite);
  CHECK(d->info["paragraphs"] == 2);
  CHECK(d->info["sentences"] == 5);
}

TEST_CASE("text rejects invalid UTF-8 naming the offset", "[text]") {
  for (const std::string& bad :
       {std::string("ok\xC0\xAF"), std::string("ok\xED\xA0\x80"), std::string("ok\xF4\x90\x80\x80"),
        std::string("ok\xE6\x97"), std::string("ok\x80")}) {
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

TEST_CASE("text may decompose into at most the part budget, counted before the parts exist",
          "[text][limits]") {
  // One paragraph of n two-byte sentences is 1 + n parts for 2n bytes.
  auto fits = [](size_t n) { return 1 + n <= PartBudget(2 * n).limit(); };
  size_t largest = 1;
  while (fits(largest + 1)) ++largest;
  std::string at_limit;
  for (size_t i = 0; i < largest; ++i) at_limit += ". ";
  auto d = DecomposeText(at_limit, {});
  REQUIRE(d.ok());
  CHECK(d->parts.size() == 1);
  CHECK(d->parts[0].children.size() == largest);
  REQUIRE(*RoundTrip(*d) == at_limit);

  auto over = DecomposeText(at_limit + ". ", {});
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Status::Code::kInvalidArgument);
  const std::string limit = std::to_string(PartBudget(at_limit.size() + 2).limit());
  CHECK(over.status().message().find("content: the document decomposes into more than " + limit +
                                     " parts") == 0);

  // Megabytes of ". " (the shape that once took 300 bytes of memory per
  // input byte) are refused; separators count as parts too.
  std::string dots;
  for (int i = 0; i < (1 << 20); ++i) dots += ". ";
  CHECK(DecomposeText(dots, {}).status().code() == Status::Code::kInvalidArgument);
  std::string blank_runs;
  for (int i = 0; i < (1 << 18); ++i) blank_runs += "a\n\n";
  CHECK(DecomposeText(blank_runs, {}).status().message().find("parts") != std::string::npos);
}

TEST_CASE("real text stays far inside the part budget", "[text][limits][realdata]") {
  for (const char* name : {"GPL-3", "Apache-2.0", "Artistic", "MPL-2.0"}) {
    const std::string text = ReadFile(std::string("/usr/share/common-licenses/") + name);
    auto d = DecomposeText(text, {});
    REQUIRE(d.ok());
    size_t parts = d->parts.size();
    for (const auto& p : d->parts) parts += p.children.size();
    // Prose averages several times the minimum bytes per part.
    CHECK(parts * PartBudget::kMinBytesPerPart * 2 < text.size());
  }
}

}  // namespace
}  // namespace hartonomous::engine
