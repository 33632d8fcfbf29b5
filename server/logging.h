// Logging set-up for hartonomousd: spdlog on stderr, as text or one JSON
// object per line ({"ts","level","msg"} and the event's fields).
//
// Thread-safety: SetUpLogging once at start-up, before other threads log;
// LogEvent from any thread.
#pragma once

#include <spdlog/common.h>

#include <string>
#include <utility>
#include <vector>

namespace hartonomous {

// level and format as validated by ParseDaemonFlags.
void SetUpLogging(const std::string& level, const std::string& format);

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Logs msg with structured fields: in JSON, each field is a string member
// of the line's object ({"ts",...,"msg":"rpc failed","method":"..."}); in
// text, " key=value" pairs follow the message.
void LogEvent(spdlog::level::level_enum level, const std::string& msg, const LogFields& fields);

}  // namespace hartonomous
