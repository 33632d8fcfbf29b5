#include "vectors.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_errors.h"
#include "commands.h"
#include "json_output.h"
#include "progress.h"
#include "vector_files.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

}  // namespace

v1::Metric ParseMetric(const std::string& name) {
  if (name == "cosine") return v1::METRIC_COSINE;
  if (name == "l2") return v1::METRIC_L2;
  if (name == "ip") return v1::METRIC_INNER_PRODUCT;
  throw UsageError("--metric: one of cosine, l2, ip; got '" + name + "'");
}

std::string MetricName(v1::Metric m) {
  switch (m) {
    case v1::METRIC_L2:
      return "l2";
    case v1::METRIC_INNER_PRODUCT:
      return "ip";
    default:
      return "cosine";
  }
}

namespace {

// The path's enum name in lower case without its prefix ("ann_post_filter");
// "unspecified" for one this client does not know.
std::string PathName(v1::SearchPath p) {
  constexpr std::string_view kPrefix = "SEARCH_PATH_";
  std::string name = v1::SearchPath_Name(p);
  if (name.rfind(kPrefix, 0) != 0) return "unspecified";
  name.erase(0, kPrefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

nlohmann::ordered_json CollectionToJson(const v1::Collection& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name();
  j["collection_id"] = c.collection_id();
  j["embedding_type"] = c.spec().embedding_type();
  j["model_id"] = c.spec().model_id();
  j["dimension"] = c.spec().dimension();
  j["metric"] = MetricName(c.spec().metric());
  j["index"] = {{"kind", c.spec().index().kind()},
                {"m", c.spec().index().m()},
                {"ef_construction", c.spec().index().ef_construction()},
                {"ef_search", c.spec().index().ef_search()}};
  j["spatial_index"] = c.spec().spatial_index();
  j["vector_count"] = c.vector_count();
  j["deleted_count"] = c.deleted_count();
  j["memory_bytes"] = c.memory_bytes();
  j["bytes_per_vector"] = c.bytes_per_vector();
  j["snapshot"] = {{"watermark", c.snapshot().watermark()},
                   {"loaded_from_snapshot", c.snapshot().loaded_from_snapshot()},
                   {"replayed_at_start", c.snapshot().replayed_at_start()},
                   {"changes_since_snapshot", c.snapshot().changes_since_snapshot()}};
  const auto& p = c.projection();
  j["projection"] = {{"kind", p.kind()},
                     {"version", p.version()},
                     {"scale", {p.scale().x(), p.scale().y(), p.scale().z()}},
                     {"coarse_cell", p.coarse_cell()},
                     {"fitted_rows", p.fitted_rows()},
                     {"points", p.points()}};
  return j;
}

namespace {

// Numbers separated by commas and/or white space ("1,2.5 -3").
template <typename T>
std::vector<T> ParseList(const std::string& text, std::string_view flag) {
  std::vector<T> out;
  const char* p = text.data();
  const char* end = p + text.size();
  auto separator = [](char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); };
  while (true) {
    while (p != end && separator(*p)) ++p;
    if (p == end) break;
    T value = 0;
    if (*p == '+') ++p;
    const auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || (next != end && !separator(*next))) {
      throw UsageError(std::string(flag) + ": component " + std::to_string(out.size()) +
                       " is not a number; expected numbers separated by commas or spaces");
    }
    out.push_back(value);
    p = next;
  }
  if (out.empty()) throw UsageError(std::string(flag) + ": no components");
  return out;
}

}  // namespace

std::vector<double> ParseNumbers(std::string_view flag, const std::string& text) {
  return ParseList<double>(text, flag);
}

std::vector<float> ParseVector(const std::string& text, std::string_view flag) {
  return ParseList<float>(text, flag);
}

nlohmann::ordered_json ScoredAtomsJson(
    const google::protobuf::RepeatedPtrField<v1::ScoredAtom>& results, bool with_text) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json hit = {{"atom_id", r.atom_id()},
                                  {"embedding_id", r.embedding_id()},
                                  {"distance", r.distance()},
                                  {"metadata", MetadataToJson(r.metadata())}};
    if (with_text) hit["canonical_text"] = r.canonical_text();
    out.push_back(hit);
  }
  return out;
}

void PrintScoredAtoms(const google::protobuf::RepeatedPtrField<v1::ScoredAtom>& results,
                      bool with_text) {
  for (const auto& r : results) {
    std::cout << std::setw(10) << r.atom_id() << "  " << std::setprecision(6) << std::fixed
              << r.distance() << "  " << r.metadata();
    if (with_text) std::cout << "  " << r.canonical_text();
    std::cout << "\n";
  }
  std::cout << std::defaultfloat;
}

std::vector<OptionSpec> LoadVectorsOptions() {
  return {{"collection", 'c', "NAME", "target collection (default: the file's base name)"},
          {"labels", 0, "FILE", "IDX label file: each row's label goes into its atom's metadata"},
          {"metric", 0, "M", "cosine|l2|ip when the collection is created (default l2)"},
          {"index", 0, "KIND", "index kind when created: hnsw|hnsw_sq8|flat (default hnsw)"},
          {"spatial-index", 0, "KIND",
           "spatial index of the projected points when created: rtree|scan (default rtree)"},
          {"m", 0, "N", "hnsw links per node when created (default 16)"},
          {"ef-construction", 0, "N", "hnsw build candidate list when created (default 200)"},
          {"batch", 0, "N", "rows per transaction (default 1000)"},
          {"limit", 0, "N", "load only the first N rows (default: all)"}};
}

std::vector<OptionSpec> SearchOptions() {
  std::vector<OptionSpec> options = QuerySourceOptions();
  options.insert(options.end(), {{"k", 'k', "N", "how many results (default 10)"},
                                 {"ef", 0, "N", "hnsw candidate list for this query"},
                                 {"exact", 0, "", "exact scan instead of the ANN index"}});
  for (const auto& o : FilterOptions()) options.push_back(o);
  options.push_back({"text", 0, "", "show each atom's canonical text"});
  return options;
}

QuerySource ReadQuerySource(const Invocation& invocation) {
  int sources = invocation.Has("vector") + invocation.Has("file") + invocation.Has("atom");
  if (sources != 1) throw UsageError("give exactly one of --vector, --file or --atom");
  QuerySource source;
  if (invocation.Has("vector")) {
    source.vector = ParseVector(invocation.Get("vector"));
  } else if (invocation.Has("file")) {
    const uint64_t row = invocation.GetUint("row", 0);
    VectorFile file = ReadVectorFile(invocation.Get("file"), row + 1);
    if (row >= file.rows)
      throw UsageError("--row: the file has " + std::to_string(file.rows) + " rows");
    const float* v = &file.values[row * file.dimension];
    source.vector.assign(v, v + file.dimension);
  } else {
    source.atom_id = invocation.GetUint("atom", 0);
  }
  return source;
}

void ReadFilter(const Invocation& invocation, v1::AtomFilter* filter) {
  filter->set_modality(invocation.Get("modality"));
  filter->set_subtype(invocation.Get("subtype"));
  filter->set_source_type(invocation.Get("source-type"));
  filter->set_active_only(invocation.Has("active"));
  if (invocation.Has("where")) {
    std::stringstream in(invocation.Get("where"));
    std::string pair;
    while (std::getline(in, pair, ',')) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError("--where: expected KEY=VALUE, got '" + pair + "'");
      (*filter->mutable_metadata_equals())[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
}

void RunLoadVectors(const Invocation& invocation) {
  const std::string& path = invocation.args[0];
  const uint64_t batch = invocation.GetUint("batch", 1000);
  if (batch == 0) throw UsageError("--batch: must be > 0");
  VectorFile file = ReadVectorFile(path, invocation.GetUint("limit", 0));
  std::vector<uint8_t> labels;
  if (invocation.Has("labels")) {
    labels = ReadIdxLabels(invocation.Get("labels"));
    if (labels.size() < file.rows) {
      throw Failure("'" + invocation.Get("labels") + "' has " + std::to_string(labels.size()) +
                    " labels for " + std::to_string(file.rows) + " rows");
    }
  }
  std::string base = std::filesystem::path(path).filename().string();
  std::string collection = invocation.Get("collection");
  if (collection.empty()) {
    collection = base.substr(0, base.find('.'));
    for (char& ch : collection) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') ch = '_';
    }
  }
  v1::CollectionSpec spec;
  spec.set_embedding_type(collection);
  spec.set_metric(ParseMetric(invocation.Get("metric", "l2")));
  spec.mutable_index()->set_kind(invocation.Get("index", "hnsw"));
  spec.set_spatial_index(invocation.Get("spatial-index"));
  spec.mutable_index()->set_m(static_cast<uint32_t>(invocation.GetUint("m", 0)));
  spec.mutable_index()->set_ef_construction(
      static_cast<uint32_t>(invocation.GetUint("ef-construction", 0)));
  const bool images = file.format == VectorFile::Format::kIdxImages;
  const std::string absolute = std::filesystem::absolute(path).string();

  Client client(MakeClientOptions(invocation.global));
  ProgressBar progress(STDERR_FILENO, 1, file.rows * file.dimension * sizeof(float));
  uint64_t loaded = 0, replaced = 0;
  for (size_t start = 0; start < file.rows; start += batch) {
    const size_t end = std::min<size_t>(file.rows, start + batch);
    std::vector<v1::IngestAtomRequest> atoms;
    for (size_t r = start; r < end; ++r) {
      v1::IngestAtomRequest atom;
      const float* row = &file.values[r * file.dimension];
      atom.set_content(
          images ? file.raw_rows[r]
                 : std::string(reinterpret_cast<const char*>(row), file.dimension * sizeof(float)));
      atom.set_modality(images ? "image" : "embedding");
      atom.set_subtype(images ? "idx-ubyte" : "float32");
      atom.set_source_uri("file://" + absolute + "#" + std::to_string(r));
      atom.set_source_type("load-vectors");
      nlohmann::ordered_json meta = {{"row", r}};
      if (!labels.empty()) meta["label"] = labels[r];
      atom.set_metadata(meta.dump());
      atoms.push_back(std::move(atom));
    }
    v1::IngestAtomsResponse ingested;
    Check(client.IngestAtoms(atoms, &ingested));
    std::vector<v1::EmbeddingInput> inputs;
    for (size_t r = start; r < end; ++r) {
      v1::EmbeddingInput in;
      in.set_atom_id(ingested.results(static_cast<int>(r - start)).atom_id());
      const float* row = &file.values[r * file.dimension];
      in.mutable_vector()->Add(row, row + file.dimension);
      inputs.push_back(std::move(in));
    }
    v1::AddEmbeddingsResponse added;
    Check(client.AddEmbeddings(collection, &spec, inputs, &added));
    loaded += added.embeddings_added();
    replaced += added.embeddings_replaced();
    progress.Update(end == file.rows ? 1 : 0, end * file.dimension * sizeof(float));
  }
  progress.Clear();
  v1::Collection info;
  Check(client.GetCollection(collection, &info));
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["file"] = path;
    j["rows"] = file.rows;
    j["dimension"] = file.dimension;
    j["embeddings_added"] = loaded;
    j["embeddings_replaced"] = replaced;
    j["collection"] = CollectionToJson(info);
    PrintJson(std::cout, j);
  } else {
    std::cout << "loaded " << loaded << " vectors of dimension " << file.dimension << " from "
              << path << " into collection '" << collection << "'";
    if (replaced != 0) std::cout << " (" << replaced << " replaced an atom's earlier vector)";
    std::cout << "\ncollection '" << collection << "': " << info.vector_count() << " vectors, "
              << info.spec().index().kind() << ", " << MetricName(info.spec().metric()) << "\n";
  }
}

std::vector<OptionSpec> QuerySourceOptions() {
  return {{"vector", 0, "X,Y,...", "the query vector"},
          {"file", 0, "FILE", "take the query from a row of a vector file"},
          {"row", 0, "I", "the row of --file (default 0)"},
          {"atom", 0, "ID", "search with this atom's embedding (it is left out)"}};
}

std::vector<OptionSpec> FilterOptions() {
  return {{"modality", 0, "M", "only atoms of modality M"},
          {"subtype", 0, "S", "only atoms of subtype S"},
          {"source-type", 0, "T", "only atoms of source type T"},
          {"active", 0, "", "only active atoms"},
          {"where", 0, "K=V[,K=V]", "only atoms whose metadata has these top-level values"}};
}

void RunSearch(const Invocation& invocation) {
  v1::SearchRequest request;
  request.set_collection(invocation.args[0]);
  QuerySource source = ReadQuerySource(invocation);
  request.mutable_vector()->Add(source.vector.begin(), source.vector.end());
  request.set_atom_id(source.atom_id);
  request.set_limit(static_cast<uint32_t>(invocation.GetUint("k", 10)));
  request.mutable_params()->set_ef(static_cast<uint32_t>(invocation.GetUint("ef", 0)));
  request.mutable_params()->set_exact(invocation.Has("exact"));
  ReadFilter(invocation, request.mutable_filter());
  request.set_with_canonical_text(invocation.Has("text"));
  request.set_with_metadata(true);

  const v1::SearchResponse response = Call(invocation, &Client::Search, request);
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["path"] = PathName(response.path());
    j["candidates_examined"] = response.candidates_examined();
    j["results"] = ScoredAtomsJson(response.results(), request.with_canonical_text());
    PrintJson(std::cout, j);
    return;
  }
  PrintScoredAtoms(response.results(), request.with_canonical_text());
  std::cout << response.results_size() << " results (" << PathName(response.path()) << ", "
            << response.candidates_examined() << " candidates)\n";
}

std::vector<OptionSpec> SearchBatchOptions() {
  std::vector<OptionSpec> options = {
      {"limit", 0, "N", "the first N rows of FILE only (default: all)"},
      {"k", 'k', "N", "how many results per query (default 10)"},
      {"ef", 0, "N", "hnsw candidate list for every query"},
      {"exact", 0, "", "exact scan instead of the ANN index"}};
  for (const auto& o : FilterOptions()) options.push_back(o);
  return options;
}

void RunSearchBatch(const Invocation& invocation) {
  const VectorFile file = ReadVectorFile(invocation.args[1], invocation.GetUint("limit", 0));
  if (file.rows == 0) throw UsageError(invocation.args[1] + ": no rows");
  v1::SearchRequest query;
  query.set_collection(invocation.args[0]);
  query.set_limit(static_cast<uint32_t>(invocation.GetUint("k", 10)));
  query.mutable_params()->set_ef(static_cast<uint32_t>(invocation.GetUint("ef", 0)));
  query.mutable_params()->set_exact(invocation.Has("exact"));
  ReadFilter(invocation, query.mutable_filter());
  constexpr size_t kPerCall = 1000;  // the server's BatchSearch limit
  Client client(MakeClientOptions(invocation.global));
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (size_t first = 0; first < file.rows; first += kPerCall) {
    v1::BatchSearchRequest request;
    const size_t end = std::min(file.rows, first + kPerCall);
    for (size_t row = first; row < end; ++row) {
      v1::SearchRequest* q = request.add_searches();
      *q = query;
      const float* v = &file.values[row * file.dimension];
      q->mutable_vector()->Add(v, v + file.dimension);
    }
    v1::BatchSearchResponse response;
    Check(client.BatchSearch(request, &response));
    for (int i = 0; i < response.results_size(); ++i) {
      const v1::SearchResponse& r = response.results(i);
      const size_t row = first + static_cast<size_t>(i);
      if (invocation.global.json) {
        all.push_back({{"row", row},
                       {"path", PathName(r.path())},
                       {"results", ScoredAtomsJson(r.results(), false)}});
      } else {
        std::cout << "row " << row << ":";
        for (const auto& hit : r.results()) {
          std::cout << " " << hit.atom_id() << " (" << hit.distance() << ")";
        }
        std::cout << "\n";
      }
    }
  }
  if (invocation.global.json) PrintJson(std::cout, all);
}

void RunCollections(const Invocation& invocation) {
  const v1::ListCollectionsResponse list = Call(invocation, &Client::ListCollections);
  if (invocation.global.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (const auto& c : list.collections()) j.push_back(CollectionToJson(c));
    PrintJson(std::cout, j);
    return;
  }
  for (const auto& c : list.collections()) {
    std::cout << c.name() << "  dim=" << c.spec().dimension() << "  "
              << MetricName(c.spec().metric()) << "  " << c.spec().index().kind()
              << "  vectors=" << c.vector_count() << "  deleted=" << c.deleted_count()
              << "  memory=" << c.memory_bytes() << "B"
              << "  projection=" << c.projection().kind() << " v" << c.projection().version()
              << " scale=(" << c.projection().scale().x() << ", " << c.projection().scale().y()
              << ", " << c.projection().scale().z() << ")\n";
  }
  std::cout << list.collections_size() << " collections\n";
}

}  // namespace hartonomous::cli
