// Whether the tests run under a sanitizer, for the assertions that a
// sanitizer's runtime makes meaningless.
#pragma once

namespace hartonomous::testing {

// Whether this build (and so the daemon it starts) runs under
// AddressSanitizer. Its allocator holds freed memory in quarantine (256 MiB
// by default) and adds shadow memory, so resident and peak memory say
// nothing about what the daemon keeps there; LeakSanitizer checks for kept
// memory instead. Tests bound memory only when this is false.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitized = true;
#else
inline constexpr bool kAddressSanitized = false;
#endif
#else
inline constexpr bool kAddressSanitized = false;
#endif

}  // namespace hartonomous::testing
