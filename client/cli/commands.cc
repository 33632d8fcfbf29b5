#include "commands.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <type_traits>

#include "activations.h"
#include "api_keys.h"
#include "backup.h"
#include "check.h"
#include "cli_errors.h"
#include "collections.h"
#include "documents.h"
#include "health.h"
#include "help.h"
#include "inference.h"
#include "ingest.h"
#include "json_output.h"
#include "models.h"
#include "policies.h"
#include "spatial.h"
#include "text_output.h"
#include "vectors.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

bool IsContentHash(std::string_view key) {
  if (key.size() != 64) return false;
  for (char c : key) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

uint64_t ParseAtomId(const std::string& text) { return ParseUint64(text, "atom id"); }

void WriteContent(const v1::Atom& atom, const std::string& output) {
  if (atom.content().size() != atom.content_size()) {
    throw Failure("received " + std::to_string(atom.content().size()) +
                  " bytes of content but the atom's content_size is " +
                  std::to_string(atom.content_size()));
  }
  if (output == "-") {
    std::cout.write(atom.content().data(), static_cast<std::streamsize>(atom.content().size()));
    return;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file.write(atom.content().data(), static_cast<std::streamsize>(atom.content().size()));
  file.close();
  if (!file) throw Failure("cannot write '" + output + "'");
}

void RunGet(const Invocation& invocation) {
  const std::string& key = invocation.args[0];
  const bool by_hash = IsContentHash(key);
  uint64_t atom_id = 0;
  if (!by_hash) {
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), atom_id);
    if (key.empty() || ec != std::errc() || end != key.data() + key.size()) {
      throw UsageError("'" + key + "' is neither a decimal atom id nor a 64-hex content hash");
    }
  }
  const bool show_content = invocation.Has("content");
  const bool to_file = invocation.Has("output");
  const std::string output = invocation.Get("output");
  if (to_file && output.empty()) {
    throw UsageError("-o needs a file name, or '-' for stdout");
  }

  Client client(MakeClientOptions(invocation.global));
  v1::Atom atom;
  if (by_hash) {
    std::string hash = key;
    for (char& c : hash) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    Check(client.GetAtomByHash(hash, show_content || to_file, &atom));
  } else {
    Check(client.GetAtom(atom_id, show_content || to_file, &atom));
  }
  if (to_file) {
    WriteContent(atom, output);
    if (output == "-") return;  // stdout carries the content only
  }
  if (invocation.global.json) {
    PrintJson(std::cout, AtomToJson(atom, show_content));
  } else {
    PrintAtom(std::cout, atom, show_content);
  }
}

void RunList(const Invocation& invocation) {
  v1::ListAtomsRequest request;
  request.set_modality(invocation.Get("modality"));
  request.set_subtype(invocation.Get("subtype"));
  request.set_source_type(invocation.Get("source-type"));
  if (invocation.Has("active") && invocation.Has("inactive")) {
    throw UsageError("--active and --inactive exclude each other");
  }
  if (invocation.Has("active")) request.set_is_active(true);
  if (invocation.Has("inactive")) request.set_is_active(false);
  const uint64_t limit = invocation.GetUint("limit", 0);
  int32_t page_size = invocation.GetInt32("page-size", 0);
  if (!invocation.Has("page-size") && limit > 0 && limit < 50) {
    page_size = static_cast<int32_t>(limit);  // do not fetch more than asked for
  }
  request.set_page_size(page_size);

  Client client(MakeClientOptions(invocation.global));
  uint64_t count = 0;
  const bool json = invocation.global.json;
  AtomListing listing(std::cout);
  if (json) std::cout << '[';
  const grpc::Status status = client.ListAtoms(request, [&](const v1::Atom& atom) {
    if (json) {
      std::string text = DumpJson(AtomToJson(atom, false));
      // Indent the object as an array element; JSON strings hold no raw newline.
      for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 3)) {
        text.replace(at, 1, "\n  ");
      }
      std::cout << (count == 0 ? "\n  " : ",\n  ") << text;
    } else {
      listing.Add(atom);
    }
    ++count;
    return limit == 0 || count < limit;
  });
  Check(status);
  if (json) {
    std::cout << (count == 0 ? "]\n" : "\n]\n");
  } else {
    listing.Finish();
  }
}

// result on stdout: to_json(result) with --json, else print's text.
template <typename T>
void PrintResult(const Invocation& invocation, const T& result,
                 std::type_identity_t<nlohmann::ordered_json (*)(const T&)> to_json,
                 std::type_identity_t<void (*)(std::ostream&, const T&)> print) {
  if (invocation.global.json) {
    PrintJson(std::cout, to_json(result));
  } else {
    print(std::cout, result);
  }
}

void RunStats(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::GetDedupStats, invocation.GetInt32("top", 0)),
              DedupStatsToJson, PrintDedupStats);
}

nlohmann::ordered_json AtomStateToJson(const v1::Atom& atom) { return AtomToJson(atom, false); }

void RunRelease(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::ReleaseAtom, ParseAtomId(invocation.args[0])),
              AtomStateToJson, PrintAtomState);
}

void RunDelete(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::DeleteAtom, ParseAtomId(invocation.args[0])),
              AtomStateToJson, PrintAtomState);
}

void RunPurge(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::PurgeInactive, invocation.GetUint("max", 0)),
              PurgeToJson, PrintPurge);
}

void RunServerStats(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::GetServerStats), ServerStatsToJson,
              PrintServerStats);
}

void RunCompact(const Invocation& invocation) {
  PrintResult(invocation, Call(invocation, &Client::Compact, invocation.Has("purge-inactive")),
              CompactToJson, PrintCompact);
}

void RunHelp(const Invocation& invocation) {
  if (invocation.args.empty()) {
    std::cout << UsageText(Commands());
    return;
  }
  // "help model list": a command of two words.
  std::string name = invocation.args[0];
  for (size_t i = 1; i < invocation.args.size(); ++i) name += " " + invocation.args[i];
  for (const CommandSpec& command : Commands()) {
    if (command.name == name) {
      std::cout << CommandHelp(command);
      return;
    }
  }
  throw UsageError("unknown command '" + name + "'");
}

constexpr std::string_view kCollectionCreateDetails =
    "Creates an empty collection for vectors of --dim components. NAME is 1-128\n"
    "characters of [A-Za-z0-9_.-]; each (embedding type, model id) pair has one\n"
    "collection (ALREADY_EXISTS otherwise). Embeddings are added with\n"
    "add-embeddings, or with ingest --collection NAME --vector ...";

constexpr std::string_view kAddEmbeddingsDetails =
    "Gives existing atoms (or documents: a document id is its root atom's id) a\n"
    "vector in COLLECTION, which must exist (collections create). FILE is one of:\n"
    "  .npy / .fvecs (may be .gz)  one row per atom, atoms named by --atoms in order\n"
    "  .csv                        ATOM_ID,X1,X2,... per line (a header line is skipped)\n"
    "  .jsonl / .ndjson / .json    {\"atom_id\": N, \"vector\": [...], \"metadata\": {...}}\n"
    "                              per line (\"document_id\" may stand for \"atom_id\")\n"
    "All embeddings travel on one stream: one transaction, all or none. An atom's\n"
    "earlier vector in the collection is replaced.";

constexpr std::string_view kPolicyDetails =
    "Deduplication policies decide when ingested content with an embedding reuses\n"
    "an existing atom: exact hash, cosine similarity >= --semantic, or projected\n"
    "distance <= --spatial (ingest --policy NAME). POLICY is a policy id when it\n"
    "is all digits, else a name. Built-in policies: strict, semantic, spatial.";

constexpr std::string_view kCompactDetails =
    "Writes a compacted copy of the server's data file beside it and swaps it\n"
    "in while the server keeps serving: reads continue, writes wait while the\n"
    "copy is written. Needs free space for the copy (at most the data in use);\n"
    "without it the server answers RESOURCE_EXHAUSTED and changes nothing.\n"
    "A second compact while one runs fails (FAILED_PRECONDITION). Large data\n"
    "files may need a longer --timeout.\n";

constexpr std::string_view kCheckDetails =
    "Verifies, on one consistent snapshot while the server keeps serving, that\n"
    "reference counts cover the rows holding references, that the hash, state\n"
    "and embedding indexes match their tables both ways, that relation rows\n"
    "have their reverse rows and endpoints, that vector and spatial indexes\n"
    "hold exactly each collection's rows, and that tensor rows name existing\n"
    "atoms, models and layers. --repair fixes only index-only mismatches.\n"
    "Exits 1 when mismatches remain.";

constexpr std::string_view kIngestDetails =
    "Each FILE becomes one atom; '-' reads standard input (source_uri 'stdin').\n"
    "source_uri is file://<absolute path>. The modality is guessed from the\n"
    "extension: .txt .md .json .csv .xml .yaml .log, source code, ... => text;\n"
    ".png .jpg .jpeg .pgm .ppm => image; .wav => audio; .y4m .mp4 => video;\n"
    ".npy => tensor; no extension and valid UTF-8 => text; else binary.\n"
    "Text content up to 64 KiB is also sent as canonical_text.\n"
    "\n"
    "All files travel on one IngestAtoms stream, and each stream is one\n"
    "transaction: all of its atoms are committed or none. When the bytes of\n"
    "a stream (content and the other fields, as the server counts them against\n"
    "--max-batch-bytes) would exceed --max-stream-bytes, a new stream (a new\n"
    "transaction) starts, so a very large ingest commits in several parts.\n"
    "--timeout bounds each stream as a whole.\n"
    "\n"
    "Output: one line per file, 'ATOM_ID  HASH  refs=N  created|reused  PATH',\n"
    "then a summary; with --json one document with \"results\" and totals.\n"
    "A progress bar is drawn on stderr when it is a terminal.";

constexpr std::string_view kIngestDocDetails =
    "Each FILE becomes one document: the server decomposes it into atoms (text:\n"
    "paragraphs and sentences; PNG/JPEG/PGM/PPM/IDX: pixel patches; WAV: frames;\n"
    "Y4M: frames of patches; anything else: content-defined chunks) and commits\n"
    "it whole or not at all. Modality and format come from the content (magic\n"
    "numbers, then UTF-8 text, else binary), never from the name; text in another\n"
    "encoding is stored as binary unless --text-encoding latin1 converts it.\n"
    "\n"
    "Bad files (unreadable, vanished, changed, FIFOs, devices, symlink loops, over\n"
    "the server's limit, refused) are reported by name and the rest continue;\n"
    "--fail-fast stops at the first. Each file's source URI (file:// + absolute\n"
    "path) is its identity: re-running stores nothing new, a changed file\n"
    "replaces its previous version. --jobs documents are in flight at once.\n"
    "\n"
    "Output: one line per file in input order, 'DOC_ID  FORMAT  parts=N  atoms\n"
    "created=A reused=R  bytes stored=S/RECEIVED  STATUS  PATH' (STATUS: created,\n"
    "reused, unchanged, replaced OLD_ID), then a summary on stderr with every\n"
    "failure and its reason (--json: one object). Exit status: 0 all stored,\n"
    "1 any file failed or was not attempted, 2 usage error, 130 interrupted\n"
    "(Ctrl-C cancels the documents in flight; finished ones stay whole).";

constexpr std::string_view kGetDetails =
    "A 64-hex argument is a content hash, anything else a decimal atom id.\n"
    "--content shows the content (text, or base64 \"content\" with --json);\n"
    "-o FILE writes the raw content bytes to FILE; with -o - they go to stdout\n"
    "and nothing else is printed there.";

constexpr std::string_view kLoadVectorsDetails =
    "Each row becomes one atom (IDX images: modality 'image' with the image's\n"
    "bytes as content and pixels/255 as the vector; .npy/.fvecs: modality\n"
    "'embedding' with the float32 row as content) and one embedding in the\n"
    "collection, which is created on first use. Metadata holds the row number\n"
    "and, with --labels, the row's label, so that searches can filter on it\n"
    "(hartonomous search C --where label=3). Rows are sent --batch at a time:\n"
    "each batch is one transaction. Files may be gzip-compressed.";

constexpr std::string_view kSearchDetails =
    "Prints 'ATOM_ID  DISTANCE  METADATA' per result, nearest first, then which\n"
    "path answered (ann, ann_post_filter, exact, exact_filtered). Under a filter\n"
    "the answer holds k results whenever k atoms match.";

constexpr std::string_view kHybridDetails =
    "Stage 1 keeps the embeddings whose projected point lies within --radius of\n"
    "the centre (--at, or the query's own projection), or the nearest --fraction\n"
    "of the collection; stage 2 ranks them exactly. Radii are in the units of the\n"
    "projection's scale (see `collections` or `refit`). --recall runs the exact\n"
    "search too and prints the answer's recall@k.";

constexpr std::string_view kModelListDetails =
    "Prints 'ID  NAME  TYPE  ARCHITECTURE  PARAMETERS  LAYERS  INGESTED' per model\n"
    "in model id order (with --prefix, in name order), then the count; with\n"
    "--json an array of models with their metadata. Filters combine: every given\n"
    "one must hold.";

constexpr std::string_view kModelShowDetails =
    "MODEL is a model id when it is all digits, else a model name. Prints the\n"
    "model's fields and metadata, then its layers in layer index order:\n"
    "'IDX  LAYER_ID  NAME  TYPE  SHAPE  DTYPE  PARAMETERS  QUANTIZATION'. With\n"
    "--json one object with a \"layers\" array.";

constexpr std::string_view kModelCreateDetails =
    "Creates a catalog entry (no weights: model files are imported separately).\n"
    "Names are unique, 1-128 characters of [A-Za-z0-9_.:/+-] and not all digits;\n"
    "type and architecture are 0-64 characters of [A-Za-z0-9_.-]. The config file\n"
    "must hold one JSON object of at most 1 MiB. Prints the created model.";

constexpr std::string_view kModelDeleteDetails =
    "MODEL is a model id when it is all digits, else a model name. Deletes the\n"
    "model with its metadata and all its layers, in one transaction.";
constexpr char kModelSetValuesDetails[] =
    "Stores one value per parameter of layer LAYER_IDX of MODEL, in flat index\n"
    "order: --kind importance (the geometry's Z, and the layer's rank in\n"
    "extract-student when it has no importance of its own) or temporal (M).\n"
    "They replace the stored values of that kind; atoms no one references any\n"
    "more are purged at once. The count must equal the layer's parameter count\n"
    "and every value must be finite; all or nothing.";
constexpr char kModelDeleteLayerDetails[] =
    "Deletes layer LAYER_IDX of MODEL and its cached activations. Its tensor rows\n"
    "stay with the model, detached from any layer, so an imported model still\n"
    "exports its file byte for byte; they are released with the model.";

constexpr std::string_view kModelImportDetails =
    "Streams each FILE (safetensors, GGUF or ONNX) to the server, which stores\n"
    "the model with one layer per tensor and its bytes as deduplicated atoms:\n"
    "tensors another model stored already cost nothing. Prints, per file, the\n"
    "new bytes stored and how many layers were shared. Each file is stored\n"
    "whole or not at all; the first failing file stops the command. An ONNX\n"
    "file whose tensors keep their values in external data files is sent\n"
    "with them: each location it names is read beside the file (a location\n"
    "that is absolute or leaves the file's directory is refused).";

constexpr std::string_view kModelExportDetails =
    "Writes the file MODEL was imported from, byte for byte (the server checks\n"
    "its SHA-256); a model built by extraction or quantization is written as\n"
    "safetensors. --format F asks for safetensors, gguf or onnx: the format of\n"
    "the model's file gives that file (a quantized copy: its source's file with\n"
    "the quantized layers dequantized in place), safetensors and gguf are\n"
    "otherwise built from the layers. An ONNX model imported with external\n"
    "data files writes each beside the output file, under the location the\n"
    "model names (not with -o -). MODEL is a model id when it is all\n"
    "digits, else a name.";

constexpr std::string_view kModelStudentDetails =
    "Ranks TEACHER's layers by average importance (a layer's importance when\n"
    "set, else the mean absolute value of its weights) and creates --name with\n"
    "the top --ratio of them, in the teacher's order. The student's layers\n"
    "reference the teacher's tensor atoms: no tensor byte is copied. It exports\n"
    "(model export) as a safetensors file.";

constexpr std::string_view kInferenceLogDetails =
    "Logs one inference; the model's usage counters and the analytics are\n"
    "updated in the same transaction. --duration-ms is required. --attributes\n"
    "takes OpenTelemetry GenAI attributes (gen_ai.operation.name, ...), mapped\n"
    "onto the fields. With --request-id a retry is logged once.";

constexpr std::string_view kInferenceStatsDetails =
    "Per model (or --by task) over the last 7 days (or --hours H): count,\n"
    "average and p50/p95/p99 duration in ms (within 1%), average confidence and\n"
    "tokens, sorted by --sort. --bucket minute|hour|day prints a time series.";

constexpr std::string_view kBackupDetails =
    "PATH is a directory the server creates (absolute, new). It receives a fresh\n"
    "snapshot of every vector index and LMDB's compacted copy, while the server\n"
    "keeps serving. Restore: start hartonomousd with --data-dir PATH (or copy\n"
    "PATH into place while the server is stopped).";

constexpr std::string_view kSpatialDetails =
    "Prints 'ATOM_ID  (X, Y, Z)  DISTANCE' per point, nearest to the centre first\n"
    "(the box's centre for --box). Boundaries are inside.";

constexpr std::string_view kKeysDetails =
    "A key's role bounds what it may call: read (get, list, search, export),\n"
    "write (also ingest, delete, models, inference logs), admin (everything,\n"
    "keys included). The first key created turns authentication on for good:\n"
    "from then on every call needs a key (--api-key-file or $HARTONOMOUS_API_KEY).\n"
    "Save the token now: the server keeps only its SHA-256.";

}  // namespace

ClientOptions MakeClientOptions(const GlobalOptions& global) {
  ClientOptions options;
  options.target = global.server;
  options.timeout = global.timeout;
  options.api_key = global.api_key;
  if (options.api_key.empty()) {
    if (const char* key = std::getenv("HARTONOMOUS_API_KEY")) options.api_key = key;
  }
  auto or_env = [](const std::string& flag, const char* variable) {
    const char* value = std::getenv(variable);
    return !flag.empty() || value == nullptr ? flag : std::string(value);
  };
  const std::string ca = or_env(global.tls_ca, "HARTONOMOUS_TLS_CA");
  const std::string cert = or_env(global.tls_cert, "HARTONOMOUS_TLS_CERT");
  const std::string key = or_env(global.tls_key, "HARTONOMOUS_TLS_KEY");
  if (global.tls || !ca.empty() || !cert.empty() || !key.empty()) {
    std::string error;
    if (!LoadTlsFiles(ca, cert, key, &options, &error)) throw UsageError("TLS: " + error);
  }
  return options;
}

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {.name = "ingest",
       .args_usage = "FILE...|-",
       .summary = "store files (or standard input) as atoms",
       .details = kIngestDetails,
       .options = IngestOptions(),
       .min_args = 1,
       .run = &RunIngest},
      {.name = "ingest-doc",
       .args_usage = "FILE...",
       .summary = "store files as documents decomposed into atoms",
       .details = kIngestDocDetails,
       .options = IngestDocOptions(),
       .min_args = 1,
       .run = &RunIngestDoc},
      {.name = "get-doc",
       .args_usage = "ID",
       .summary = "rebuild a document from its atoms",
       .options = {{"output", 'o', "FILE", "write the document to FILE ('-' = stdout); required"},
                   {"decoded", 0, "",
                    "PNG/JPEG kept with --keep-original: the decoded pixels as PNG instead"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunGetDoc},
      {.name = "delete-doc",
       .args_usage = "ID | --source FILE|URI",
       .summary = "drop one reference of a document; at zero its atoms are released",
       .options = {{"source", 0, "FILE|URI",
                    "the document ingested from this source: a URI (with '://') as "
                    "given, or a file path as ingest-doc names it (file:// + absolute "
                    "path); the source is removed"}},
       .min_args = 0,
       .max_args = 1,
       .run = &RunDeleteDoc},
      {.name = "relations",
       .args_usage = "ID",
       .summary = "list the relation edges out of (or into) an atom",
       .options = {{"parents", 0, "", "edges into the atom instead of out of it"},
                   {"type", 0, "T", "only edges of relation type T"},
                   {"limit", 0, "N", "stop after N edges (default: 0 = all)"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunRelations},
      {.name = "relations add",
       .args_usage = "SOURCE TARGET",
       .summary = "add a relation edge between two atoms (or update its weight and metadata)",
       .options = {{"type", 0, "T", "relation type, e.g. cites (required)"},
                   {"ordinal", 0, "N", "position among the source's edges of the type"},
                   {"weight", 0, "W", "edge weight (default 1)"},
                   {"metadata", 0, "JSON", "a JSON object"}},
       .min_args = 2,
       .max_args = 2,
       .run = &RunRelationsAdd},
      {.name = "relations traverse",
       .args_usage = "ID",
       .summary = "the atoms reachable from an atom, breadth first, with the edge each came by",
       .options = {{"parents", 0, "", "follow edges into atoms instead of out of them"},
                   {"type", 0, "T[,T...]", "only edges of these relation types"},
                   {"depth", 0, "N", "levels at most (default: 3; at most 64)"},
                   {"max-nodes", 0, "N", "atoms at most (default: 1000)"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunRelationsTraverse},
      {.name = "get",
       .args_usage = "ID|HASH",
       .summary = "show one atom, by atom id or content hash",
       .details = kGetDetails,
       .options = {{"content", 0, "", "include the content"},
                   {"output", 'o', "FILE", "write the raw content to FILE ('-' = stdout)"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunGet},
      {.name = "list",
       .summary = "list atoms in atom id order",
       .options = {{"modality", 0, "M", "only atoms of modality M"},
                   {"subtype", 0, "S", "only atoms of subtype S"},
                   {"source-type", 0, "T", "only atoms of source type T"},
                   {"active", 0, "", "only active atoms"},
                   {"inactive", 0, "", "only inactive atoms"},
                   {"limit", 0, "N", "stop after N atoms (default: 0 = all)"},
                   {"page-size", 0, "N", "atoms per request (default: the server's, 50)"}},
       .max_args = 0,
       .run = &RunList},
      {.name = "stats",
       .summary = "dedup statistics: top atoms, savings per modality",
       .options = {{"top", 0, "N", "how many top atoms (default: the server's, 10)"}},
       .max_args = 0,
       .run = &RunStats},
      {.name = "release",
       .args_usage = "ID",
       .summary = "drop one reference; at zero the atom becomes inactive",
       .min_args = 1,
       .max_args = 1,
       .run = &RunRelease},
      {.name = "delete",
       .args_usage = "ID",
       .summary = "soft delete: inactive, with zero references",
       .min_args = 1,
       .max_args = 1,
       .run = &RunDelete},
      {.name = "purge",
       .summary = "hard delete inactive atoms and their dependent rows",
       .options = {{"max", 0, "N", "purge at most N atoms (default: 0 = all)"}},
       .max_args = 0,
       .run = &RunPurge},
      {.name = "load-vectors",
       .args_usage = "FILE",
       .summary = "load a .npy, .fvecs or IDX image file as atoms with embeddings",
       .details = kLoadVectorsDetails,
       .options = LoadVectorsOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunLoadVectors},
      {.name = "search",
       .args_usage = "COLLECTION",
       .summary = "nearest atoms to a vector, a file row or an atom",
       .details = kSearchDetails,
       .options = SearchOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunSearch},
      {.name = "search-batch",
       .args_usage = "COLLECTION FILE",
       .summary = "every row of a vector file (.npy, .fvecs, IDX) as a query, in BatchSearch calls",
       .options = SearchBatchOptions(),
       .min_args = 2,
       .max_args = 2,
       .run = &RunSearchBatch},
      {.name = "hybrid",
       .args_usage = "COLLECTION",
       .summary = "spatial prefilter on projected points, then exact rerank",
       .details = kHybridDetails,
       .options = HybridOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunHybrid},
      {.name = "spatial",
       .args_usage = "[COLLECTION]",
       .summary = "projected points (or atoms' spatial keys) by radius, box or nearest",
       .details = kSpatialDetails,
       .options = SpatialOptions(),
       .max_args = 1,
       .run = &RunSpatial},
      {.name = "refit",
       .args_usage = "COLLECTION",
       .summary = "fit a collection's 3D projection and reproject its embeddings",
       .options = RefitOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunRefit},
      {.name = "collections",
       .summary = "vector collections with their sizes and index state",
       .max_args = 0,
       .run = &RunCollections},
      {.name = "collections list",
       .summary = "the same as `collections`",
       .max_args = 0,
       .run = &RunCollections},
      {.name = "collections create",
       .args_usage = "NAME",
       .summary = "create a vector collection (dimension, metric, index)",
       .details = kCollectionCreateDetails,
       .options = CollectionCreateOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunCollectionCreate},
      {.name = "collections show",
       .args_usage = "NAME",
       .summary = "one collection: its spec, size, index and projection",
       .min_args = 1,
       .max_args = 1,
       .run = &RunCollectionShow},
      {.name = "collections delete",
       .args_usage = "NAME",
       .summary = "delete a collection with its embeddings and index snapshots",
       .min_args = 1,
       .max_args = 1,
       .run = &RunCollectionDelete},
      {.name = "collections rebuild",
       .args_usage = "NAME",
       .summary = "build a fresh index from storage (dropping delete marks) and swap it in",
       .min_args = 1,
       .max_args = 1,
       .run = &RunCollectionRebuild},
      {.name = "collections snapshot",
       .args_usage = "NAME",
       .summary = "save the collection's index to the data dir now",
       .min_args = 1,
       .max_args = 1,
       .run = &RunCollectionSnapshot},
      {.name = "embeddings show",
       .args_usage = "ATOM_ID",
       .summary = "an atom's embeddings, in every collection or one",
       .options = {{"collection", 'c', "NAME", "only this collection"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunEmbeddingsShow},
      {.name = "embeddings delete",
       .args_usage = "COLLECTION ATOM_ID",
       .summary = "remove an atom's embedding from a collection",
       .min_args = 2,
       .max_args = 2,
       .run = &RunEmbeddingsDelete},
      {.name = "add-embeddings",
       .args_usage = "COLLECTION FILE",
       .summary = "give existing atoms vectors from .npy, .fvecs, CSV or JSON lines",
       .details = kAddEmbeddingsDetails,
       .options = AddEmbeddingsOptions(),
       .min_args = 2,
       .max_args = 2,
       .run = &RunAddEmbeddings},
      {.name = "policies list",
       .summary = "deduplication policies in policy id order",
       .details = kPolicyDetails,
       .options = PolicyListOptions(),
       .max_args = 0,
       .run = &RunPolicyList},
      {.name = "policies show",
       .args_usage = "POLICY",
       .summary = "one deduplication policy (POLICY: name or id)",
       .details = kPolicyDetails,
       .min_args = 1,
       .max_args = 1,
       .run = &RunPolicyShow},
      {.name = "policies create",
       .args_usage = "NAME",
       .summary = "create a deduplication policy",
       .details = kPolicyDetails,
       .options = PolicyCreateOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunPolicyCreate},
      {.name = "policies update",
       .args_usage = "POLICY",
       .summary = "change a policy's name, thresholds, state or metadata",
       .details = kPolicyDetails,
       .options = PolicyUpdateOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunPolicyUpdate},
      {.name = "policies delete",
       .args_usage = "POLICY",
       .summary = "delete a deduplication policy",
       .details = kPolicyDetails,
       .min_args = 1,
       .max_args = 1,
       .run = &RunPolicyDelete},
      {.name = "model list",
       .summary = "models of the catalog, filtered by type, architecture or name",
       .details = kModelListDetails,
       .options = ModelListOptions(),
       .max_args = 0,
       .run = &RunModelList},
      {.name = "model show",
       .args_usage = "MODEL",
       .summary = "one model with its metadata and layers (MODEL: name or id)",
       .details = kModelShowDetails,
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelShow},
      {.name = "model create",
       .summary = "add a model to the catalog",
       .details = kModelCreateDetails,
       .options = ModelCreateOptions(),
       .max_args = 0,
       .run = &RunModelCreate},
      {.name = "model update",
       .args_usage = "MODEL",
       .summary = "change a model's fields given as options (MODEL: name or id)",
       .options = ModelUpdateOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelUpdate},
      {.name = "model delete",
       .args_usage = "MODEL",
       .summary = "delete a model with its layers and metadata (MODEL: name or id)",
       .details = kModelDeleteDetails,
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelDelete},
      {.name = "model import",
       .args_usage = "FILE...",
       .summary = "import model files (safetensors, GGUF, ONNX) as deduplicated tensor atoms",
       .details = kModelImportDetails,
       .options = ModelImportOptions(),
       .min_args = 1,
       .run = &RunModelImport},
      {.name = "model export",
       .args_usage = "MODEL",
       .summary = "write a model's file: as imported, or as safetensors, GGUF or ONNX",
       .details = kModelExportDetails,
       .options = {{"output", 'o', "FILE", "write the file to FILE ('-' = stdout); required"},
                   {"format", 0, "F", "safetensors, gguf or onnx (default: as stored)"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelExport},
      {.name = "model quantize",
       .args_usage = "MODEL",
       .summary = "a quantized copy of MODEL (int8, q8_0, q4_0, f16, bf16) with each layer's error",
       .options = ModelQuantizeOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelQuantize},
      {.name = "model extract-student",
       .args_usage = "TEACHER",
       .summary = "a new model of the teacher's most important layers, sharing its tensor atoms",
       .details = kModelStudentDetails,
       .options = ModelStudentOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunModelExtractStudent},
      {.name = "model geometry",
       .args_usage = "MODEL LAYER_IDX",
       .summary = "a layer's weights as WKT LINESTRING ZM (index, value, importance, temporal)",
       .options = ModelGeometryOptions(),
       .min_args = 2,
       .max_args = 2,
       .run = &RunModelGeometry},
      {.name = "model set-values",
       .args_usage = "MODEL LAYER_IDX",
       .summary = "store a layer's per-weight importance or temporal values (geometry Z / M)",
       .details = kModelSetValuesDetails,
       .options = ModelSetValuesOptions(),
       .min_args = 2,
       .max_args = 2,
       .run = &RunModelSetValues},
      {.name = "model update-layer",
       .args_usage = "MODEL LAYER_IDX",
       .summary = "change a layer's name, type, parameters or importance",
       .options = ModelUpdateLayerOptions(),
       .min_args = 2,
       .max_args = 2,
       .run = &RunModelUpdateLayer},
      {.name = "model delete-layer",
       .args_usage = "MODEL LAYER_IDX",
       .summary = "delete one layer; its tensor rows stay with the model, detached",
       .details = kModelDeleteLayerDetails,
       .min_args = 2,
       .max_args = 2,
       .run = &RunModelDeleteLayer},
      {.name = "server-stats",
       .summary = "server, storage and group-commit counters",
       .max_args = 0,
       .run = &RunServerStats},
      {.name = "backup",
       .args_usage = "PATH",
       .summary = "online backup into the new directory PATH on the server",
       .details = kBackupDetails,
       .min_args = 1,
       .max_args = 1,
       .run = &RunBackup},
      {.name = "keys create",
       .args_usage = "NAME",
       .summary = "create an API key with a role; prints its token once",
       .details = kKeysDetails,
       .options = {{"role", 0, "ROLE", "read, write or admin (required)"}},
       .min_args = 1,
       .max_args = 1,
       .run = &RunKeysCreate},
      {.name = "keys list",
       .summary = "the server's API keys, revoked ones included (no secrets)",
       .max_args = 0,
       .run = &RunKeysList},
      {.name = "keys revoke",
       .args_usage = "KEY_ID",
       .summary = "revoke an API key: calls with it fail UNAUTHENTICATED from now on",
       .min_args = 1,
       .max_args = 1,
       .run = &RunKeysRevoke},
      {.name = "health",
       .summary = "the server's health (grpc.health.v1): exit 0 only when SERVING",
       .options = HealthOptions(),
       .max_args = 0,
       .run = &RunHealth},
      {.name = "compact",
       .summary = "give the data file's free space back to the filesystem, online",
       .details = kCompactDetails,
       .options = {{"purge-inactive", 0, "", "purge every inactive atom first"}},
       .max_args = 0,
       .run = &RunCompact},
      {.name = "check",
       .summary = "verify the data directory's consistency (exit 0 only when consistent)",
       .details = kCheckDetails,
       .options = CheckOptions(),
       .max_args = 0,
       .run = &RunCheck},
      {.name = "inference log",
       .summary = "log one inference (model, task, texts, duration, tokens)",
       .details = kInferenceLogDetails,
       .options = InferenceLogOptions(),
       .max_args = 0,
       .run = &RunInferenceLog},
      {.name = "inference list",
       .summary = "inferences newest first, by model or task type",
       .options = InferenceListOptions(),
       .max_args = 0,
       .run = &RunInferenceList},
      {.name = "inference show",
       .args_usage = "ID",
       .summary = "one inference with its steps and texts",
       .min_args = 1,
       .max_args = 1,
       .run = &RunInferenceShow},
      {.name = "inference stats",
       .summary = "inference analytics per model or task type, as a table",
       .details = kInferenceStatsDetails,
       .options = InferenceStatsOptions(),
       .max_args = 0,
       .run = &RunInferenceStats},
      {.name = "inference prune",
       .summary =
           "delete the inferences that started more than H hours ago, with their texts' references",
       .options = {{"older-than-hours", 0, "H",
                    "the age to keep (required; 0 = prune everything)"}},
       .max_args = 0,
       .run = &RunInferencePrune},
      {.name = "activation put",
       .args_usage = "LAYER_ID",
       .summary = "cache a layer's activation for an input (named by the input's SHA-256)",
       .options = ActivationPutOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunActivationPut},
      {.name = "activation get",
       .args_usage = "LAYER_ID",
       .summary = "a layer's cached activation for an input; exit status 1 when none",
       .options = ActivationGetOptions(),
       .min_args = 1,
       .max_args = 1,
       .run = &RunActivationGet},
      {.name = "help",
       .args_usage = "[COMMAND]",
       .summary = "show help, for one command or all",
       .max_args = 2,
       .run = &RunHelp},
  };
  return commands;
}

}  // namespace hartonomous::cli
