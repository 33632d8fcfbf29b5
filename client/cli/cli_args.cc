#include "cli_args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "cli_errors.h"

namespace hartonomous::cli {
namespace {

// A "-x", "--name" or "--name=value" token split into its parts.
struct OptionToken {
  std::string_view name;  // long name, or the single letter of a short one
  bool is_short = false;
  std::optional<std::string> inline_value;  // from "--name=value"
};

bool LooksLikeOption(std::string_view token) { return token.size() > 1 && token[0] == '-'; }

OptionToken SplitOption(std::string_view token) {
  OptionToken option;
  if (token.substr(0, 2) == "--") {
    std::string_view body = token.substr(2);
    const size_t eq = body.find('=');
    if (eq != std::string_view::npos) {
      option.inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    option.name = body;
  } else {
    option.name = token.substr(1);
    option.is_short = true;
  }
  return option;
}

const OptionSpec* FindOption(const std::vector<OptionSpec>& specs, const OptionToken& option) {
  for (const OptionSpec& spec : specs) {
    if (option.is_short ? (option.name.size() == 1 && spec.short_name == option.name[0])
                        : spec.name == option.name) {
      return &spec;
    }
  }
  return nullptr;
}

const std::vector<OptionSpec>& GlobalSpecs() {
  static const std::vector<OptionSpec> specs = {
      // clang-format off
      {"server", 0, "ADDR", ""},
      {"json", 0, "", ""},
      {"timeout", 0, "SECONDS", ""},
      {"help", 'h', "", ""},
      {"version", 0, "", ""},
      // clang-format on
  };
  return specs;
}

void ApplyGlobal(const OptionSpec& spec, const std::string& value, GlobalOptions* global) {
  if (spec.name == "server") {
    if (value.empty()) throw UsageError("--server needs a non-empty address");
    global->server = value;
  } else if (spec.name == "json") {
    global->json = true;
  } else if (spec.name == "timeout") {
    global->timeout = ParseSeconds(value, "--timeout");
  } else if (spec.name == "help") {
    global->help = true;
  } else if (spec.name == "version") {
    global->version = true;
  }
}

// Consumes the option at argv[*i] (and its value); returns false when it is
// neither one of `specs` nor a global flag.
bool TakeOption(const std::vector<std::string>& argv, size_t* i,
                const std::vector<OptionSpec>* command_specs, Invocation* out) {
  const std::string& token = argv[*i];
  const OptionToken option = SplitOption(token);
  const OptionSpec* spec = FindOption(GlobalSpecs(), option);
  const bool global = spec != nullptr;
  if (!global && command_specs != nullptr) spec = FindOption(*command_specs, option);
  if (spec == nullptr) return false;

  std::string value;
  if (spec->value_name.empty()) {
    if (option.inline_value) {
      throw UsageError("option --" + std::string(spec->name) + " takes no value");
    }
  } else if (option.inline_value) {
    value = *option.inline_value;
  } else if (*i + 1 < argv.size()) {
    value = argv[++*i];
  } else {
    throw UsageError("option " + token + " needs a value (" + std::string(spec->value_name) + ")");
  }
  if (global) {
    ApplyGlobal(*spec, value, &out->global);
  } else {
    out->options[std::string(spec->name)] = value;
  }
  return true;
}

}  // namespace

bool Invocation::Has(std::string_view name) const { return options.find(name) != options.end(); }

std::string Invocation::Get(std::string_view name, std::string_view fallback) const {
  auto it = options.find(name);
  return it == options.end() ? std::string(fallback) : it->second;
}

uint64_t Invocation::GetUint(std::string_view name, uint64_t fallback) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  return ParseUint64(it->second, "--" + std::string(name));
}

int32_t Invocation::GetInt32(std::string_view name, int32_t fallback) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  return ParseInt32(it->second, "--" + std::string(name));
}

Invocation ParseArgs(const std::vector<std::string>& argv, const std::vector<CommandSpec>& commands,
                     const char* server_env) {
  Invocation out;
  out.global.server = (server_env != nullptr && server_env[0] != '\0')
                          ? std::string(server_env)
                          : std::string(kDefaultServer);
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& token = argv[i];
    if (!options_done && token == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && LooksLikeOption(token)) {
      const std::vector<OptionSpec>* specs =
          out.command == nullptr ? nullptr : &out.command->options;
      if (!TakeOption(argv, &i, specs, &out)) {
        if (out.command == nullptr) throw UsageError("unknown option '" + token + "'");
        throw UsageError("unknown option '" + token + "' for command '" +
                         std::string(out.command->name) + "'");
      }
      continue;
    }
    if (out.command == nullptr) {
      for (const CommandSpec& command : commands) {
        if (command.name == token) out.command = &command;
      }
      if (out.command == nullptr) {
        // A command of two words ("model list"): the group, then the verb.
        std::string verbs;
        const std::string group = token + " ";
        for (const CommandSpec& command : commands) {
          if (command.name.substr(0, group.size()) != group) continue;
          const std::string_view verb = command.name.substr(group.size());
          verbs += (verbs.empty() ? "" : ", ") + std::string(verb);
          if (i + 1 < argv.size() && argv[i + 1] == verb) out.command = &command;
        }
        if (out.command != nullptr) {
          ++i;
        } else if (!verbs.empty()) {
          throw UsageError((i + 1 < argv.size()
                                ? "unknown command '" + token + " " + argv[i + 1] + "'"
                                : "missing command after '" + token + "'") +
                           "; '" + token + "' commands: " + verbs);
        } else {
          throw UsageError("unknown command '" + token + "'");
        }
      }
      continue;
    }
    out.args.push_back(token);
  }

  if (out.command != nullptr && !out.global.help && !out.global.version) {
    const CommandSpec& command = *out.command;
    const std::string usage = "usage: hartonomous " + std::string(command.name) +
                              (command.args_usage.empty() ? "" : " ") +
                              std::string(command.args_usage);
    if (out.args.size() < command.min_args) {
      throw UsageError("missing argument; " + usage);
    }
    if (out.args.size() > command.max_args) {
      throw UsageError("unexpected argument '" + out.args[command.max_args] + "'; " + usage);
    }
  }
  return out;
}

namespace {

// The whole of text as a decimal T; UsageError "<what> must be <rule>, got '...'".
template <typename T>
T ParseInteger(std::string_view text, std::string_view what, std::string_view rule) {
  T value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError(std::string(what) + " must be " + std::string(rule) + ", got '" +
                     std::string(text) + "'");
  }
  return value;
}

}  // namespace

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

uint64_t ParseUint64(std::string_view text, std::string_view what) {
  return ParseInteger<uint64_t>(text, what, "a non-negative decimal integer");
}

int32_t ParseInt32(std::string_view text, std::string_view what) {
  return ParseInteger<int32_t>(text, what, "a decimal integer in int32 range");
}

std::chrono::milliseconds ParseSeconds(std::string_view text, std::string_view what) {
  const std::string copy(text);
  char* end = nullptr;
  const double seconds = copy.empty() ? 0 : std::strtod(copy.c_str(), &end);
  // At most ~30 years, so that the deadline arithmetic cannot overflow.
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(seconds) ||
      seconds <= 0 || seconds > 1e9) {
    throw UsageError(std::string(what) + " must be a positive number of seconds, got '" + copy +
                     "'");
  }
  const auto ms = static_cast<int64_t>(std::ceil(seconds * 1000));
  return std::chrono::milliseconds(ms);
}

}  // namespace hartonomous::cli
