// Reading embeddings of existing atoms for `hartonomous add-embeddings`:
//   .npy / .fvecs (optionally .gz)  one row per atom; the atom ids are given
//                                   separately (one per row, in order)
//   .csv                            per line: ATOM_ID,X1,X2,... (a first line
//                                   that does not start with a number is a
//                                   header and skipped; '#' lines are comments)
//   .jsonl / .ndjson / .json        per line one object: {"atom_id": N (or
//                                   "document_id": N), "vector": [...],
//                                   "metadata": {...} (optional)}
//
// Errors: Failure naming the file, the line (or row) and what is wrong.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hartonomous/v1/search_service.pb.h"

namespace hartonomous::cli {

enum class EmbeddingFileFormat { kRows, kCsv, kJsonLines };

// From the file name's extension (".gz" stripped first).
EmbeddingFileFormat EmbeddingFileFormatOf(const std::string& path);

// atom_ids: one per row for kRows (their count must match the file's rows);
// must be empty for the formats that carry their own ids.
std::vector<hartonomous::v1::EmbeddingInput> ReadEmbeddingFile(
    const std::string& path, const std::vector<uint64_t>& atom_ids);

// "3,4,10-12" -> {3, 4, 10, 11, 12}; UsageError naming `flag` when malformed.
std::vector<uint64_t> ParseIdList(const std::string& text, const std::string& flag);

}  // namespace hartonomous::cli
