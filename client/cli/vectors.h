// Vector commands of `hartonomous`:
//   load-vectors FILE   rows of a .npy / .fvecs / IDX image file become atoms
//                       with one embedding each in a collection, in batches
//                       (one IngestAtoms and one AddEmbeddings stream each);
//                       a progress bar is drawn on a terminal
//   search COLLECTION   nearest atoms to a vector, a file row or an atom
//   collections         the collections with their sizes and index state
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli_args.h"
#include "hartonomous/v1/search_service.pb.h"

namespace hartonomous::cli {

// "cosine" | "l2" | "ip" <-> Metric; UsageError naming --metric otherwise.
v1::Metric ParseMetric(const std::string& name);
std::string MetricName(v1::Metric metric);
// Every Collection field, for --json.
nlohmann::ordered_json CollectionToJson(const v1::Collection& collection);

// --vector / --file --row / --atom, shared by search and hybrid.
std::vector<OptionSpec> QuerySourceOptions();
struct QuerySource {
  std::vector<float> vector;  // or
  uint64_t atom_id = 0;
};
QuerySource ReadQuerySource(const Invocation& invocation);
// --modality --subtype --source-type --active --where.
std::vector<OptionSpec> FilterOptions();
void ReadFilter(const Invocation& invocation, v1::AtomFilter* filter);
// "1,2.5 -3" (commas and/or spaces) -> components; UsageError naming the
// flag and the bad component.
std::vector<double> ParseNumbers(std::string_view flag, const std::string& text);
std::vector<float> ParseVector(const std::string& text, std::string_view flag = "--vector");
// Search results: "ATOM_ID  DISTANCE  METADATA [TEXT]" lines, or JSON.
void PrintScoredAtoms(const google::protobuf::RepeatedPtrField<v1::ScoredAtom>& results,
                      bool with_text);
nlohmann::ordered_json ScoredAtomsJson(
    const google::protobuf::RepeatedPtrField<v1::ScoredAtom>& results, bool with_text);

std::vector<OptionSpec> LoadVectorsOptions();
std::vector<OptionSpec> SearchOptions();
void RunLoadVectors(const Invocation& invocation);
void RunSearch(const Invocation& invocation);
// search-batch COLLECTION FILE: every row of a vector file as one query, in
// BatchSearch calls of at most 1000 queries.
std::vector<OptionSpec> SearchBatchOptions();
void RunSearchBatch(const Invocation& invocation);
void RunCollections(const Invocation& invocation);

}  // namespace hartonomous::cli
