#include "server/rpc/common/stream_messages.h"

#include <algorithm>

namespace hartonomous::rpc {
namespace {

Status OverLimit(const StreamLimits& limits) {
  return Status::ResourceExhausted("stream: its messages exceed the limit of " +
                                   std::to_string(limits.max_bytes) + " bytes per stream (" +
                                   std::string(limits.flag) +
                                   "); nothing stored; split the data into several streams");
}

}  // namespace

Status StreamMessageParser::Take(const std::string& bytes) {
  // Refuse before parsing: the wire bytes alone already count.
  if (bytes.size() > limits_.max_bytes - std::min(total_, limits_.max_bytes)) {
    return OverLimit(limits_);
  }
  total_ += bytes.size();
  scratch_.Clear();
  if (!scratch_.ParseFromString(bytes)) {
    return Status::InvalidArgument("stream message " + std::to_string(index_ + 1) +
                                   ": does not parse as " + scratch_.GetTypeName() +
                                   "; nothing stored");
  }
  // What the parsed message costs beyond its wire bytes.
  const size_t in_memory = scratch_.SpaceUsedLong();
  if (in_memory > bytes.size()) {
    const size_t extra = in_memory - bytes.size();
    if (extra > limits_.max_bytes - total_) return OverLimit(limits_);
    total_ += extra;
  }
  HT_RETURN_IF_ERROR(on_message_(scratch_, index_));
  ++index_;
  return Status::Ok();
}

Result<size_t> ReadStreamMessages(StreamSource& source, const StreamLimits& limits,
                                  google::protobuf::Message& scratch,
                                  const StreamMessageHandler& on_message) {
  StreamMessageParser parser(limits, scratch, on_message);
  std::string bytes;
  while (source.Next(&bytes)) HT_RETURN_IF_ERROR(parser.Take(bytes));
  return parser.count();
}

}  // namespace hartonomous::rpc
