// A bounded walk over protobuf wire format: the fields of one message
// with the byte range of each value in the buffer. Used to find where an
// ONNX initializer's raw_data lies in the file (the protobuf C++ parse
// gives values, not offsets), so tensor bytes become segments of the file.
//
// Reads never go past the message; varints are at most 10 bytes; groups
// (wire types 3 and 4) are refused, as no ONNX message uses them.
//
// Thread-safety: a cursor over caller-owned bytes; one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace hartonomous::engine::models {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;       // kVarint: the value
  uint64_t value_begin = 0;  // offset in the whole buffer of the value's bytes
  uint64_t value_end = 0;    // (kLen: the payload, without its length prefix)
  uint64_t field_begin = 0;  // offset of the tag
};

class WireReader {
 public:
  // Walks message, whose first byte is at offset base of the buffer that
  // offsets are reported in.
  WireReader(std::string_view message, uint64_t base) : msg_(message), base_(base) {}

  // The next field, false at the end. On malformed input returns false and
  // sets status() to INVALID_ARGUMENT naming what (field "<what>").
  bool Next(WireField* field, std::string_view what);
  const Status& status() const { return status_; }

 private:
  bool Varint(uint64_t* v);

  std::string_view msg_;
  uint64_t base_;
  uint64_t pos_ = 0;
  Status status_;
};

// Reads one varint from bytes at *pos; false when malformed or truncated.
bool ReadVarint(std::string_view bytes, uint64_t* pos, uint64_t* value);

}  // namespace hartonomous::engine::models
