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
#include <utility>

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
// exits 1 (under --json, a JSON object with code, field and message on
// stderr). code is the gRPC status name of an RPC failure ("NOT_FOUND"), else
// empty; field is the request field the server's message names, else empty.
class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message, std::string code = {}, std::string field = {},
                   std::string detail = {})
      : std::runtime_error(message),
        code_(std::move(code)),
        field_(std::move(field)),
        detail_(std::move(detail)) {}
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }
  // What gRPC reported when the message replaces it (unreachable server).
  const std::string& detail() const { return detail_; }

 private:
  std::string code_;
  std::string field_;
  std::string detail_;
};

// The command was stopped by SIGINT or SIGTERM after it reported what it had
// done: main() prints "interrupted: <message>" and exits 130.
class Interrupted : public std::runtime_error {
 public:
  explicit Interrupted(const std::string& message) : std::runtime_error(message) {}
};

// The canonical name of a gRPC status code, e.g. "NOT_FOUND".
std::string_view StatusCodeName(grpc::StatusCode code);

// The server address RPC failures name ("cannot reach hartonomousd at ...");
// main() sets it from --server before running a command.
void SetServerForErrors(std::string address);

// The field a server message names: its "<field>: <rule>" prefix when that
// is a field path ("embeddings[2].vector"), else empty.
std::string FieldOfMessage(std::string_view message);

// A Failure whose message is "<CODE_NAME>: <message>", with the code and the
// field. A server that cannot be reached (UNAVAILABLE before any answer)
// gets "cannot reach hartonomousd at ADDR: is it running? ..." instead, and
// gRPC's own words go to detail().
// REQUIRES: !status.ok()
Failure RpcFailure(const grpc::Status& status);

// Throws RpcFailure(status) unless it is OK.
void Check(const grpc::Status& status);

}  // namespace hartonomous::cli
