// ResponseBudget: how many bytes one read RPC may still put into its
// response (--max-response-bytes). Listings and result sets charge each item
// before they read or build it, so no response is ever built past the budget:
// a listing ends its page early (AIP-158 allows fewer than page_size items),
// a result set fails with ResourceExhausted naming the limit, a traversal or
// spatial query stops and says it was truncated.
//
// Sizes are the encoded protobuf sizes of what is appended, or a bound
// computed before building an item (its record size plus the size of the
// content to read); both include a few bytes of framing per item.
//
// Thread-safety: a value type owned by one call; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hartonomous::engine {

class ResponseBudget {
 public:
  // No limit (engine callers that are not serving an RPC).
  static constexpr size_t kUnlimited = SIZE_MAX;
  // Framing of one repeated or nested item (tag and length prefix), added by
  // ChargeItem.
  static constexpr size_t kItemFraming = 16;

  explicit ResponseBudget(size_t limit_bytes = kUnlimited) : limit_(limit_bytes) {}

  size_t limit() const { return limit_; }
  size_t used() const { return used_; }

  // Charges `bytes` and returns true when they fit in what is left; returns
  // false and charges nothing when they do not.
  bool TryCharge(size_t bytes);
  // TryCharge of an item's bytes plus kItemFraming.
  bool TryChargeItem(size_t bytes) { return TryCharge(AddFraming(bytes)); }
  // TryChargeItem, or Exceeded(advice).
  Status ChargeItem(size_t bytes, std::string_view advice);

  // ResourceExhausted: "response: would exceed N bytes (--max-response-bytes); <advice>".
  Status Exceeded(std::string_view advice) const;

 private:
  static size_t AddFraming(size_t bytes) {
    return bytes > kUnlimited - kItemFraming ? kUnlimited : bytes + kItemFraming;
  }

  size_t limit_;
  size_t used_ = 0;
};

}  // namespace hartonomous::engine
