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

Result<size_t> ReadStreamMessages(StreamSource& source, const StreamLimits& limits,
                                  google::protobuf::Message& scratch,
                                  const StreamMessageHandler& on_message) {
  size_t total = 0;
  size_t index = 0;
  std::string bytes;
  while (source.Next(&bytes)) {
    // Refuse before parsing: the wire bytes alone already count.
    if (bytes.size() > limits.max_bytes - std::min(total, limits.max_bytes)) {
      return OverLimit(limits);
    }
    total += bytes.size();
    scratch.Clear();
    if (!scratch.ParseFromString(bytes)) {
      return Status::InvalidArgument("stream message " + std::to_string(index + 1) +
                                     ": does not parse as " + scratch.GetTypeName() +
                                     "; nothing stored");
    }
    // What the parsed message costs beyond its wire bytes.
    const size_t in_memory = scratch.SpaceUsedLong();
    if (in_memory > bytes.size()) {
      const size_t extra = in_memory - bytes.size();
      if (extra > limits.max_bytes - total) return OverLimit(limits);
      total += extra;
    }
    HT_RETURN_IF_ERROR(on_message(scratch, index));
    ++index;
  }
  return index;
}

}  // namespace hartonomous::rpc
