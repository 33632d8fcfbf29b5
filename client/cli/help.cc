#include "help.h"

#include <string_view>

namespace hartonomous::cli {
namespace {

constexpr size_t kHelpColumn = 24;
constexpr size_t kLineWidth = 80;

std::string OptionLabel(const OptionSpec& option) {
  std::string label;
  if (option.short_name != 0) {
    label += '-';
    label += option.short_name;
    label += ", ";
  }
  label += "--" + std::string(option.name);
  if (!option.value_name.empty()) label += " " + std::string(option.value_name);
  return label;
}

// "  label   help" with the help starting at kHelpColumn (or on the next line
// when the label is long) and wrapped at kLineWidth.
std::string HelpLine(const std::string& label, std::string_view help) {
  std::string text = "  " + label;
  if (text.size() + 2 > kHelpColumn) {
    text += '\n';
    text.append(kHelpColumn, ' ');
  } else {
    text.append(kHelpColumn - text.size(), ' ');
  }
  size_t column = kHelpColumn;
  bool first = true;
  while (!help.empty()) {
    const size_t space = help.find(' ');
    const std::string_view word = help.substr(0, space);
    help = space == std::string_view::npos ? std::string_view() : help.substr(space + 1);
    if (!first && column + 1 + word.size() > kLineWidth) {
      text += '\n';
      text.append(kHelpColumn, ' ');
      column = kHelpColumn;
      first = true;
    }
    if (!first) {
      text += ' ';
      ++column;
    }
    text += word;
    column += word.size();
    first = false;
  }
  text += '\n';
  return text;
}

}  // namespace

std::string UsageText(const std::vector<CommandSpec>& commands) {
  std::string text =
      "usage: hartonomous [--server ADDR] [--json] [--timeout SECONDS] COMMAND "
      "[ARGS...]\n"
      "\n"
      "Command-line client of the hartonomousd content-atom database.\n"
      "\n"
      "Commands:\n";
  for (const CommandSpec& command : commands) {
    std::string label(command.name);
    if (!command.args_usage.empty()) label += " " + std::string(command.args_usage);
    text += HelpLine(label, command.summary);
  }
  text +=
      "\n"
      "Global options (before or after the command):\n" +
      HelpLine("--server ADDR",
               "server address (default: $HARTONOMOUS_SERVER, else 127.0.0.1:50051)") +
      HelpLine("--json", "print JSON instead of text") +
      HelpLine("--timeout SECONDS",
               "deadline of each call and of each whole ingest stream (default: 60)") +
      HelpLine("--api-key-file FILE",
               "send the API key in FILE with every call (default: $HARTONOMOUS_API_KEY)") +
      HelpLine("--tls", "connect with TLS, trusting the system's CAs") +
      HelpLine("--tls-ca FILE",
               "connect with TLS, trusting the PEM CAs in FILE (default: $HARTONOMOUS_TLS_CA)") +
      HelpLine("--tls-cert FILE, --tls-key FILE",
               "client certificate and key for mutual TLS (default: $HARTONOMOUS_TLS_CERT, "
               "$HARTONOMOUS_TLS_KEY)") +
      HelpLine("-h, --help", "show this help (COMMAND --help: one command's)") +
      HelpLine("--version", "print the version") +
      "\n"
      "Exit status: 0 on success; 1 when the command failed (an RPC error prints\n"
      "'error: <CODE>: <message>' on stderr); 2 for a malformed command line.\n";
  return text;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string text = "usage: hartonomous " + std::string(command.name);
  if (!command.options.empty()) text += " [OPTIONS]";
  if (!command.args_usage.empty()) text += " " + std::string(command.args_usage);
  text += "\n\n" + std::string(command.summary) + "\n";
  if (!command.details.empty()) text += "\n" + std::string(command.details) + "\n";
  if (!command.options.empty()) {
    text += "\nOptions:\n";
    for (const OptionSpec& option : command.options) {
      text += HelpLine(OptionLabel(option), option.help);
    }
  }
  text +=
      "\nGlobal options: --server ADDR, --json, --timeout SECONDS, --api-key-file FILE, --tls,\n"
      "--tls-ca FILE, --tls-cert FILE, --tls-key FILE (see 'hartonomous help').\n";
  return text;
}

std::string VersionText() {
#ifdef HARTONOMOUS_VERSION
  return "hartonomous " HARTONOMOUS_VERSION;
#else
  return "hartonomous (unknown version)";
#endif
}

}  // namespace hartonomous::cli
