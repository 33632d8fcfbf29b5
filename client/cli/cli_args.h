// Command-line parsing for the `hartonomous` tool.
//
// Grammar: hartonomous [GLOBAL...] COMMAND [GLOBAL|OPTION|ARG...] [-- ARG...]
// Global flags (--server, --json, --timeout, --api-key-file, --tls,
// --tls-ca, --tls-cert, --tls-key, --help/-h, --version) may appear
// before or after the command; a command's own options only after it. Options
// are written "--name VALUE", "--name=VALUE" or "-x VALUE"; "--" ends the
// options and "-" alone is an argument (standard input). A COMMAND may be
// two words, a group and a verb ("model list"), written next to each other.
//
// Errors: malformed command lines throw UsageError (exit code 2).
// Thread-safety: stateless functions and plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hartonomous::cli {

struct Invocation;

// One option of a command, e.g. {"limit", 0, "N", "stop after N atoms"}.
struct OptionSpec {
  std::string_view name;        // long name without dashes
  char short_name = 0;          // single-letter alias, or 0
  std::string_view value_name;  // empty = a flag without value
  std::string_view help;
};

// One command: its grammar, its help and the function that runs it. The
// handler throws UsageError or Failure when it cannot succeed.
struct CommandSpec {
  std::string_view name;
  std::string_view args_usage = {};  // e.g. "FILE...|-"
  std::string_view summary = {};     // one line
  std::string_view details = {};     // further help paragraphs, may be empty
  std::vector<OptionSpec> options = {};
  size_t min_args = 0;
  size_t max_args = std::numeric_limits<size_t>::max();
  void (*run)(const Invocation&) = nullptr;
};

// Flags shared by every command.
struct GlobalOptions {
  // Default: $HARTONOMOUS_SERVER, else kDefaultServer.
  std::string server;
  // Default: false (human-readable output).
  bool json = false;
  // Deadline for each call and for each whole ingest stream. Default: 60 s.
  std::chrono::milliseconds timeout{60000};
  // Sent with every call. Default: the content of --api-key-file, else
  // $HARTONOMOUS_API_KEY, else none.
  std::string api_key;
  // TLS (--tls, or any of the files): the CA file the server's certificate
  // must chain to (empty = the system's roots) and a client certificate and
  // key for mutual TLS. Defaults: $HARTONOMOUS_TLS_CA, $HARTONOMOUS_TLS_CERT,
  // $HARTONOMOUS_TLS_KEY.
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  bool help = false;
  bool version = false;
};

inline constexpr std::string_view kDefaultServer = "127.0.0.1:50051";

// A parsed command line.
struct Invocation {
  GlobalOptions global;
  const CommandSpec* command = nullptr;  // null when no command was given
  std::vector<std::string> args;         // positional arguments
  // Command options by long name; flags without value map to "".
  std::map<std::string, std::string, std::less<>> options;

  bool Has(std::string_view name) const;
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  // The option as a number; throws UsageError naming it when malformed.
  uint64_t GetUint(std::string_view name, uint64_t fallback) const;
  int32_t GetInt32(std::string_view name, int32_t fallback) const;
};

// Parses argv[1..] against the commands. server_env is $HARTONOMOUS_SERVER
// (nullptr or empty = unset). Throws UsageError on an unknown command or
// option, a missing or malformed value, or a wrong number of arguments (the
// last check is skipped when --help or --version was given).
Invocation ParseArgs(const std::vector<std::string>& argv, const std::vector<CommandSpec>& commands,
                     const char* server_env);

// A --server (or $HARTONOMOUS_SERVER) value: HOST:PORT with a port of
// 1-65535 ("[::1]:50051" for IPv6), or a gRPC target URI (dns:, unix:,
// ipv4:, ipv6:, ...). Throws UsageError naming `what` and the rule.
void ValidateServer(std::string_view address, std::string_view what);

// The candidate closest to a mistyped word ("colections" -> "collections"),
// or empty when none is close enough to suggest.
std::string Suggest(std::string_view typed, const std::vector<std::string>& candidates);

// True when text is non-empty and all ASCII digits: a model argument that
// is a model_id rather than a name (model names may not be all digits).
bool AllDigits(std::string_view text);

// Strict decimal parsers for option values and arguments; `what` names the
// value in the UsageError, e.g. "--limit" or "atom id".
uint64_t ParseUint64(std::string_view text, std::string_view what);
int32_t ParseInt32(std::string_view text, std::string_view what);
// A finite or infinite decimal number, e.g. "0.5" or "1e3".
double ParseDouble(const std::string& text, const std::string& what);
// A positive number of seconds, e.g. "30" or "0.5".
std::chrono::milliseconds ParseSeconds(std::string_view text, std::string_view what);

}  // namespace hartonomous::cli
