#include "base/json_limits.h"

#include <pthread.h>

#include <catch2/catch.hpp>
#include <string>

using namespace hartonomous;

namespace {

// n arrays, one inside the other: [[[...]]]
std::string Nested(size_t n, char open = '[', char close = ']') {
  return std::string(n, open) + std::string(n, close);
}

// n objects, one inside the other: {"a":{"a":...{}}}
std::string NestedObjects(size_t n) {
  std::string s;
  for (size_t i = 1; i < n; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(n - 1, '}');
  return s;
}

// Runs ParseJson on a thread whose whole stack is `stack_bytes`: a parser
// that recursed once per level would run off it and crash the test binary.
Status ParseOnSmallStack(const std::string& text, size_t stack_bytes) {
  struct Call {
    const std::string* text;
    Status status;
  } call{&text, Status::Ok()};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, stack_bytes) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(
              &thread, &attr,
              [](void* p) -> void* {
                auto* c = static_cast<Call*>(p);
                c->status = ParseJson("metadata", *c->text).status();
                return nullptr;
              },
              &call) == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attr);
  return call.status;
}

}  // namespace

TEST_CASE("JSON nested exactly kMaxJsonDepth levels parses") {
  auto arrays = ParseJson("metadata", Nested(kMaxJsonDepth));
  REQUIRE(arrays.ok());
  CHECK(arrays->is_array());
  auto objects = ParseJson("metadata", NestedObjects(kMaxJsonDepth));
  REQUIRE(objects.ok());
  CHECK(objects->is_object());
  // The value round-trips: the DOM is whole, not cut at the limit.
  CHECK(objects->dump() == NestedObjects(kMaxJsonDepth));
  CHECK(ParseOrderedJson("metadata", NestedObjects(kMaxJsonDepth)).ok());
}

TEST_CASE("JSON one level deeper than kMaxJsonDepth names the field and the limit") {
  for (const std::string& text : {Nested(kMaxJsonDepth + 1), NestedObjects(kMaxJsonDepth + 1)}) {
    auto r = ParseJson("atoms[2].metadata", text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK(r.status().message() == "atoms[2].metadata: JSON nested deeper than 64 levels");
    CHECK_FALSE(ParseOrderedJson("metadata", text).ok());
  }
}

TEST_CASE("JSON depth counts open containers, not total containers") {
  // Many siblings at depth 2 are fine.
  std::string wide = "[";
  for (int i = 0; i < 10000; ++i) wide += (i ? ",[]" : "[]");
  wide += "]";
  CHECK(ParseJson("f", wide).ok());
  // Closing and reopening does not accumulate depth.
  CHECK(
      ParseJson("f", "[" + Nested(kMaxJsonDepth - 1) + "," + Nested(kMaxJsonDepth - 1) + "]").ok());
}

TEST_CASE("JSON nested 100,000 levels is refused without recursion") {
  // 128 KiB of stack: enough for the bounded parse, far too little for a
  // recursive one (100,000 frames).
  Status s = ParseOnSmallStack(Nested(100000), size_t{128} << 10);
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message() == "metadata: JSON nested deeper than 64 levels");
  s = ParseOnSmallStack(NestedObjects(100000), size_t{128} << 10);
  CHECK(s.message() == "metadata: JSON nested deeper than 64 levels");
  // The depth is refused before the rest is read: even unterminated text
  // reports the depth, not a syntax error.
  s = ParseOnSmallStack(std::string(100000, '['), size_t{128} << 10);
  CHECK(s.message() == "metadata: JSON nested deeper than 64 levels");
}

TEST_CASE("brackets inside JSON strings do not count as nesting") {
  const std::string deep_string = "{\"k\":\"" + Nested(1000) + Nested(1000, '{', '}') + "\"}";
  auto r = ParseJson("metadata", deep_string);
  REQUIRE(r.ok());
  CHECK((*r)["k"].get<std::string>().size() == 4000);
  // Escaped quotes do not end the string early.
  auto esc = ParseJson("metadata", R"({"k":"\"[[[[\\\"{{{{"})");
  REQUIRE(esc.ok());
  CHECK((*esc)["k"].get<std::string>() == R"("[[[[\"{{{{)");
  // A key holding brackets.
  CHECK(ParseJson("metadata", "{\"" + Nested(200) + "\":1}").ok());
}

TEST_CASE("malformed JSON is InvalidArgument naming the field") {
  for (const char* text : {"", "{", "{\"a\":}", "[1,2", "{} {}", "nul", "{\"a\":1,}", "\"\\x\"",
                           "1e999", "{'a':1}", "[1] x", "\xff"}) {
    CAPTURE(text);
    auto r = ParseJson("policy.metadata", text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalidArgument);
    CHECK(r.status().message().rfind("policy.metadata: must be valid JSON text", 0) == 0);
  }
  // Unbalanced closers past the limit are a syntax error, not a depth error.
  CHECK(ParseJson("f", std::string(100, ']')).status().message().find("nested") ==
        std::string::npos);
}

TEST_CASE("scalars and a custom depth limit") {
  CHECK(ParseJson("f", "42").ok());
  CHECK(ParseJson("f", "\"s\"").ok());
  CHECK(ParseJson("f", "[]", 0).status().message() == "f: JSON nested deeper than 0 levels");
  CHECK(ParseJson("f", "7", 0).ok());
  CHECK(ParseJson("f", Nested(3), 3).ok());
  CHECK(ParseJson("f", Nested(4), 3).status().message() == "f: JSON nested deeper than 3 levels");
}
