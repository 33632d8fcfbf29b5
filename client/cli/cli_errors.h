// Errors of the `hartonomous` command-line tool and how they end the process.
//
// A command reports failure by throwing one of these; main() catches them at
// the top, prints the message on stderr and exits with the matching code.
// They never leave the tool (the client library does not throw).
//
// Exit codes: 0 success, 1 Failure (an RPC or I/O error; for ingest-doc, any
// file that failed), 2 UsageError, 130 Interrupted (SIGINT or SIGTERM).
#pragma once

#include <grpcpp/grpcpp.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace hartonomous::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

// The command line is malformed: unknown command or flag, missing or bad
// value. main() prints the message and a usage hint, then exits 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message) : std::runtime_error(message) {}
};

// The command could not be carried out: main() prints "error: <message>" and
// exits 1.
class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message) : std::runtime_error(message) {}
};

// The command was stopped by SIGINT or SIGTERM after it reported what it had
// done: main() prints "interrupted: <message>" and exits 130.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(const std::string& message) : std::runtime_error(message) {}
};

// The canonical name of a gRPC status code, e.g. "NOT_FOUND".
std::string_view StatusCodeName(grpc::StatusCode code);

// A Failure whose message is "<CODE_NAME>: <message>".
// REQUIRES: !status.ok()
Failure RpcFailure(const grpc::Status& status);

// Throws RpcFailure(status) unless it is OK.
void Check(const grpc::Status& status);

}  // namespace hartonomous::cli
