// ReadStreamMessages: the transport-free core of reading one client stream.
// It takes each message's serialized bytes from a StreamSource, charges them
// against the stream's byte limit, parses them into the request type and
// hands each parsed message to the caller, in order, until the source ends.
// It does not decide how the stream ended (half-close or cancellation); the
// gRPC side (client_stream_reactor.h) does. The fuzz target
// fuzz/client_stream_fuzzer.cc drives this core with arbitrary bytes.
//
// The limit counts every byte a stream carries, not only content: per
// message, the larger of its wire size and its size once parsed in memory
// (Message::SpaceUsedLong), so that a stream of many tiny messages is bounded
// by what it costs to hold, not only by what it took to send.
//
// Thread-safety: ReadStreamMessages is reentrant; a StreamSource is used by
// one thread.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace hartonomous::rpc {

// Where a stream's messages come from: the gRPC reader in the server, byte
// framing in the fuzz target, a list in unit tests.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  // Stores the next message's serialized bytes in *bytes (replacing its
  // contents). Returns false when no message is left, whatever the reason.
  virtual bool Next(std::string* bytes) = 0;
};

struct StreamLimits {
  // Largest total of a stream's message bytes (see the file comment).
  // Default: 256 MiB.
  size_t max_bytes = size_t{256} << 20;
  // The flag that sets max_bytes, named in the RESOURCE_EXHAUSTED message.
  // Default: --max-batch-bytes.
  std::string_view flag = "--max-batch-bytes";
};

// Called with each parsed message and its 0-based position in the stream; a
// non-OK Status ends the read with that Status. The callback may move from
// the message.
using StreamMessageHandler =
    std::function<Status(google::protobuf::Message& message, size_t index)>;

// The step of ReadStreamMessages for one message, for a reader that is
// handed the messages one at a time (the callback reader,
// client_stream_reactor.h): Take charges the bytes against the limit,
// parses them into scratch and calls on_message, with the errors of
// ReadStreamMessages. After an error the stream is over: call Take no more.
class StreamMessageParser {
 public:
  // REQUIRES: scratch outlives the parser.
  StreamMessageParser(const StreamLimits& limits, google::protobuf::Message& scratch,
                      StreamMessageHandler on_message)
      : limits_(limits), scratch_(scratch), on_message_(std::move(on_message)) {}
  Status Take(const std::string& bytes);
  // The messages taken so far.
  size_t count() const { return index_; }

 private:
  const StreamLimits limits_;
  google::protobuf::Message& scratch_;
  const StreamMessageHandler on_message_;
  size_t total_ = 0;
  size_t index_ = 0;
};

// Reads messages from source until it ends; returns how many were read.
// Errors (reading stops at the first):
//   ResourceExhausted  the stream's bytes exceed limits.max_bytes
//   InvalidArgument    a message does not parse as scratch's type
//   whatever on_message returns.
// scratch: the message object each message is parsed into (its type is the
// request type); it is cleared before each parse.
Result<size_t> ReadStreamMessages(StreamSource& source, const StreamLimits& limits,
                                  google::protobuf::Message& scratch,
                                  const StreamMessageHandler& on_message);

// What a client-streaming handler gathers its stream into: the input of one
// all-or-nothing engine call, or an engine writer that takes the stream as
// it arrives and commits at the end. The reader (CollectedStream,
// client_stream_reactor.h) passes it each message in order, then, once the
// stream ended with the client's half-close after at least one message,
// calls Finish. A collector holds the per-stream bookkeeping (positions
// across messages, what the first message carries, totals), so that the
// handler is: read, call the engine, convert the result.
template <typename Request>
class StreamCollector {
 public:
  virtual ~StreamCollector() = default;
  // Validates and takes message number `index` (0-based); may move from it.
  // A non-OK Status ends the stream with that Status (nothing is stored).
  virtual Status Add(Request& message, size_t index) = 0;
  // The whole stream arrived: checks what only the whole shows (e.g. that
  // it carried any item). Default: OK.
  virtual Status Finish() { return Status::Ok(); }
};

}  // namespace hartonomous::rpc
