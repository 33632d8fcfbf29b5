#include "server/engine/auth/role.h"

namespace hartonomous::engine {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kWrite:
      return "write";
    case Role::kAdmin:
      return "admin";
    case Role::kNone:
      break;
  }
  return "none";
}

std::optional<Role> RoleFromValue(uint32_t value) {
  if (value < 1 || value > 3) return std::nullopt;
  return static_cast<Role>(value);
}

}  // namespace hartonomous::engine
