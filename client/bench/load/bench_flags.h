// BenchFlags: "--name value" and "--name" (boolean) flags over a table of
// known flags with their defaults and help, shared by every
// hartonomous-bench workload and suite. An unknown flag, a missing value or a
// value of the wrong form is an error naming the flag, the value and the rule.
// A repeated flag collects every value given.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace hartonomous::bench {

struct FlagSpec {
  std::string name;           // without the leading "--"
  std::string default_value;  // "" = none; booleans: "false"
  std::string help;
  bool boolean = false;
  bool repeated = false;  // may be given more than once (see All)
};

// A flag's value broke its rule; what() names the flag, the value and the
// rule. hartonomous-bench turns it into exit status 2.
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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

  // The same, throwing FlagError instead.
  int64_t IntIn(const std::string& name, int64_t min, int64_t max) const;
  double DoubleIn(const std::string& name, double min, double max) const;
  // "1,2,8": every comma-separated item in [min, max]; at least one.
  std::vector<int64_t> IntListIn(const std::string& name, int64_t min, int64_t max) const;
  std::vector<double> DoubleListIn(const std::string& name, double min, double max) const;
  // A repeated flag's values in the order given; {default} when never given
  // (empty when there is no default).
  std::vector<std::string> All(const std::string& name) const;
  // Str, throwing FlagError when the flag has no value.
  const std::string& Required(const std::string& name) const;

  // "  --name VALUE  help (default: x)" lines.
  std::string Help() const;

 private:
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> given_;
  std::map<std::string, std::vector<std::string>> repeated_;
};

}  // namespace hartonomous::bench
