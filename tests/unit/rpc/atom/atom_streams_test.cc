// The collectors of AtomService's client streams, message by message,
// without a network.
#include "server/rpc/atom/atom_streams.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

v1::IngestAtomsRequest Atoms(std::vector<std::string> contents) {
  v1::IngestAtomsRequest request;
  for (auto& content : contents) {
    auto* atom = request.add_atoms();
    atom->set_content(std::move(content));
    atom->set_modality("text");
  }
  return request;
}

}  // namespace

TEST_CASE("IngestAtoms: atoms of every message, named by their position in the stream") {
  IngestAtomsCollector atoms{Limits{}};
  auto first = Atoms({"a", "b"});
  REQUIRE(atoms.Add(first, 0).ok());
  auto second = Atoms({"c", ""});
  const Status bad = atoms.Add(second, 1);
  CHECK(bad.code() == Status::Code::kInvalidArgument);
  CHECK(bad.message() == "atoms[3].content: must not be empty");

  IngestAtomsCollector good{Limits{}};
  auto again = Atoms({"a", "b"});  // Add moved the atoms out of `first`
  REQUIRE(good.Add(again, 0).ok());
  auto empty = Atoms({});
  REQUIRE(good.Add(empty, 1).ok());
  auto third = Atoms({"c"});
  REQUIRE(good.Add(third, 2).ok());
  REQUIRE(good.Finish().ok());
  const std::vector<engine::AtomInput> inputs = good.Take();
  REQUIRE(inputs.size() == 3);
  CHECK(inputs[0].content == "a");
  CHECK(inputs[2].content == "c");
  CHECK(inputs[2].field == "atoms[2]");
}

TEST_CASE("IngestAtoms: a stream without atoms, or whose results do not fit, fails") {
  IngestAtomsCollector none{Limits{}};
  auto empty = Atoms({});
  REQUIRE(none.Add(empty, 0).ok());
  CHECK(none.Finish().message() == "atoms: the stream carried no atoms");

  Limits limits;
  limits.max_response_bytes =
      2 * (IngestAtomsCollector::kIngestResultBytes + engine::ResponseBudget::kItemFraming);
  IngestAtomsCollector small(limits);
  auto two = Atoms({"a", "b"});
  REQUIRE(small.Add(two, 0).ok());
  auto one_more = Atoms({"c"});
  const Status over = small.Add(one_more, 1);
  CHECK(over.code() == Status::Code::kResourceExhausted);
  CHECK_THAT(over.message(), Catch::EndsWith("atoms: the stream's results (one per atom) do not "
                                             "fit; split it into several streams"));
}

TEST_CASE("IngestDocument: the first message's header with the content of all") {
  IngestDocumentCollector document;
  v1::IngestDocumentRequest first;
  first.set_modality("text");
  first.set_source_uri("file:///a.txt");
  first.set_metadata(R"({"k":1})");
  first.set_content("hello ");
  REQUIRE(document.Add(first, 0).ok());
  v1::IngestDocumentRequest more;
  more.set_content("world");
  REQUIRE(document.Add(more, 1).ok());
  REQUIRE(document.Finish().ok());
  const engine::DocumentInput input = document.Take();
  CHECK(input.content == "hello world");
  CHECK(input.modality == "text");
  CHECK(input.source_uri == "file:///a.txt");
  CHECK(input.metadata == R"({"k":1})");

  IngestDocumentCollector bad;
  v1::IngestDocumentRequest header;
  header.set_modality("Not A Token");
  CHECK(bad.Add(header, 0).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("IngestDocument: one document per stream, a second header is refused") {
  for (const char* field : {"modality", "source_uri", "source_type", "metadata", "options"}) {
    IngestDocumentCollector document;
    v1::IngestDocumentRequest first;
    first.set_modality("text");
    first.set_content("one ");
    REQUIRE(document.Add(first, 0).ok());
    v1::IngestDocumentRequest second;
    second.set_content("two");
    const std::string f = field;
    if (f == "modality") second.set_modality("text");
    if (f == "source_uri") second.set_source_uri("file:///b.txt");
    if (f == "source_type") second.set_source_type("file");
    if (f == "metadata") second.set_metadata("{}");
    if (f == "options") second.mutable_options();
    const Status refused = document.Add(second, 1);
    INFO(field);
    CHECK(refused.code() == Status::Code::kInvalidArgument);
    CHECK(refused.message() == "message 2: sets " + f +
                                   ", but only content may follow the first message (one "
                                   "document per stream)");
  }
}
