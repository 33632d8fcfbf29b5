#include "bench_flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace hartonomous::bench {

BenchFlags::BenchFlags(std::vector<FlagSpec> specs) : specs_(std::move(specs)) {
  for (const FlagSpec& spec : specs_) {
    values_[spec.name] = spec.boolean && spec.default_value.empty() ? "false" : spec.default_value;
  }
}

bool BenchFlags::Parse(int argc, char** argv, int first, std::string* error) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument '" + arg + "' (flags are --name value)";
      return false;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool inline_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs_) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      *error = "unknown flag --" + name + " (see --help)";
      return false;
    }
    if (spec->boolean) {
      if (!inline_value) value = "true";
      if (value != "true" && value != "false") {
        *error = "--" + name + ": expects true or false, got '" + value + "'";
        return false;
      }
    } else if (!inline_value) {
      if (i + 1 >= argc) {
        *error = "--" + name + ": missing value";
        return false;
      }
      value = argv[++i];
    }
    if (spec->repeated) repeated_[name].push_back(value);
    values_[name] = value;
    given_[name] = true;
  }
  return true;
}

const std::string& BenchFlags::Str(const std::string& name) const {
  static const std::string kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

bool BenchFlags::Set(const std::string& name) const { return given_.count(name) != 0; }

bool BenchFlags::Int(const std::string& name, int64_t min, int64_t max, int64_t* out,
                     std::string* error) const {
  const std::string& text = Str(name);
  errno = 0;
  char* end = nullptr;
  const long long value = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min || value > max) {
    *error = "--" + name + ": expects an integer in " + std::to_string(min) + ".." +
             std::to_string(max) + ", got '" + text + "'";
    return false;
  }
  *out = value;
  return true;
}

bool BenchFlags::Double(const std::string& name, double min, double max, double* out,
                        std::string* error) const {
  const std::string& text = Str(name);
  errno = 0;
  char* end = nullptr;
  const double value = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !std::isfinite(value) || value < min ||
      value > max) {
    *error = "--" + name + ": expects a number in " + std::to_string(min) + ".." +
             std::to_string(max) + ", got '" + text + "'";
    return false;
  }
  *out = value;
  return true;
}

int64_t BenchFlags::IntIn(const std::string& name, int64_t min, int64_t max) const {
  int64_t value = 0;
  std::string error;
  if (!Int(name, min, max, &value, &error)) throw FlagError(error);
  return value;
}

double BenchFlags::DoubleIn(const std::string& name, double min, double max) const {
  double value = 0;
  std::string error;
  if (!Double(name, min, max, &value, &error)) throw FlagError(error);
  return value;
}

namespace {

// Each comma-separated item of flags.Str(name) checked by one (an Int or
// Double of a one-item table).
template <typename T, typename One>
std::vector<T> ListIn(const BenchFlags& flags, const std::string& name, One one) {
  const std::string& text = flags.Str(name);
  std::vector<T> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    BenchFlags single({{name, item, ""}});
    T value{};
    std::string error;
    if (!one(single, &value, &error)) {
      throw FlagError(error + (text == item ? "" : " (in the list '" + text + "')"));
    }
    out.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::vector<int64_t> BenchFlags::IntListIn(const std::string& name, int64_t min,
                                           int64_t max) const {
  return ListIn<int64_t>(*this, name, [&](const BenchFlags& f, int64_t* v, std::string* e) {
    return f.Int(name, min, max, v, e);
  });
}

std::vector<double> BenchFlags::DoubleListIn(const std::string& name, double min,
                                             double max) const {
  return ListIn<double>(*this, name, [&](const BenchFlags& f, double* v, std::string* e) {
    return f.Double(name, min, max, v, e);
  });
}

std::vector<std::string> BenchFlags::All(const std::string& name) const {
  if (auto it = repeated_.find(name); it != repeated_.end()) return it->second;
  const std::string& value = Str(name);
  return value.empty() ? std::vector<std::string>{} : std::vector<std::string>{value};
}

const std::string& BenchFlags::Required(const std::string& name) const {
  const std::string& value = Str(name);
  if (value.empty()) throw FlagError("--" + name + " is required");
  return value;
}

std::string BenchFlags::Help() const {
  std::string out;
  for (const FlagSpec& spec : specs_) {
    std::string left = "  --" + spec.name + (spec.boolean ? "" : " VALUE");
    if (spec.repeated) left += " ...";
    if (left.size() < 28) left.resize(28, ' ');
    out += left + " " + spec.help;
    if (!spec.boolean && !spec.default_value.empty())
      out += " (default: " + spec.default_value + ")";
    out += "\n";
  }
  return out;
}

}  // namespace hartonomous::bench
