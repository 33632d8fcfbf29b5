#include "cli_errors.h"

#include "base/grpc_code_name.h"

namespace hartonomous::cli {

std::string_view StatusCodeName(grpc::StatusCode code) {
  const char* name = GrpcCodeName(static_cast<int>(code));
  return name != nullptr ? name : "UNKNOWN";
}

namespace {

std::string& ServerForErrors() {
  static std::string address;
  return address;
}

// gRPC's words for a connection that never got an answer: no server on the
// port, a name that does not resolve, an address that does not route.
bool IsUnreachable(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  const std::string& m = status.error_message();
  for (const char* sign :
       {"failed to connect", "Connection refused", "DNS resolution failed",
        "Failed to pick subchannel", "connections to all backends failing", "Socket closed",
        "Name resolution failure", "No address", "Network is unreachable", "Connection reset"}) {
    if (m.find(sign) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

void SetServerForErrors(std::string address) { ServerForErrors() = std::move(address); }

std::string FieldOfMessage(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view field = message.substr(0, colon);
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '[' || c == ']';
    if (!ok) return {};
  }
  return std::string(field);
}

Failure RpcFailure(const grpc::Status& status) {
  const std::string code(StatusCodeName(status.error_code()));
  if (IsUnreachable(status)) {
    const std::string& address = ServerForErrors();
    return Failure("cannot reach hartonomousd at " + (address.empty() ? "the server" : address) +
                       ": is it running? start it with ./deploy/run.sh, or name another with "
                       "--server HOST:PORT",
                   code, "", status.error_message());
  }
  return Failure(code + ": " + status.error_message(), code,
                 FieldOfMessage(status.error_message()));
}

void Check(const grpc::Status& status) {
  if (!status.ok()) throw RpcFailure(status);
}

}  // namespace hartonomous::cli
