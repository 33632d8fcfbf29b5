// SuiteReport: what a hartonomous-bench suite (vector-suite, hybrid-suite,
// inference-suite, spatial-suite) measured. Printed as Markdown while the
// suite runs, since a suite takes minutes, and kept as one JSON object:
//
//   {"suite": "vector-suite", "options": {flag: value, ...},
//    "tables": [{"title": "...", "columns": [...], "rows": [[cell, ...], ...]}],
//    "notes": ["- line", ...], "values": {name: value, ...}}
//
// A cell that reads as a number in full is stored as a number. Finish writes
// the JSON to --json-out and, with --json, prints it instead of the Markdown.
//
// Thread-safety: none; one suite thread writes it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_flags.h"

namespace hartonomous::bench {

class SuiteReport {
 public:
  // Records every flag's value as the report's options; prints Markdown
  // unless --json is set.
  SuiteReport(const std::string& suite, const BenchFlags& flags,
              const std::vector<FlagSpec>& specs);

  // Starts a table: a blank line, the title (if any) and the header.
  void Table(const std::string& title, std::vector<std::string> columns);
  // A row of the current table, one cell per column.
  void Row(const std::vector<std::string>& cells);
  // A line of text outside the tables.
  void Note(const std::string& line);
  // A named figure, printed as "- name: value".
  void Value(const std::string& name, const nlohmann::json& value);

  const nlohmann::json& json() const { return json_; }

  // Writes --json-out (if given) and prints the JSON with --json. Returns
  // the exit status: 0, or 1 with a message when the file cannot be written.
  int Finish(const BenchFlags& flags) const;

 private:
  bool print_;
  nlohmann::json json_;
};

// printf into a std::string.
std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace hartonomous::bench
