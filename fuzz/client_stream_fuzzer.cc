// libFuzzer target for the client-stream reader (server/rpc/common/stream_messages.h)
// without a network. The input is:
//   byte 0      the request type: IngestAtomsRequest, IngestDocumentRequest or
//               AddEmbeddingsRequest
//   bytes 1-2   the stream's byte limit, in units of 16 bytes (big-endian)
//   the rest    messages in gRPC's framing: a flag byte, a 4-byte big-endian
//               length, the message bytes; a last, short frame delivers what
//               is left.
// Whatever the bytes, the read must end in OK, RESOURCE_EXHAUSTED or
// INVALID_ARGUMENT ("does not parse"), never crash or hang, never hand over
// more bytes (on the wire or in memory) than the limit, and never a message
// after a failure.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "hartonomous/v1/atom_service.pb.h"
#include "hartonomous/v1/search_service.pb.h"
#include "server/rpc/common/stream_messages.h"

using namespace hartonomous;
using namespace hartonomous::rpc;

namespace {

class FramedSource final : public StreamSource {
 public:
  explicit FramedSource(std::string_view bytes) : rest_(bytes) {}
  bool Next(std::string* bytes) override {
    if (rest_.empty()) return false;
    size_t length = rest_.size();
    if (rest_.size() >= 5) {
      const auto* p = reinterpret_cast<const uint8_t*>(rest_.data());
      length = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      rest_.remove_prefix(5);
    } else {
      rest_ = {};
      length = 0;
    }
    if (length > rest_.size()) length = rest_.size();
    bytes->assign(rest_.substr(0, length));
    rest_.remove_prefix(length);
    wire_bytes_ += length;
    ++messages_;
    return true;
  }
  size_t messages() const { return messages_; }
  size_t wire_bytes() const { return wire_bytes_; }

 private:
  std::string_view rest_;
  size_t messages_ = 0;
  size_t wire_bytes_ = 0;
};

std::unique_ptr<google::protobuf::Message> RequestOfType(uint8_t selector) {
  switch (selector % 3) {
    case 0:
      return std::make_unique<v1::IngestAtomsRequest>();
    case 1:
      return std::make_unique<v1::IngestDocumentRequest>();
    default:
      return std::make_unique<v1::AddEmbeddingsRequest>();
  }
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  auto scratch = RequestOfType(data[0]);
  StreamLimits limits;
  limits.max_bytes = (size_t{data[1]} << 8 | data[2]) * 16;
  FramedSource source(std::string_view(reinterpret_cast<const char*>(data) + 3, size - 3));
  size_t handed_over = 0;
  size_t held_bytes = 0;
  bool failed = false;
  auto count = ReadStreamMessages(source, limits, *scratch,
                                  [&](google::protobuf::Message& message, size_t index) -> Status {
                                    Check(!failed);
                                    Check(index == handed_over);
                                    ++handed_over;
                                    // Within the limit: the wire bytes so far, and what the
                                    // messages handed over take in memory.
                                    Check(source.wire_bytes() <= limits.max_bytes);
                                    held_bytes += message.SpaceUsedLong();
                                    Check(held_bytes <= limits.max_bytes);
                                    // What was parsed serializes and parses back to the same type.
                                    auto copy = RequestOfType(data[0]);
                                    Check(copy->ParseFromString(message.SerializeAsString()));
                                    // Some messages are refused by the handler, as validation
                                    // would.
                                    if (message.ByteSizeLong() % 97 == 13) {
                                      failed = true;
                                      return Status::InvalidArgument("handler refused it");
                                    }
                                    return Status::Ok();
                                  });
  if (count.ok()) {
    Check(*count == source.messages());
    Check(*count == handed_over);
    return 0;
  }
  const auto code = count.status().code();
  Check(code == Status::Code::kResourceExhausted || code == Status::Code::kInvalidArgument);
  if (code == Status::Code::kInvalidArgument && !failed) {
    Check(count.status().message().find("does not parse as " + scratch->GetTypeName()) !=
          std::string::npos);
  }
  return 0;
}
