// hartonomous: the command-line client of hartonomousd. See `hartonomous help`.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_args.h"
#include "cli_errors.h"
#include "commands.h"
#include "help.h"

namespace {

namespace cli = hartonomous::cli;

// --json before "--" anywhere on the command line: errors are then JSON too,
// even those found while parsing it.
bool WantsJson(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--json") return true;
  }
  return false;
}

// Prints the error and returns the exit code: "hartonomous: ..." / "error:
// ..." text, or with --json one object on stderr:
//   {"error": {"code": "NOT_FOUND", "field": "atom_id", "message": "...", "exit_code": 1}}
int ReportError(bool json, int exit_code, std::string_view code, const std::string& field,
                const std::string& message, const std::string& detail = {}) {
  if (json) {
    // The message without the code it already names ("NOT_FOUND: ...").
    std::string text = message;
    const std::string prefix = std::string(code) + ": ";
    if (text.rfind(prefix, 0) == 0) text.erase(0, prefix.size());
    nlohmann::ordered_json error = {
        {"code", code},
        {"field", field.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(field)},
        {"message", text},
        {"exit_code", exit_code}};
    if (!detail.empty()) error["detail"] = detail;
    std::cerr << nlohmann::ordered_json{{"error", error}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
    return exit_code;
  }
  if (exit_code == cli::kExitUsage) {
    std::cerr << "hartonomous: " << message << "\nRun 'hartonomous help' for usage.\n";
  } else if (exit_code == cli::kExitInterrupted) {
    std::cerr << "interrupted: " << message << '\n';
  } else {
    std::cerr << "error: " << message << '\n';
    if (!detail.empty()) std::cerr << "  (" << detail << ")\n";
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const bool json = WantsJson(args);
  try {
    const cli::Invocation invocation =
        cli::ParseArgs(args, cli::Commands(), std::getenv("HARTONOMOUS_SERVER"));
    cli::SetServerForErrors(invocation.global.server);
    if (invocation.global.version) {
      std::cout << cli::VersionText() << '\n';
    } else if (invocation.global.help) {
      std::cout << (invocation.command != nullptr ? cli::CommandHelp(*invocation.command)
                                                  : cli::UsageText(cli::Commands()));
    } else if (invocation.command == nullptr) {
      if (json) {
        return ReportError(json, cli::kExitUsage, "USAGE", "",
                           "no command given (run 'hartonomous help' for the list)");
      }
      std::cerr << cli::UsageText(cli::Commands());
      return cli::kExitUsage;
    } else {
      invocation.command->run(invocation);
    }
    std::cout.flush();
    if (!std::cout) {
      return ReportError(json, cli::kExitFailure, "IO", "", "cannot write to standard output");
    }
    return cli::kExitOk;
  } catch (const cli::UsageError& e) {
    return ReportError(json, cli::kExitUsage, "USAGE", "", e.what());
  } catch (const cli::Interrupted& e) {
    return ReportError(json, cli::kExitInterrupted, "INTERRUPTED", "", e.what());
  } catch (const cli::Failure& e) {
    return ReportError(json, cli::kExitFailure, e.code().empty() ? "FAILED" : e.code(), e.field(),
                       e.what(), e.detail());
  } catch (const std::exception& e) {
    return ReportError(json, cli::kExitFailure, "FAILED", "", e.what());
  }
}
