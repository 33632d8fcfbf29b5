// Logging set-up for hartonomousd: spdlog on stderr, as text or one JSON
// object per line ({"ts","level","msg"}).
//
// Thread-safety: call once at start-up, before other threads log.
#pragma once

#include <string>

namespace hartonomous {

// level and format as validated by ParseDaemonFlags.
void SetUpLogging(const std::string& level, const std::string& format);

}  // namespace hartonomous
