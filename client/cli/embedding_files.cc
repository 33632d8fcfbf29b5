#include "embedding_files.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_errors.h"
#include "vector_files.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

template <typename T>
bool ParseWhole(const std::string& text, T* value) {
  const char* begin = text.data();
  if (!text.empty() && text[0] == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), *value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::vector<v1::EmbeddingInput> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Failure("cannot open '" + path + "'");
  std::vector<v1::EmbeddingInput> out;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number);
    const std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    std::vector<std::string> cells;
    size_t start = 0;
    while (true) {
      const size_t comma = trimmed.find(',', start);
      cells.push_back(Trim(std::string_view(trimmed).substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    uint64_t atom_id = 0;
    if (!ParseWhole(cells[0], &atom_id)) {
      if (out.empty() && number == 1) continue;  // a header line
      throw Failure(where + ": the first column must be an atom id, got '" + cells[0] + "'");
    }
    if (cells.size() < 2) throw Failure(where + ": no vector after the atom id");
    v1::EmbeddingInput input;
    input.set_atom_id(atom_id);
    for (size_t c = 1; c < cells.size(); ++c) {
      float x = 0;
      if (!ParseWhole(cells[c], &x) || !std::isfinite(x)) {
        throw Failure(where + ": column " + std::to_string(c + 1) + " is not a finite number: '" +
                      cells[c] + "'");
      }
      input.add_vector(x);
    }
    out.push_back(std::move(input));
  }
  if (in.bad()) throw Failure("'" + path + "': read error");
  return out;
}

std::vector<v1::EmbeddingInput> ReadJsonLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Failure("cannot open '" + path + "'");
  std::vector<v1::EmbeddingInput> out;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number);
    if (Trim(line).empty()) continue;
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) throw Failure(where + ": not a JSON object");
    const char* id_key = row.contains("atom_id") ? "atom_id" : "document_id";
    if (!row.contains(id_key) || !row[id_key].is_number_unsigned() || row[id_key] == 0) {
      throw Failure(where + ": needs \"atom_id\" (or \"document_id\"), a positive integer");
    }
    if (!row.contains("vector") || !row["vector"].is_array() || row["vector"].empty()) {
      throw Failure(where + ": needs \"vector\", a non-empty array of numbers");
    }
    v1::EmbeddingInput input;
    input.set_atom_id(row[id_key].get<uint64_t>());
    for (const auto& x : row["vector"]) {
      if (!x.is_number() || !std::isfinite(x.get<double>())) {
        throw Failure(where + ": \"vector\" component " + std::to_string(input.vector_size()) +
                      " is not a finite number");
      }
      input.add_vector(x.get<float>());
    }
    if (row.contains("metadata") && !row["metadata"].is_null()) {
      if (!row["metadata"].is_object()) throw Failure(where + ": \"metadata\" must be an object");
      input.set_metadata(row["metadata"].dump());
    }
    out.push_back(std::move(input));
  }
  if (in.bad()) throw Failure("'" + path + "': read error");
  return out;
}

}  // namespace

EmbeddingFileFormat EmbeddingFileFormatOf(const std::string& path) {
  std::string name = Lower(path);
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  if (EndsWith(name, ".csv")) return EmbeddingFileFormat::kCsv;
  if (EndsWith(name, ".jsonl") || EndsWith(name, ".ndjson") || EndsWith(name, ".json")) {
    return EmbeddingFileFormat::kJsonLines;
  }
  return EmbeddingFileFormat::kRows;
}

std::vector<v1::EmbeddingInput> ReadEmbeddingFile(const std::string& path,
                                                  const std::vector<uint64_t>& atom_ids) {
  const EmbeddingFileFormat format = EmbeddingFileFormatOf(path);
  if (format != EmbeddingFileFormat::kRows) {
    if (!atom_ids.empty()) {
      throw UsageError("--atoms is for .npy and .fvecs files; '" + path +
                       "' carries an atom id on every line");
    }
    return format == EmbeddingFileFormat::kCsv ? ReadCsv(path) : ReadJsonLines(path);
  }
  const VectorFile file = ReadVectorFile(path);
  if (file.format == VectorFile::Format::kIdxImages) {
    throw Failure("'" + path + "' is an IDX image file: use load-vectors for it");
  }
  if (atom_ids.size() != file.rows) {
    throw UsageError("--atoms names " + std::to_string(atom_ids.size()) + " atoms but '" + path +
                     "' has " + std::to_string(file.rows) + " rows (one atom id per row)");
  }
  std::vector<v1::EmbeddingInput> out;
  out.reserve(file.rows);
  for (size_t r = 0; r < file.rows; ++r) {
    v1::EmbeddingInput input;
    input.set_atom_id(atom_ids[r]);
    const float* row = &file.values[r * file.dimension];
    input.mutable_vector()->Add(row, row + file.dimension);
    out.push_back(std::move(input));
  }
  return out;
}

std::vector<uint64_t> ParseIdList(const std::string& text, const std::string& flag) {
  std::vector<uint64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = Trim(std::string_view(text).substr(start, comma - start));
    const size_t dash = item.find('-');
    uint64_t first = 0, last = 0;
    const bool ok = dash == std::string::npos ? ParseWhole(item, &first) && (last = first, true)
                                              : ParseWhole(item.substr(0, dash), &first) &&
                                                    ParseWhole(item.substr(dash + 1), &last);
    if (!ok || first == 0 || last < first || last - first >= (uint64_t{1} << 24)) {
      throw UsageError(flag + ": expected atom ids and ranges like 3,4,10-12, got '" + item + "'");
    }
    for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

}  // namespace hartonomous::cli
