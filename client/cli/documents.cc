#include "documents.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "cli_errors.h"
#include "commands.h"
#include "document_ingest.h"
#include "hartonomous/client.h"
#include "input_files.h"
#include "json_output.h"
#include "output_file.h"
#include "stop_signals.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

uint32_t GetU32(const Invocation& invocation, std::string_view name) {
  const uint64_t v = invocation.GetUint(name, 0);
  if (v > 0xFFFFFFFFu) throw UsageError("--" + std::string(name) + " is too large");
  return static_cast<uint32_t>(v);
}

}  // namespace

std::vector<OptionSpec> IngestDocOptions() {
  return {
      {"modality", 0, "M", "modality of every document (default: detected from the content)"},
      {"format", 0, "F", "force a decomposer: text binary wav pnm idx png jpeg y4m"},
      {"text-encoding", 0, "ENC",
       "utf8 (default: text in another encoding is stored as binary) or latin1 (convert "
       "Latin-1 text to UTF-8 and store it as text)"},
      {"source-type", 0, "T", "source_type of every document (default: file)"},
      {"source-prefix", 0, "P", "source URI = P + the path (default: file:// + absolute path)"},
      {"no-source", 0, "", "send no source URI: every ingest adds a reference"},
      {"metadata", 0, "JSON", "a JSON object stored with every document"},
      {"patch", 0, "N", "image/video patch size N x N pixels (default: 16)"},
      {"frame-ms", 0, "MS", "audio frame length (default: 20)"},
      {"chunk-avg", 0, "BYTES", "average content-defined chunk size (default: 8192)"},
      {"keep-original", 0, "", "PNG/JPEG: also store the original file"},
      {"recursive", 'r', "", "ingest the regular files under directory arguments"},
      {"jobs", 'j', "N", "documents in flight at once (default: 64)"},
      {"fail-fast", 0, "", "stop at the first file that fails (default: keep going)"},
  };
}

void RunIngestDoc(const Invocation& invocation) {
  DocumentIngestOptions settings;
  const std::string encoding = invocation.Get("text-encoding", "utf8");
  if (encoding != "utf8" && encoding != "latin1") {
    throw UsageError("--text-encoding must be utf8 or latin1");
  }
  settings.convert_latin1 = encoding == "latin1";
  settings.fail_fast = invocation.Has("fail-fast");
  settings.json = invocation.global.json;
  settings.no_source = invocation.Has("no-source");
  settings.source_prefix = invocation.Get("source-prefix");
  if (settings.no_source && !settings.source_prefix.empty()) {
    throw UsageError("--no-source and --source-prefix exclude each other");
  }
  const uint64_t jobs = invocation.GetUint("jobs", kDefaultJobs);
  if (jobs < 1 || jobs > 256) throw UsageError("--jobs must be 1..256");
  settings.jobs = static_cast<unsigned>(jobs);
  v1::IngestDocumentRequest& header = settings.header;
  header.set_modality(invocation.Get("modality"));
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

  InputOptions input_options;
  input_options.recursive = invocation.Has("recursive");
  input_options.keep_going = true;
  auto inputs = CollectInputs(invocation.args, input_options);

  // Signals are blocked before the client starts gRPC's threads, so that
  // only the watcher sees them.
  DocumentIngest* running = nullptr;
  std::atomic<bool> ready{false};
  std::optional<StopSignals> signals;
  signals.emplace([&](int) {
    if (ready.load()) running->Stop();
  });
  Client client(MakeClientOptions(invocation.global));
  DocumentIngest ingest(client, std::move(inputs), std::move(settings));
  running = &ingest;
  ready.store(true);
  if (signals->signal() != 0) ingest.Stop();
  const DocumentIngestTotals totals = ingest.Run();
  signals.reset();  // joins the watcher: no Stop() after this point
  if (totals.interrupted) {
    throw Interrupted(
        std::to_string(totals.created + totals.reused + totals.replaced + totals.unchanged) +
        " document(s) done and whole; " + std::to_string(totals.not_attempted) +
        " file(s) not stored");
  }
  if (totals.failed != 0 || totals.not_attempted != 0) {
    throw Failure(std::to_string(totals.failed) + " of " + std::to_string(totals.files) +
                  " file(s) failed" +
                  (totals.stop_reason.empty() ? "" : " (stopped: " + totals.stop_reason + ")"));
  }
}

void RunGetDoc(const Invocation& invocation) {
  const uint64_t id = ParseUint64(invocation.args[0], "document id");
  const std::string output = invocation.Get("output");
  OutputFile out(output);
  Client client(MakeClientOptions(invocation.global));
  v1::DocumentDescription description;
  Check(client.GetDocument(id, invocation.Has("decoded"), &description,
                           [&](std::string_view chunk) { return out.Write(chunk); }));
  out.CheckSize(description.size(), "document");
  if (out.is_stdout()) return;
  out.Close();
  const uint64_t written = out.written();
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
  const bool by_source = invocation.Has("source");
  if (by_source == !invocation.args.empty()) {
    throw UsageError("delete-doc takes a document ID or --source, exactly one of them");
  }
  v1::DeleteDocumentResponse response;
  uint64_t id = 0;
  if (by_source) {
    const std::string source = invocation.Get("source");
    const std::string uri = source.find("://") != std::string::npos ? source : FileUri(source);
    response = Call(invocation, &Client::DeleteDocumentBySource, uri);
    id = response.root().atom_id();
  } else {
    id = ParseUint64(invocation.args[0], "document id");
    response = Call(invocation, &Client::DeleteDocument, id);
  }
  if (invocation.global.json) {
    PrintJson(std::cout, {{"document_id", id},
                          {"sources_removed", response.sources_removed()},
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
                     {"metadata", MetadataToJson(r.metadata())}});
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

void RunRelationsAdd(const Invocation& invocation) {
  if (!invocation.Has("type")) throw UsageError("relations add needs --type T");
  v1::AddRelationsRequest request;
  v1::Relation* edge = request.add_relations();
  edge->set_source_atom_id(ParseUint64(invocation.args[0], "source atom id"));
  edge->set_target_atom_id(ParseUint64(invocation.args[1], "target atom id"));
  edge->set_relation_type(invocation.Get("type"));
  if (invocation.Has("ordinal")) edge->set_ordinal(invocation.GetUint("ordinal", 0));
  if (invocation.Has("weight")) edge->set_weight(ParseDouble(invocation.Get("weight"), "--weight"));
  edge->set_metadata(invocation.Get("metadata"));
  const v1::AddRelationsResponse added = Call(invocation, &Client::AddRelations, request);
  const v1::Relation& r = added.relations(0);
  if (invocation.global.json) {
    PrintJson(std::cout, nlohmann::ordered_json{{"source_atom_id", r.source_atom_id()},
                                                {"target_atom_id", r.target_atom_id()},
                                                {"relation_type", r.relation_type()},
                                                {"ordinal", r.ordinal()},
                                                {"weight", r.weight()},
                                                {"metadata", MetadataToJson(r.metadata())},
                                                {"created", added.created() == 1}});
  } else {
    std::cout << (added.created() == 1 ? "added " : "updated ") << r.source_atom_id() << " -"
              << r.relation_type() << "[" << r.ordinal() << "]-> " << r.target_atom_id()
              << "  weight=" << r.weight() << "\n";
  }
}

void RunRelationsTraverse(const Invocation& invocation) {
  v1::TraverseRelationsRequest request;
  request.set_atom_id(ParseUint64(invocation.args[0], "atom id"));
  request.set_direction(invocation.Has("parents") ? v1::PARENTS : v1::CHILDREN);
  const std::string types = invocation.Get("type");
  for (size_t start = 0; !types.empty() && start <= types.size();) {
    const size_t comma = types.find(',', start);
    const std::string type =
        types.substr(start, comma == std::string::npos ? comma : comma - start);
    if (type.empty()) throw UsageError("--type: empty relation type in '" + types + "'");
    request.add_relation_types(type);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  request.set_max_depth(static_cast<uint32_t>(invocation.GetUint("depth", 0)));
  request.set_max_nodes(static_cast<uint32_t>(invocation.GetUint("max-nodes", 0)));
  const v1::TraverseRelationsResponse response =
      Call(invocation, &Client::TraverseRelations, request);
  if (invocation.global.json) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const v1::TraversalNode& n : response.nodes()) {
      nlohmann::ordered_json node = {{"atom_id", n.atom_id()}, {"depth", n.depth()}};
      if (n.has_via()) {
        node["via"] = {{"source_atom_id", n.via().source_atom_id()},
                       {"target_atom_id", n.via().target_atom_id()},
                       {"relation_type", n.via().relation_type()},
                       {"ordinal", n.via().ordinal()}};
      }
      nodes.push_back(node);
    }
    PrintJson(std::cout, {{"nodes", nodes}, {"truncated", response.truncated()}});
    return;
  }
  for (const v1::TraversalNode& n : response.nodes()) {
    std::cout << std::string(2 * n.depth(), ' ') << n.atom_id();
    if (n.has_via()) {
      std::cout << "  (" << n.via().source_atom_id() << " -" << n.via().relation_type() << "["
                << n.via().ordinal() << "]-> " << n.via().target_atom_id() << ")";
    }
    std::cout << "\n";
  }
  if (response.truncated()) std::cout << "(stopped at --max-nodes)\n";
}

}  // namespace hartonomous::cli
