#include "server/engine/common/response_budget.h"

namespace hartonomous::engine {

bool ResponseBudget::TryCharge(size_t bytes) {
  if (bytes > limit_ - used_) return false;
  used_ += bytes;
  return true;
}

Status ResponseBudget::ChargeItem(size_t bytes, std::string_view advice) {
  if (TryChargeItem(bytes)) return Status::Ok();
  return Exceeded(advice);
}

Status ResponseBudget::Exceeded(std::string_view advice) const {
  std::string message =
      "response: would exceed " + std::to_string(limit_) + " bytes (--max-response-bytes)";
  if (!advice.empty()) {
    message += "; ";
    message += advice;
  }
  return Status::ResourceExhausted(std::move(message));
}

}  // namespace hartonomous::engine
