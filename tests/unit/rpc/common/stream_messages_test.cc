// ReadStreamMessages: limits, parse failures and the order of messages,
// without a network.
#include "server/rpc/common/stream_messages.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "hartonomous/v1/atom_service.pb.h"

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

class ListSource final : public StreamSource {
 public:
  explicit ListSource(std::vector<std::string> messages) : messages_(std::move(messages)) {}
  bool Next(std::string* bytes) override {
    if (next_ == messages_.size()) return false;
    *bytes = messages_[next_++];
    return true;
  }
  size_t taken() const { return next_; }

 private:
  std::vector<std::string> messages_;
  size_t next_ = 0;
};

std::string AtomsMessage(std::vector<std::string> contents) {
  v1::IngestAtomsRequest request;
  for (auto& content : contents) request.add_atoms()->set_content(std::move(content));
  return request.SerializeAsString();
}

// Bytes that are not an IngestAtomsRequest: field 1 (atoms, length-delimited)
// announcing 100 bytes with only 2 following.
const std::string kGarbage("\x0a\x64\x01\x02", 4);

}  // namespace

TEST_CASE("stream messages are handed over in order with their positions") {
  ListSource source({AtomsMessage({"a", "b"}), AtomsMessage({"c"})});
  v1::IngestAtomsRequest scratch;
  std::vector<std::string> seen;
  std::vector<size_t> positions;
  auto count = ReadStreamMessages(source, StreamLimits{}, scratch,
                                  [&](google::protobuf::Message&, size_t index) {
                                    for (const auto& atom : scratch.atoms())
                                      seen.push_back(atom.content());
                                    positions.push_back(index);
                                    return Status::Ok();
                                  });
  REQUIRE(count.ok());
  CHECK(*count == 2);
  CHECK(seen == std::vector<std::string>{"a", "b", "c"});
  CHECK(positions == std::vector<size_t>{0, 1});
}

TEST_CASE("an empty source reads zero messages") {
  ListSource source({});
  v1::IngestAtomsRequest scratch;
  auto count = ReadStreamMessages(source, StreamLimits{}, scratch,
                                  [](google::protobuf::Message&, size_t) { return Status::Ok(); });
  REQUIRE(count.ok());
  CHECK(*count == 0);
}

TEST_CASE("a message that does not parse fails the read and names its position and type") {
  ListSource source({AtomsMessage({"a"}), kGarbage, AtomsMessage({"b"})});
  v1::IngestAtomsRequest scratch;
  size_t handled = 0;
  auto count =
      ReadStreamMessages(source, StreamLimits{}, scratch, [&](google::protobuf::Message&, size_t) {
        ++handled;
        return Status::Ok();
      });
  REQUIRE_FALSE(count.ok());
  CHECK(count.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(
      count.status().message(),
      Catch::Contains("stream message 2: does not parse as hartonomous.v1.IngestAtomsRequest"));
  CHECK(handled == 1);
  CHECK(source.taken() == 2);  // nothing read past the bad message
}

TEST_CASE("the byte limit counts every byte of every message, not only content") {
  // Messages of empty atoms: no content at all, yet they cost bytes.
  std::vector<std::string> messages(64, AtomsMessage(std::vector<std::string>(16, "")));
  StreamLimits limits;
  limits.max_bytes = 1000;
  limits.flag = "--max-batch-bytes";
  ListSource source(messages);
  v1::IngestAtomsRequest scratch;
  size_t handled = 0;
  auto count = ReadStreamMessages(source, limits, scratch, [&](google::protobuf::Message&, size_t) {
    ++handled;
    return Status::Ok();
  });
  REQUIRE_FALSE(count.ok());
  CHECK(count.status().code() == Status::Code::kResourceExhausted);
  CHECK_THAT(count.status().message(), Catch::Contains("1000 bytes"));
  CHECK_THAT(count.status().message(), Catch::Contains("--max-batch-bytes"));
  CHECK(handled < messages.size());
}

TEST_CASE("a stream just within the byte limit passes, one byte more does not") {
  const std::string message = AtomsMessage({std::string(5000, 'x')});
  v1::IngestAtomsRequest probe;
  REQUIRE(probe.ParseFromString(message));
  const size_t cost = std::max(message.size(), probe.SpaceUsedLong());
  for (size_t max : {2 * cost, 2 * cost - 1}) {
    StreamLimits limits;
    limits.max_bytes = max;
    ListSource source({message, message});
    v1::IngestAtomsRequest scratch;
    auto count = ReadStreamMessages(
        source, limits, scratch, [](google::protobuf::Message&, size_t) { return Status::Ok(); });
    if (max == 2 * cost) {
      REQUIRE(count.ok());
      CHECK(*count == 2);
    } else {
      REQUIRE_FALSE(count.ok());
      CHECK(count.status().code() == Status::Code::kResourceExhausted);
    }
  }
}

TEST_CASE("a handler's error ends the read with that error") {
  ListSource source({AtomsMessage({"a"}), AtomsMessage({"b"})});
  v1::IngestAtomsRequest scratch;
  auto count = ReadStreamMessages(
      source, StreamLimits{}, scratch, [](google::protobuf::Message&, size_t index) {
        return index == 1 ? Status::InvalidArgument("atoms[1]: bad") : Status::Ok();
      });
  REQUIRE_FALSE(count.ok());
  CHECK(count.status().message() == "atoms[1]: bad");
}
