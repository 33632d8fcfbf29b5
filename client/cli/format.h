// Formatting of single values for the `hartonomous` tool's human-readable
// output (sizes, percentages, timestamps, text snippets) and base64 for JSON.
//
// Thread-safety: stateless functions.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace hartonomous::cli {

// "512 B", "1.5 KiB", "20.0 MiB", ... (binary units).
std::string FormatBytes(uint64_t bytes);

// "33.3%".
std::string FormatPercent(double percent);

// RFC 3339 in UTC, e.g. "2026-11-24T20:57:35.123Z".
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

// At most max_chars code points of `text` on one line: runs of spaces and
// control characters become one space, leading and trailing ones are
// dropped, and "..." marks a cut. Invalid UTF-8 bytes
// become '?'.
std::string Snippet(std::string_view text, size_t max_chars);

// The number of code points in UTF-8 `text` (its width in a terminal, for the
// scripts whose characters are one column wide).
size_t DisplayWidth(std::string_view text);

// Standard base64 (RFC 4648) with padding.
std::string Base64Encode(std::string_view bytes);

}  // namespace hartonomous::cli
