#include "collections.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_errors.h"
#include "commands.h"
#include "embedding_files.h"
#include "json_output.h"
#include "vectors.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

void PrintCollection(std::ostream& out, const v1::Collection& c) {
  const auto& spec = c.spec();
  out << "name            " << c.name() << "\n"
      << "collection_id   " << c.collection_id() << "\n"
      << "embedding_type  " << spec.embedding_type() << "\n"
      << "model_id        " << spec.model_id() << "\n"
      << "dimension       " << spec.dimension() << "\n"
      << "metric          " << MetricName(spec.metric()) << "\n"
      << "index           " << spec.index().kind() << " (m=" << spec.index().m()
      << ", ef_construction=" << spec.index().ef_construction()
      << ", ef_search=" << spec.index().ef_search() << ")\n"
      << "spatial_index   " << spec.spatial_index() << "\n"
      << "vectors         " << c.vector_count() << " (" << c.deleted_count() << " deleted)\n"
      << "memory          " << c.memory_bytes() << " bytes (" << c.bytes_per_vector()
      << " per vector)\n"
      << "projection      " << c.projection().kind() << " v" << c.projection().version() << "\n";
}

void PrintCollectionResult(const Invocation& invocation, const v1::Collection& collection) {
  if (invocation.global.json) {
    PrintJson(std::cout, CollectionToJson(collection));
  } else {
    PrintCollection(std::cout, collection);
  }
}

uint32_t GetUint32(const Invocation& invocation, std::string_view name) {
  const uint64_t value = invocation.GetUint(name, 0);
  if (value > UINT32_MAX) throw UsageError("--" + std::string(name) + " is out of range");
  return static_cast<uint32_t>(value);
}

}  // namespace

std::vector<OptionSpec> CollectionCreateOptions() {
  return {
      {"dim", 0, "N", "vector dimension, 1-16384; required"},
      {"metric", 0, "M", "cosine|l2|ip (default cosine)"},
      {"index", 0, "KIND", "hnsw|hnsw_sq8|flat (default hnsw)"},
      {"type", 0, "T", "embedding type, e.g. text or image (default: the collection's name)"},
      {"model-id", 0, "N", "the model the vectors come from (default 0)"},
      {"m", 0, "N", "hnsw links per node, 2-128 (default 16)"},
      {"ef-construction", 0, "N", "hnsw build candidate list, 1-4096 (default 200)"},
      {"ef-search", 0, "N", "default ef of searches, 1-4096 (default 64)"},
      {"spatial-index", 0, "KIND", "index of the projected points: rtree|scan (default rtree)"}};
}

void RunCollectionCreate(const Invocation& invocation) {
  if (!invocation.Has("dim")) throw UsageError("--dim is required (the vectors' dimension)");
  v1::CreateCollectionRequest request;
  request.set_name(invocation.args[0]);
  v1::CollectionSpec* spec = request.mutable_spec();
  spec->set_embedding_type(invocation.Get("type", invocation.args[0]));
  spec->set_model_id(invocation.GetUint("model-id", 0));
  spec->set_dimension(GetUint32(invocation, "dim"));
  spec->set_metric(ParseMetric(invocation.Get("metric", "cosine")));
  spec->mutable_index()->set_kind(invocation.Get("index", "hnsw"));
  spec->mutable_index()->set_m(GetUint32(invocation, "m"));
  spec->mutable_index()->set_ef_construction(GetUint32(invocation, "ef-construction"));
  spec->mutable_index()->set_ef_search(GetUint32(invocation, "ef-search"));
  spec->set_spatial_index(invocation.Get("spatial-index"));
  PrintCollectionResult(invocation, Call(invocation, &Client::CreateCollection, request));
}

void RunCollectionShow(const Invocation& invocation) {
  PrintCollectionResult(invocation, Call(invocation, &Client::GetCollection, invocation.args[0]));
}

void RunCollectionDelete(const Invocation& invocation) {
  Client client(MakeClientOptions(invocation.global));
  Check(client.DeleteCollection(invocation.args[0]));
  if (invocation.global.json) {
    PrintJson(std::cout, {{"deleted", invocation.args[0]}});
  } else {
    std::cout << "deleted collection '" << invocation.args[0] << "'\n";
  }
}

void RunCollectionRebuild(const Invocation& invocation) {
  PrintCollectionResult(invocation, Call(invocation, &Client::RebuildIndex, invocation.args[0]));
}

void RunCollectionSnapshot(const Invocation& invocation) {
  PrintCollectionResult(invocation, Call(invocation, &Client::SnapshotIndex, invocation.args[0]));
}

void RunEmbeddingsShow(const Invocation& invocation) {
  const uint64_t atom_id = ParseUint64(invocation.args[0], "atom id");
  const v1::GetEmbeddingsResponse response =
      Call(invocation, &Client::GetEmbeddings, atom_id, invocation.Get("collection"));
  if (invocation.global.json) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& e : response.embeddings()) {
      all.push_back(
          {{"collection", e.collection()},
           {"embedding_id", e.embedding_id()},
           {"atom_id", e.atom_id()},
           {"dimension", e.dimension()},
           {"vector", std::vector<float>(e.vector().begin(), e.vector().end())},
           {"metadata", MetadataToJson(e.metadata())},
           {"spatial_geometry",
            {e.spatial_geometry().x(), e.spatial_geometry().y(), e.spatial_geometry().z()}}});
    }
    PrintJson(std::cout, all);
    return;
  }
  for (const auto& e : response.embeddings()) {
    std::cout << e.collection() << "  embedding=" << e.embedding_id() << "  dim=" << e.dimension()
              << "  [";
    for (int i = 0; i < e.vector_size() && i < 8; ++i) {
      std::cout << (i == 0 ? "" : ", ") << e.vector(i);
    }
    std::cout << (e.vector_size() > 8 ? ", ...]" : "]")
              << (e.metadata().empty() ? "" : "  " + e.metadata()) << "\n";
  }
  std::cout << response.embeddings_size() << " embeddings\n";
}

void RunEmbeddingsDelete(const Invocation& invocation) {
  const uint64_t atom_id = ParseUint64(invocation.args[1], "atom id");
  Client client(MakeClientOptions(invocation.global));
  Check(client.DeleteEmbedding(invocation.args[0], atom_id));
  if (invocation.global.json) {
    PrintJson(std::cout, {{"collection", invocation.args[0]}, {"deleted_atom_id", atom_id}});
  } else {
    std::cout << "deleted the embedding of atom " << atom_id << " from '" << invocation.args[0]
              << "'\n";
  }
}

std::vector<OptionSpec> AddEmbeddingsOptions() {
  return {{"atoms", 0, "IDS",
           "for .npy/.fvecs: the atom (or document) of each row, in order, e.g. 3,4,10-12"},
          {"metadata", 0, "JSON", "a JSON object stored with every embedding (CSV, .npy, .fvecs)"}};
}

void RunAddEmbeddings(const Invocation& invocation) {
  const std::string& collection = invocation.args[0];
  const std::string& path = invocation.args[1];
  std::vector<uint64_t> atoms;
  if (invocation.Has("atoms")) atoms = ParseIdList(invocation.Get("atoms"), "--atoms");
  if (EmbeddingFileFormatOf(path) == EmbeddingFileFormat::kRows && atoms.empty()) {
    throw UsageError("--atoms is required for .npy and .fvecs files (one atom id per row)");
  }
  std::string metadata;
  if (invocation.Has("metadata")) {
    metadata = invocation.Get("metadata");
    const auto parsed = nlohmann::json::parse(metadata, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object()) {
      throw UsageError("--metadata must be a JSON object, e.g. '{\"k\": \"v\"}'");
    }
  }
  std::vector<v1::EmbeddingInput> inputs = ReadEmbeddingFile(path, atoms);
  if (inputs.empty()) throw Failure("'" + path + "' holds no embeddings");
  for (auto& input : inputs) {
    if (!metadata.empty() && input.metadata().empty()) input.set_metadata(metadata);
  }

  Client client(MakeClientOptions(invocation.global));
  // Embeddings go to existing collections only: a typo must not create one.
  v1::Collection info;
  const grpc::Status found = client.GetCollection(collection, &info);
  if (found.error_code() == grpc::StatusCode::NOT_FOUND) {
    throw Failure("collection '" + collection +
                      "' does not exist; create it with: hartonomous collections create " +
                      collection + " --dim " + std::to_string(inputs[0].vector_size()),
                  "NOT_FOUND", "collection");
  }
  Check(found);
  v1::AddEmbeddingsResponse added;
  Check(client.AddEmbeddings(collection, nullptr, inputs, &added));
  if (invocation.global.json) {
    nlohmann::ordered_json j;
    j["collection"] = collection;
    j["file"] = path;
    j["embeddings_added"] = added.embeddings_added();
    j["embeddings_replaced"] = added.embeddings_replaced();
    j["embedding_ids"] =
        std::vector<uint64_t>(added.embedding_ids().begin(), added.embedding_ids().end());
    PrintJson(std::cout, j);
  } else {
    std::cout << "added " << added.embeddings_added() << " embeddings to '" << collection << "'";
    if (added.embeddings_replaced() != 0) {
      std::cout << " (" << added.embeddings_replaced() << " replaced an atom's earlier vector)";
    }
    std::cout << "\n";
  }
}

}  // namespace hartonomous::cli
