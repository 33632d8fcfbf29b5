// A plain-text table for the `hartonomous` tool's human-readable output:
// columns padded to their widest cell, numbers right-aligned.
//
// Rows may be printed in chunks (Flush) so that long listings need not be held
// in memory; widths are then those of the rows seen so far, growing only.
//
// Thread-safety: none; one thread owns a Table.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hartonomous::cli {

class Table {
 public:
  struct Column {
    std::string header;
    bool right_align = false;
  };

  explicit Table(std::vector<Column> columns, std::string indent = "");
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // REQUIRES: cells.size() == number of columns.
  void AddRow(std::vector<std::string> cells);
  size_t pending_rows() const { return rows_.size(); }
  // Prints the header (the first time only) and the pending rows.
  void Flush(std::ostream& out);

 private:
  void PrintRow(std::ostream& out, const std::vector<std::string>& cells) const;

  std::vector<Column> columns_;
  std::string indent_;
  std::vector<size_t> widths_;
  std::vector<std::vector<std::string>> rows_;
  bool header_printed_ = false;
};

}  // namespace hartonomous::cli
