// The product version, reported by --version and AdminService.GetStats.
#pragma once

namespace hartonomous {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace hartonomous
