#include "table.h"

#include <algorithm>

#include "format.h"

namespace hartonomous::cli {

Table::Table(std::vector<Column> columns, std::string indent)
    : columns_(std::move(columns)), indent_(std::move(indent)) {
  for (const Column& column : columns_) widths_.push_back(DisplayWidth(column.header));
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    widths_[i] = std::max(widths_[i], DisplayWidth(cells[i]));
  }
  rows_.push_back(std::move(cells));
}

void Table::PrintRow(std::ostream& out, const std::vector<std::string>& cells) const {
  std::string line = indent_;
  for (size_t i = 0; i < cells.size(); ++i) {
    const bool last = i + 1 == cells.size();
    const size_t padding = widths_[i] - std::min(widths_[i], DisplayWidth(cells[i]));
    if (columns_[i].right_align) {
      line.append(padding, ' ');
      line += cells[i];
    } else {
      line += cells[i];
      if (!last) line.append(padding, ' ');
    }
    if (!last) line += "  ";
  }
  out << line << '\n';
}

void Table::Flush(std::ostream& out) {
  if (!header_printed_) {
    std::vector<std::string> headers;
    for (const Column& column : columns_) headers.push_back(column.header);
    PrintRow(out, headers);
    header_printed_ = true;
  }
  for (const auto& row : rows_) PrintRow(out, row);
  rows_.clear();
}

}  // namespace hartonomous::cli
