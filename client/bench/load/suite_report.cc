#include "suite_report.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace hartonomous::bench {

namespace {

// The number text reads as in full, or the text itself.
nlohmann::json Cell(const std::string& text) {
  if (text.empty()) return text;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size()) return value;
  return text;
}

}  // namespace

std::string Format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

SuiteReport::SuiteReport(const std::string& suite, const BenchFlags& flags,
                         const std::vector<FlagSpec>& specs)
    : print_(!flags.Bool("json")) {
  json_ = {{"suite", suite},
           {"options", nlohmann::json::object()},
           {"tables", nlohmann::json::array()},
           {"notes", nlohmann::json::array()},
           {"values", nlohmann::json::object()}};
  for (const FlagSpec& spec : specs) {
    if (spec.name == "help" || spec.name == "json" || spec.name == "json-out") continue;
    json_["options"][spec.name] =
        spec.repeated ? nlohmann::json(flags.All(spec.name)) : nlohmann::json(flags.Str(spec.name));
  }
}

void SuiteReport::Table(const std::string& title, std::vector<std::string> columns) {
  if (print_) {
    std::string header = "|", rule = "|";
    for (const std::string& c : columns) {
      header += " " + c + " |";
      rule += "---|";
    }
    std::printf("\n%s%s%s\n%s\n", title.c_str(), title.empty() ? "" : "\n\n", header.c_str(),
                rule.c_str());
    std::fflush(stdout);
  }
  json_["tables"].push_back(
      {{"title", title}, {"columns", std::move(columns)}, {"rows", nlohmann::json::array()}});
}

void SuiteReport::Row(const std::vector<std::string>& cells) {
  if (json_["tables"].empty()) throw std::logic_error("SuiteReport::Row before Table");
  nlohmann::json& table = json_["tables"].back();
  if (cells.size() != table["columns"].size()) {
    throw std::logic_error("SuiteReport::Row: " + std::to_string(cells.size()) + " cells for " +
                           std::to_string(table["columns"].size()) + " columns");
  }
  nlohmann::json row = nlohmann::json::array();
  std::string line = "|";
  for (const std::string& cell : cells) {
    row.push_back(Cell(cell));
    line += " " + cell + " |";
  }
  table["rows"].push_back(std::move(row));
  if (print_) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
}

void SuiteReport::Note(const std::string& line) {
  json_["notes"].push_back(line);
  if (print_) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
}

void SuiteReport::Value(const std::string& name, const nlohmann::json& value) {
  json_["values"][name] = value;
  if (print_) {
    const std::string text =
        value.is_number_float() ? Format("%.6g", value.get<double>()) : value.dump();
    std::printf("- %s: %s\n", name.c_str(), text.c_str());
    std::fflush(stdout);
  }
}

int SuiteReport::Finish(const BenchFlags& flags) const {
  if (flags.Set("json-out")) {
    std::ofstream out(flags.Str("json-out"), std::ios::trunc);
    out << json_.dump(1) << "\n";
    if (!out.flush()) {
      std::fprintf(stderr, "hartonomous-bench: --json-out %s: cannot write\n",
                   flags.Str("json-out").c_str());
      return 1;
    }
  }
  if (!print_) std::printf("%s\n", json_.dump().c_str());
  return 0;
}

}  // namespace hartonomous::bench
