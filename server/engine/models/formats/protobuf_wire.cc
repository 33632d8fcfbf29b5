#include "server/engine/models/formats/protobuf_wire.h"

#include <string>

namespace hartonomous::engine::models {

bool ReadVarint(std::string_view bytes, uint64_t* pos, uint64_t* value) {
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= bytes.size()) return false;
    const uint8_t b = static_cast<uint8_t>(bytes[(*pos)++]);
    if (i == 9 && b > 1) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

bool WireReader::Varint(uint64_t* v) { return ReadVarint(msg_, &pos_, v); }

bool WireReader::Next(WireField* f, std::string_view what) {
  if (pos_ >= msg_.size()) return false;
  const auto bad = [&](const std::string& rule) {
    status_ = Status::InvalidArgument(std::string(what) + ": not protobuf (" + rule + " at byte " +
                                      std::to_string(base_ + pos_) + ")");
    return false;
  };
  f->field_begin = base_ + pos_;
  uint64_t tag;
  if (!Varint(&tag)) return bad("malformed tag");
  const uint64_t number = tag >> 3;
  if (number == 0 || number > 0x1fffffff) return bad("field number out of range");
  f->number = static_cast<uint32_t>(number);
  switch (tag & 7) {
    case 0:
      f->type = WireType::kVarint;
      f->value_begin = base_ + pos_;
      if (!Varint(&f->varint)) return bad("malformed varint");
      f->value_end = base_ + pos_;
      return true;
    case 1:
      f->type = WireType::kFixed64;
      if (msg_.size() - pos_ < 8) return bad("truncated fixed64");
      f->value_begin = base_ + pos_;
      pos_ += 8;
      f->value_end = base_ + pos_;
      return true;
    case 5:
      f->type = WireType::kFixed32;
      if (msg_.size() - pos_ < 4) return bad("truncated fixed32");
      f->value_begin = base_ + pos_;
      pos_ += 4;
      f->value_end = base_ + pos_;
      return true;
    case 2: {
      f->type = WireType::kLen;
      uint64_t len;
      if (!Varint(&len)) return bad("malformed length");
      if (len > msg_.size() - pos_) return bad("length runs past the end of the message");
      f->value_begin = base_ + pos_;
      pos_ += len;
      f->value_end = base_ + pos_;
      return true;
    }
    default:
      return bad("unsupported wire type " + std::to_string(tag & 7));
  }
}

}  // namespace hartonomous::engine::models
