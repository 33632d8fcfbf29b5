#include "documents.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli_errors.h"
#include "commands.h"
#include "hartonomous/client.h"
#include "input_files.h"
#include "json_output.h"
#include "modality.h"
#include "progress.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

// The modality to declare for a file: the decomposable ones the name (or,
// without an extension, the content) shows; otherwise empty and the server
// chooses from the content.
std::string DocumentModality(const std::string& path, std::string_view head) {
  const std::string ext = LowercaseExtension(path);
  if (ext == "y4m") return "video";
  const std::string guess = GuessModality(path, head);
  if (guess == "text" || guess == "image" || guess == "audio") return guess;
  return "";
}

uint32_t GetU32(const Invocation& invocation, std::string_view name) {
  const uint64_t v = invocation.GetUint(name, 0);
  if (v > 0xFFFFFFFFu) throw UsageError("--" + std::string(name) + " is too large");
  return static_cast<uint32_t>(v);
}

nlohmann::ordered_json ResponseJson(const std::string& path, const v1::IngestDocumentResponse& r) {
  return {{"path", path},
          {"document_id", r.document_id()},
          {"content_hash", r.content_hash()},
          {"created", r.created()},
          {"reference_count", r.reference_count()},
          {"modality", r.modality()},
          {"format", r.format()},
          {"parts", r.parts()},
          {"atoms_created", r.atoms_created()},
          {"atoms_reused", r.atoms_reused()},
          {"bytes_received", r.bytes_received()},
          {"bytes_stored", r.bytes_stored()}};
}

}  // namespace

std::vector<OptionSpec> IngestDocOptions() {
  return {
      {"modality", 0, "M", "modality of every document (default: guessed per file)"},
      {"format", 0, "F", "force a decomposer: text binary wav pnm idx png jpeg y4m"},
      {"source-type", 0, "T", "source_type of every document (default: file)"},
      {"metadata", 0, "JSON", "a JSON object stored with every document"},
      {"patch", 0, "N", "image/video patch size N x N pixels (default: 16)"},
      {"frame-ms", 0, "MS", "audio frame length (default: 20)"},
      {"chunk-avg", 0, "BYTES", "average content-defined chunk size (default: 8192)"},
      {"keep-original", 0, "", "PNG/JPEG: also store the original file"},
      {"recursive", 'r', "", "ingest the regular files under directory arguments"},
  };
}

void RunIngestDoc(const Invocation& invocation) {
  InputOptions input_options;
  input_options.recursive = invocation.Has("recursive");
  const auto inputs = CollectInputs(invocation.args, input_options);
  v1::IngestDocumentRequest header;
  header.set_source_type(invocation.Get("source-type", "file"));
  header.set_metadata(invocation.Get("metadata"));
  auto* options = header.mutable_options();
  options->set_format(invocation.Get("format"));
  const uint32_t patch = GetU32(invocation, "patch");
  options->set_patch_width(patch);
  options->set_patch_height(patch);
  options->set_frame_ms(GetU32(invocation, "frame-ms"));
  const uint32_t avg = GetU32(invocation, "chunk-avg");
  if (avg != 0) {
    options->set_chunk_avg_bytes(avg);
    options->set_chunk_min_bytes(std::max<uint32_t>(64, avg / 4));
    options->set_chunk_max_bytes(avg * 8);
  }
  options->set_keep_original(invocation.Has("keep-original"));

  uint64_t total_bytes = 0;
  for (const auto& in : inputs) total_bytes += in.size_known ? in.size : 0;
  Client client(MakeClientOptions(invocation.global));
  ProgressBar progress(STDERR_FILENO, inputs.size(), total_bytes);
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  uint64_t done_bytes = 0, files = 0, created = 0, reused = 0, received = 0, stored = 0;
  for (const auto& in : inputs) {
    const std::string content = ReadInput(in);
    v1::IngestDocumentRequest request = header;
    request.set_source_uri(in.source_uri);
    request.set_modality(
        invocation.Has("modality")
            ? invocation.Get("modality")
            : DocumentModality(in.path, std::string_view(content).substr(0, 65536)));
    std::istringstream stream(content);
    v1::IngestDocumentResponse response;
    const grpc::Status status =
        client.IngestDocument(request, stream, &response,
                              [&](uint64_t sent) { progress.Update(files, done_bytes + sent); });
    progress.Clear();
    if (!status.ok()) {
      throw Failure(in.path + ": " + RpcFailure(status).what());
    }
    done_bytes += content.size();
    ++files;
    created += response.atoms_created();
    reused += response.atoms_reused();
    received += response.bytes_received();
    stored += response.bytes_stored();
    if (invocation.global.json) {
      results.push_back(ResponseJson(in.path, response));
    } else {
      std::cout << response.document_id() << "  " << response.format()
                << "  parts=" << response.parts() << "  atoms created=" << response.atoms_created()
                << " reused=" << response.atoms_reused()
                << "  bytes stored=" << response.bytes_stored() << "/" << response.bytes_received()
                << "  " << (response.created() ? "created" : "reused") << "  " << in.path << "\n";
    }
  }
  if (invocation.global.json) {
    PrintJson(std::cout, {{"results", results},
                          {"documents", files},
                          {"atoms_created", created},
                          {"atoms_reused", reused},
                          {"bytes_received", received},
                          {"bytes_stored", stored}});
  } else {
    std::cout << files << " document(s): " << created << " atoms created, " << reused << " reused; "
              << stored << " of " << received << " bytes stored\n";
  }
}

void RunGetDoc(const Invocation& invocation) {
  const uint64_t id = ParseUint64(invocation.args[0], "document id");
  const std::string output = invocation.Get("output");
  if (output.empty()) throw UsageError("-o FILE is required ('-' = standard output)");
  Client client(MakeClientOptions(invocation.global));
  v1::DocumentDescription description;
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (output != "-") {
    file.open(output, std::ios::binary | std::ios::trunc);
    if (!file) throw Failure("cannot write '" + output + "'");
    out = &file;
  }
  uint64_t written = 0;
  Check(
      client.GetDocument(id, invocation.Has("decoded"), &description, [&](std::string_view chunk) {
        out->write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        written += chunk.size();
        return static_cast<bool>(*out);
      }));
  if (written != description.size()) {
    throw Failure("received " + std::to_string(written) + " bytes but the document has " +
                  std::to_string(description.size()));
  }
  if (output == "-") return;
  file.close();
  if (!file) throw Failure("cannot write '" + output + "'");
  if (invocation.global.json) {
    PrintJson(std::cout, {{"document_id", id},
                          {"format", description.format()},
                          {"media_type", description.media_type()},
                          {"original", description.original()},
                          {"bytes", written},
                          {"output", output}});
  } else {
    std::cout << "wrote " << written << " bytes (" << description.media_type() << ") to " << output
              << "\n";
  }
}

void RunDeleteDoc(const Invocation& invocation) {
  const uint64_t id = ParseUint64(invocation.args[0], "document id");
  const v1::DeleteDocumentResponse response = Call(invocation, &Client::DeleteDocument, id);
  if (invocation.global.json) {
    PrintJson(std::cout, {{"document_id", id},
                          {"reference_count", response.root().reference_count()},
                          {"is_active", response.root().is_active()},
                          {"atoms_deactivated", response.atoms_deactivated()}});
  } else {
    std::cout << "document " << id << ": refs=" << response.root().reference_count() << "  "
              << (response.root().is_active() ? "active" : "inactive") << "  "
              << response.atoms_deactivated() << " atom(s) became inactive\n";
  }
}

void RunRelations(const Invocation& invocation) {
  v1::ListRelationsRequest request;
  request.set_atom_id(ParseUint64(invocation.args[0], "atom id"));
  request.set_direction(invocation.Has("parents") ? v1::PARENTS : v1::CHILDREN);
  request.set_relation_type(invocation.Get("type"));
  const uint64_t limit = invocation.GetUint("limit", 0);
  Client client(MakeClientOptions(invocation.global));
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  uint64_t count = 0;
  Check(client.ListRelations(request, [&](const v1::Relation& r) {
    if (invocation.global.json) {
      all.push_back({{"source_atom_id", r.source_atom_id()},
                     {"target_atom_id", r.target_atom_id()},
                     {"relation_type", r.relation_type()},
                     {"ordinal", r.ordinal()},
                     {"weight", r.weight()},
                     {"metadata", r.metadata()}});
    } else {
      std::cout << r.source_atom_id() << " -" << r.relation_type() << "[" << r.ordinal() << "]-> "
                << r.target_atom_id() << "  weight=" << r.weight()
                << (r.metadata().empty() ? "" : "  " + r.metadata()) << "\n";
    }
    ++count;
    return limit == 0 || count < limit;
  }));
  if (invocation.global.json) PrintJson(std::cout, all);
}

}  // namespace hartonomous::cli
