// Role: what an API key may do, ordered: each role includes those below it.
// The values are those of hartonomous.v1.Role (proto/hartonomous/v1/auth.proto),
// which states which RPC requires which role.
//
// Thread-safety: value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hartonomous::engine {

enum class Role : uint32_t { kNone = 0, kRead = 1, kWrite = 2, kAdmin = 3 };

// "read", "write", "admin"; "none" for kNone.
std::string_view RoleName(Role role);

// The role of a stored or requested value (1..3); nullopt otherwise.
std::optional<Role> RoleFromValue(uint32_t value);

// True when `held` includes `required`.
inline bool RoleAllows(Role held, Role required) {
  return static_cast<uint32_t>(held) >= static_cast<uint32_t>(required);
}

}  // namespace hartonomous::engine
