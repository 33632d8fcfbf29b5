// The collector of SearchService's AddEmbeddings stream, message by message,
// without a network.
#include "server/rpc/search/search_streams.h"

#include <catch2/catch.hpp>
#include <string>

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

v1::AddEmbeddingsRequest Embeddings(const std::string& collection, int count,
                                    uint64_t first_atom = 1) {
  v1::AddEmbeddingsRequest request;
  request.set_collection(collection);
  for (int i = 0; i < count; ++i) {
    auto* in = request.add_embeddings();
    in->set_atom_id(first_atom + static_cast<uint64_t>(i));
    in->add_vector(1.0f);
    in->add_vector(0.5f);
  }
  return request;
}

}  // namespace

TEST_CASE("AddEmbeddings: one collection per stream, the first create spec") {
  AddEmbeddingsCollector embeddings{SearchLimits{}};
  auto first = Embeddings("c1", 2);
  first.mutable_create()->set_dimension(2);
  REQUIRE(embeddings.Add(first, 0).ok());
  auto second = Embeddings("c1", 1, 3);
  second.mutable_create()->set_dimension(7);
  REQUIRE(embeddings.Add(second, 1).ok());
  REQUIRE(embeddings.Finish().ok());
  CHECK(embeddings.collection() == "c1");
  REQUIRE(embeddings.create().has_value());
  CHECK(embeddings.create()->dimension == 2);
  CHECK(embeddings.TakeInputs().size() == 3);

  AddEmbeddingsCollector two{SearchLimits{}};
  auto a = Embeddings("c1", 1);
  REQUIRE(two.Add(a, 0).ok());
  auto b = Embeddings("c2", 1);
  CHECK(two.Add(b, 1).message() ==
        "collection: one stream adds to one collection ('c1'), got 'c2'");
}

TEST_CASE("AddEmbeddings: positions count across messages, and the stream is bounded") {
  AddEmbeddingsCollector embeddings{SearchLimits{}};
  auto first = Embeddings("c", 2);
  REQUIRE(embeddings.Add(first, 0).ok());
  auto bad = Embeddings("c", 1);
  bad.mutable_embeddings(0)->set_atom_id(0);
  CHECK_THAT(embeddings.Add(bad, 1).message(), Catch::StartsWith("embeddings[2].atom_id: "));

  SearchLimits limits;
  limits.max_stream_embeddings = 2;
  AddEmbeddingsCollector bounded(limits);
  auto two = Embeddings("c", 2);
  REQUIRE(bounded.Add(two, 0).ok());
  auto one_more = Embeddings("c", 1, 3);
  const Status over = bounded.Add(one_more, 1);
  CHECK(over.code() == Status::Code::kResourceExhausted);
  CHECK(over.message() == "embeddings: more than 2 in one stream; split it into several streams");

  AddEmbeddingsCollector none{SearchLimits{}};
  auto empty = Embeddings("c", 0);
  REQUIRE(none.Add(empty, 0).ok());
  CHECK(none.Finish().message() == "embeddings: the stream carried no embeddings");
}
