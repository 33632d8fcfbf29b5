// AtomFilter: one predicate for listing and search filters; each field
// narrows, is_active is three-valued, created_* is a half-open range, and
// metadata compares strings as text and other values as compact JSON.
#include "server/engine/atoms/atom_filter.h"

#include <catch2/catch.hpp>
#include <string>

namespace hartonomous::engine {
namespace {

storage::AtomRecord Atom(const std::string& metadata = "", bool active = true,
                         int64_t created = 1000) {
  storage::AtomRecord a;
  a.set_atom_id(7);
  a.set_modality("text");
  a.set_subtype("sentence");
  a.set_source_type("web");
  a.set_is_active(active);
  a.set_created_at_us(created);
  a.set_metadata(metadata);
  return a;
}

TEST_CASE("atom filter: an empty filter matches every atom") {
  AtomFilter any;
  CHECK(any.empty());
  CHECK(any.Matches(Atom()));
  CHECK(any.Matches(Atom("", false)));
  AtomFilter active;
  active.is_active = true;
  CHECK_FALSE(active.empty());
}

TEST_CASE("atom filter: modality, subtype and source type must equal when set") {
  AtomFilter f;
  f.modality = "text";
  f.subtype = "sentence";
  f.source_type = "web";
  CHECK(f.Matches(Atom()));
  f.subtype = "title";
  CHECK_FALSE(f.Matches(Atom()));
  f.subtype.clear();
  f.source_type = "file";
  CHECK_FALSE(f.Matches(Atom()));
  f.source_type.clear();
  f.modality = "image";
  CHECK_FALSE(f.Matches(Atom()));
}

TEST_CASE("atom filter: is_active is any, active only or inactive only") {
  AtomFilter f;
  CHECK(f.Matches(Atom("", true)));
  CHECK(f.Matches(Atom("", false)));
  f.is_active = true;
  CHECK(f.Matches(Atom("", true)));
  CHECK_FALSE(f.Matches(Atom("", false)));
  f.is_active = false;
  CHECK_FALSE(f.Matches(Atom("", true)));
  CHECK(f.Matches(Atom("", false)));
}

TEST_CASE("atom filter: created_after is inclusive, created_before exclusive") {
  AtomFilter f;
  f.created_after_us = 1000;
  f.created_before_us = 2000;
  CHECK_FALSE(f.Matches(Atom("", true, 999)));
  CHECK(f.Matches(Atom("", true, 1000)));
  CHECK(f.Matches(Atom("", true, 1999)));
  CHECK_FALSE(f.Matches(Atom("", true, 2000)));
}

TEST_CASE("atom filter: metadata keys compare as text or compact JSON") {
  const std::string metadata = R"({"color":"red","n":3,"ok":true,"list":[1, 2]})";
  AtomFilter f;
  f.metadata_equals = {{"color", "red"}, {"n", "3"}};
  CHECK(f.Matches(Atom(metadata)));
  f.metadata_equals = {{"ok", "true"}, {"list", "[1,2]"}};
  CHECK(f.Matches(Atom(metadata)));
  f.metadata_equals = {{"n", "\"3\""}};
  CHECK_FALSE(f.Matches(Atom(metadata)));
  f.metadata_equals = {{"color", "red"}, {"missing", "x"}};
  CHECK_FALSE(f.Matches(Atom(metadata)));
  f.metadata_equals = {{"color", "red"}};
  CHECK_FALSE(f.Matches(Atom("")));          // no metadata
  CHECK_FALSE(f.Matches(Atom("[1]")));       // not an object
  CHECK_FALSE(f.Matches(Atom("not json")));  // unreadable
}

TEST_CASE("atom filter: metadata nested past the limit matches no metadata filter") {
  const std::string deep =
      R"({"color":"red","deep":)" + std::string(100, '[') + std::string(100, ']') + "}";
  AtomFilter f;
  f.metadata_equals = {{"color", "red"}};
  CHECK_FALSE(f.Matches(Atom(deep)));
  // The other fields still match it.
  AtomFilter by_modality;
  by_modality.modality = "text";
  CHECK(by_modality.Matches(Atom(deep)));
}

}  // namespace
}  // namespace hartonomous::engine
