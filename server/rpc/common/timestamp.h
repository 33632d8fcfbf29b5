// Timestamps of the API: microseconds since the Unix epoch (as stored) to and
// from google.protobuf.Timestamp.
//
// Thread-safety: pure functions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>

namespace hartonomous::rpc {

inline void ToTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

inline int64_t ToMicros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

}  // namespace hartonomous::rpc
