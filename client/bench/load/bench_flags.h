// BenchFlags: "--name value" and "--name" (boolean) flags over a table of
// known flags with their defaults and help, shared by every
// hartonomous-bench workload. An unknown flag, a missing value or a value of
// the wrong form is an error naming the flag.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hartonomous::bench {

struct FlagSpec {
  std::string name;           // without the leading "--"
  std::string default_value;  // "" = none; booleans: "false"
  std::string help;
  bool boolean = false;
};

class BenchFlags {
 public:
  explicit BenchFlags(std::vector<FlagSpec> specs);

  // Parses argv[first..argc). On failure returns false and sets *error.
  bool Parse(int argc, char** argv, int first, std::string* error);

  const std::string& Str(const std::string& name) const;
  bool Set(const std::string& name) const;  // given on the command line
  bool Bool(const std::string& name) const { return Str(name) == "true"; }
  // Parse errors name the flag, the value and the rule.
  bool Int(const std::string& name, int64_t min, int64_t max, int64_t* out,
           std::string* error) const;
  bool Double(const std::string& name, double min, double max, double* out,
              std::string* error) const;

  // "  --name VALUE  help (default: x)" lines.
  std::string Help() const;

 private:
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
};

}  // namespace hartonomous::bench
