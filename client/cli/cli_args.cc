#include "cli_args.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
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

// The key in an --api-key-file FILE, surrounding whitespace removed.
std::string ReadApiKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string key(4096, '\0');
  if (in) {
    in.read(key.data(), static_cast<std::streamsize>(key.size()));
    key.resize(static_cast<size_t>(in.gcount()));
  }
  if (!in && !in.eof()) throw UsageError("--api-key-file " + path + ": cannot read the file");
  const auto first = key.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    throw UsageError("--api-key-file " + path + ": the file is empty");
  key = key.substr(first, key.find_last_not_of(" \t\r\n") - first + 1);
  for (char c : key) {
    if (c <= 0x20 || c > 0x7e) {
      throw UsageError("--api-key-file " + path + ": a key is printable ASCII without spaces");
    }
  }
  return key;
}

const std::vector<OptionSpec>& GlobalSpecs() {
  static const std::vector<OptionSpec> specs = {
      // clang-format off
      {"server", 0, "ADDR", ""},
      {"json", 0, "", ""},
      {"timeout", 0, "SECONDS", ""},
      {"api-key-file", 0, "FILE", ""},
      {"tls", 0, "", ""},
      {"tls-ca", 0, "FILE", ""},
      {"tls-cert", 0, "FILE", ""},
      {"tls-key", 0, "FILE", ""},
      {"help", 'h', "", ""},
      {"version", 0, "", ""},
      // clang-format on
  };
  return specs;
}

void ApplyGlobal(const OptionSpec& spec, const std::string& value, GlobalOptions* global) {
  if (spec.name == "server") {
    ValidateServer(value, "--server");
    global->server = value;
  } else if (spec.name == "json") {
    global->json = true;
  } else if (spec.name == "timeout") {
    global->timeout = ParseSeconds(value, "--timeout");
  } else if (spec.name == "api-key-file") {
    global->api_key = ReadApiKeyFile(value);
  } else if (spec.name == "tls") {
    global->tls = true;
  } else if (spec.name == "tls-ca") {
    global->tls_ca = value;
  } else if (spec.name == "tls-cert") {
    global->tls_cert = value;
  } else if (spec.name == "tls-key") {
    global->tls_key = value;
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
  bool server_given = false;
  for (const std::string& token : argv) {
    if (token == "--") break;
    if (token == "--server" || token.rfind("--server=", 0) == 0) server_given = true;
  }
  if (!server_given) ValidateServer(out.global.server, "HARTONOMOUS_SERVER");
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
        std::vector<std::string> names;
        for (const OptionSpec& spec : GlobalSpecs()) names.push_back(std::string(spec.name));
        if (out.command != nullptr) {
          for (const OptionSpec& spec : out.command->options) {
            names.push_back(std::string(spec.name));
          }
        }
        const std::string typed(SplitOption(token).name);
        const std::string guess = typed.size() > 1 ? Suggest(typed, names) : "";
        const std::string hint = guess.empty() ? "" : "; did you mean '--" + guess + "'?";
        if (out.command == nullptr) throw UsageError("unknown option '" + token + "'" + hint);
        throw UsageError("unknown option '" + token + "' for command '" +
                         std::string(out.command->name) + "'" + hint);
      }
      continue;
    }
    if (out.command == nullptr) {
      // A command of two words ("collections create"): the group, then the
      // verb, before a command of one word that is also a group's name.
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
        continue;
      }
      for (const CommandSpec& command : commands) {
        if (command.name == token) out.command = &command;
      }
      const bool verb_follows = i + 1 < argv.size() && !LooksLikeOption(argv[i + 1]);
      if (out.command != nullptr &&
          !(verbs.size() > 0 && verb_follows && out.command->max_args == 0)) {
        continue;
      }
      if (!verbs.empty()) {
        std::string hint;
        if (i + 1 < argv.size()) {
          std::vector<std::string> names;
          for (const CommandSpec& command : commands) names.push_back(std::string(command.name));
          const std::string guess = Suggest(token + " " + argv[i + 1], names);
          if (!guess.empty()) hint = "; did you mean '" + guess + "'?";
        }
        throw UsageError((i + 1 < argv.size()
                              ? "unknown command '" + token + " " + argv[i + 1] + "'"
                              : "missing command after '" + token + "'") +
                         (hint.empty() ? "; '" + token + "' commands: " + verbs : hint));
      }
      std::vector<std::string> names;
      for (const CommandSpec& command : commands) {
        names.push_back(std::string(command.name));
        names.push_back(std::string(command.name.substr(0, command.name.find(' '))));
      }
      // "colections create": the two words typed together are compared too.
      std::string guess = Suggest(token, names);
      if (guess.empty() && i + 1 < argv.size()) guess = Suggest(token + " " + argv[i + 1], names);
      throw UsageError("unknown command '" + token + "'" +
                       (guess.empty() ? "" : "; did you mean '" + guess + "'?"));
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

// Edit distance (insertions, deletions, substitutions, transpositions).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string Suggest(std::string_view typed, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    if (candidate == typed) continue;
    size_t distance = EditDistance(typed, candidate);
    // A prefix of at least three letters ("coll" for "collections") counts as close.
    if (typed.size() >= 3 && candidate.rfind(typed, 0) == 0) distance = 1;
    const size_t allowed = std::max<size_t>(1, std::min(typed.size(), candidate.size()) / 3);
    if (distance <= allowed && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

void ValidateServer(std::string_view address, std::string_view what) {
  const std::string shown(address);
  if (address.empty()) throw UsageError(std::string(what) + " needs a non-empty address");
  // A gRPC target URI (dns:///host:port, unix:/path, ipv4:..., ...) is gRPC's to check.
  for (std::string_view scheme : {"dns:", "unix:", "unix-abstract:", "ipv4:", "ipv6:", "vsock:"}) {
    if (address.substr(0, scheme.size()) == scheme) return;
  }
  const size_t colon = address.rfind(':');
  const std::string rule = std::string(what) + " must be HOST:PORT with a port of 1-65535";
  if (colon == std::string_view::npos) {
    throw UsageError(rule + ", got '" + shown + "' (no port)");
  }
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (host.empty() || (!bracketed && host.find(':') != std::string_view::npos)) {
    throw UsageError(rule + " (an IPv6 host in brackets: [::1]:50051), got '" + shown + "'");
  }
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
      value > 65535) {
    throw UsageError(rule + ", got port '" + std::string(port) + "' in '" + shown + "'");
  }
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

double ParseDouble(const std::string& text, const std::string& what) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw UsageError(what + ": '" + text + "' is not a number");
  }
  return value;
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
