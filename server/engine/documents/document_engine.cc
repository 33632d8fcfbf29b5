#include "server/engine/documents/document_engine.h"

#include <functional>
#include <optional>

#include "base/clock.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/common/await_result.h"
#include "server/engine/documents/document_sources.h"
#include "server/engine/graph/graph_engine.h"
#include "storage/sequence.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::engine {

using storage::AtomRecord;
using storage::AtomTable;
using storage::Direction;
using storage::Edge;
using storage::RelationTable;

namespace {

// A part as the write sees it: the part itself (a composite's content is its
// manifest), its hash, and its children as node indices. The parts stay
// where the decomposer put them; nodes only index them.
struct Node {
  Part* part = nullptr;
  Sha256Digest hash{};
  std::vector<size_t> children;
  size_t header_size = 0;  // composites: the content before the child hashes
};

std::string HashBytes(const Sha256Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

size_t CountParts(const std::vector<Part>& parts) {
  size_t n = parts.size();
  for (const Part& p : parts) n += CountParts(p.children);
  return n;
}

// Indexes a part tree into nodes (children before their composite), hashing
// each part; a composite's content becomes its manifest.
size_t AddNode(Part& part, std::vector<Node>* nodes) {
  Node node;
  node.part = &part;
  if (part.composite) {
    part.content = std::string(DocumentEngine::kCompositeMagic) + part.subtype + "\n";
    node.header_size = part.content.size();
    part.content.reserve(part.content.size() + sizeof(Sha256Digest) * part.children.size());
    node.children.reserve(part.children.size());
    for (Part& child : part.children) {
      const size_t c = AddNode(child, nodes);
      node.children.push_back(c);
      part.content += HashBytes((*nodes)[c].hash);
    }
  }
  node.hash = Sha256(part.content);
  nodes->push_back(std::move(node));
  return nodes->size() - 1;
}

Status NotADocument(uint64_t id, const std::string& why) {
  return Status::FailedPrecondition("document_id: atom " + std::to_string(id) + " " + why);
}

// The active document root `document_id`; NotFound / FailedPrecondition (via
// NotADocument) otherwise. when_inactive completes the message for a
// deleted document.
Result<AtomRecord> RequireRoot(storage::Txn& txn, AtomTable& atoms, uint64_t document_id,
                               const char* when_inactive) {
  HT_ASSIGN_OR_RETURN(auto root, atoms.Get(txn, document_id));
  if (!root) {
    return Status::NotFound("document_id: atom " + std::to_string(document_id) + " does not exist");
  }
  if (root->subtype() != "document") {
    return NotADocument(document_id,
                        "is not a document root (its subtype is '" + root->subtype() + "')");
  }
  if (!root->is_active()) return NotADocument(document_id, when_inactive);
  return std::move(*root);
}

}  // namespace

DocumentEngine::DocumentEngine(storage::Env& env, const storage::Tables& tables,
                               storage::WriteBatcher& writer)
    : env_(env), tables_(tables), writer_(writer) {}

// What an ingest keeps from its preparation to its commit. nodes point into
// d.parts and root, so the state stays where it was made.
struct DocumentEngine::IngestState {
  DocumentInput input;
  Decomposition d;
  Part root;
  std::vector<Node> nodes;
  size_t root_index = 0;
  size_t top_parts = 0;
  uint64_t document_size = 0;
  std::vector<std::optional<storage::EncodedPayload>> encoded;
  int64_t now = 0;
};

Result<DocumentSummary> DocumentEngine::Ingest(DocumentInput input) {
  return AwaitResult<DocumentSummary>(
      [&](IngestDone done) { IngestAsync(std::move(input), std::move(done)); });
}

void DocumentEngine::IngestAsync(DocumentInput input, IngestDone done) {
  auto state = std::make_shared<IngestState>();
  state->input = std::move(input);
  Result<size_t> bytes = Prepare(*state);
  if (!bytes.ok()) return done(bytes.status());
  WriteThen<DocumentSummary>(
      writer_,
      [this, state](storage::WriteTxn& txn, DocumentSummary& summary) {
        return WriteIngest(txn, *state, summary);
      },
      std::move(done), *bytes, state->nodes.size());
}

Result<size_t> DocumentEngine::Prepare(IngestState& state) {
  DocumentInput& input = state.input;
  // Decode, decompose and hash here, on the caller's thread.
  HT_ASSIGN_OR_RETURN(state.d, Decompose(input.content, input.modality, input.options));
  Decomposition& d = state.d;
  state.document_size = input.content.size();
  input.content = {};  // the parts hold their own bytes
  std::vector<Node>& nodes = state.nodes;
  nodes.reserve(CountParts(d.parts) + 1);
  std::vector<size_t> top;
  top.reserve(d.parts.size());
  for (Part& part : d.parts) top.push_back(AddNode(part, &nodes));
  Part& root = state.root;
  root.subtype = "document";
  root.composite = true;
  root.content = std::string(kManifestMagic) + d.info.dump() + "\n";
  Node root_node;
  root_node.header_size = root.content.size();
  for (size_t c : top) root.content += HashBytes(nodes[c].hash);
  root_node.part = &root;
  root_node.hash = Sha256(root.content);
  root_node.children = std::move(top);
  nlohmann::json root_meta = d.info;
  if (!input.metadata.empty()) {
    HT_ASSIGN_OR_RETURN(root_meta["user_metadata"],
                        ParseJson("metadata", input.metadata, kMaxDocumentMetadataDepth));
  }
  root.metadata = root_meta.dump();
  state.top_parts = root_node.children.size();
  nodes.push_back(std::move(root_node));
  state.root_index = nodes.size() - 1;
  size_t bytes = 0;
  for (const Node& n : nodes) bytes += n.part->content.size() + n.part->edge_metadata.size() + 64;

  // The leaves not stored yet are packed into payload blocks here, off the
  // writer thread (a leaf stored meanwhile is simply not inserted; one that
  // vanished meanwhile is encoded by the writer).
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    std::vector<const Sha256Digest*> keys;
    std::vector<std::string_view> contents;
    for (const Node& n : nodes) {
      keys.push_back(n.part->composite ? nullptr : &n.hash);  // composites store a header
      contents.push_back(n.part->content);
    }
    HT_ASSIGN_OR_RETURN(state.encoded, AtomTable(tables_).PackUnstored(txn, keys, contents));
  }
  state.now = NowMicros();
  return bytes;
}

Status DocumentEngine::WriteIngest(storage::WriteTxn& txn, const IngestState& state,
                                   DocumentSummary& summary) {
  const std::vector<Node>& nodes = state.nodes;
  const Decomposition& d = state.d;
  const DocumentInput& input = state.input;
  const size_t root_index = state.root_index;
  const int64_t now = state.now;
  summary.content_hash = nodes[root_index].hash;
  summary.modality = d.modality;
  summary.format = d.format;
  summary.parts = state.top_parts;
  summary.bytes_received = state.document_size;
  AtomTable atoms(tables_);
  storage::Sequence ids(txn, tables_.sequences, "atom_id");
  AtomRecord root_after;
  // Stores (or takes one more reference on) node i, held by the list of
  // `container` (0 for the root); a new or revived composite lists its
  // children.
  std::function<Result<uint64_t>(size_t, uint64_t)> put =
      [&](size_t i, uint64_t container) -> Result<uint64_t> {
    const Node& n = nodes[i];
    const Part& part = *n.part;
    const bool is_root = i == root_index;
    HT_ASSIGN_OR_RETURN(auto existing, atoms.FindByHash(txn, n.hash));
    uint64_t id = 0;
    bool link = part.composite;
    if (existing) {
      id = *existing;
      HT_ASSIGN_OR_RETURN(auto before, atoms.Get(txn, id));
      if (!before)
        return Status::DataLoss("atom_hash points at missing atom " + std::to_string(id));
      // An active composite already holds its parts; an inactive one gave
      // them back and takes them again.
      link = part.composite && !before->is_active();
      AtomRecord after;
      HT_RETURN_IF_ERROR(storage::AcquireReference(txn, atoms, id, now, &after, container));
      if (is_root) root_after = after;
      ++summary.atoms_reused;
    } else {
      HT_ASSIGN_OR_RETURN(id, ids.Next());
      AtomRecord rec;
      rec.set_atom_id(id);
      rec.set_content_hash(HashBytes(n.hash));
      rec.set_modality(d.modality);
      rec.set_subtype(part.subtype);
      rec.set_metadata(part.metadata);
      if (is_root) {
        rec.set_source_uri(input.source_uri);
        rec.set_source_type(input.source_type);
        rec.set_document_bytes(state.document_size);
      }
      if (container != 0) HT_RETURN_IF_ERROR(atoms.AddListedEdge(txn, &rec, container));
      if (part.composite) {
        HT_RETURN_IF_ERROR(atoms.InsertComposite(
            txn, &rec, std::string_view(part.content).substr(0, n.header_size), n.children.size(),
            now));
        summary.bytes_stored += n.header_size;
      } else {
        HT_RETURN_IF_ERROR(atoms.InsertNew(txn, &rec, part.content, now,
                                           state.encoded[i] ? &*state.encoded[i] : nullptr));
        summary.bytes_stored += part.content.size();
      }
      if (is_root) {
        root_after = rec;
        summary.created = true;
      }
      ++summary.atoms_created;
    }
    if (link) {
      storage::ChildListing listing;
      listing.created_at_us = now;
      listing.children.reserve(n.children.size());
      for (size_t c : n.children) {
        HT_ASSIGN_OR_RETURN(uint64_t child, put(c, id));
        listing.children.push_back({child, nodes[c].part->edge_metadata});
      }
      HT_RETURN_IF_ERROR(atoms.PutChildren(txn, id, listing));
    }
    return id;
  };
  DocumentSources sources(tables_);
  RelationTable relations(tables_);
  HT_ASSIGN_OR_RETURN(auto held, sources.Held(txn, atoms, input.source_uri));
  if (held && held->content_hash() == HashBytes(nodes[root_index].hash)) {
    summary.document_id = held->atom_id();
    summary.reference_count = held->reference_count();
    summary.unchanged = true;
    return Status::Ok();
  }
  HT_ASSIGN_OR_RETURN(summary.document_id, put(root_index, 0));
  summary.reference_count = root_after.reference_count();
  HT_RETURN_IF_ERROR(sources.Bind(txn, atoms, relations, input.source_uri, summary.document_id,
                                  held, now, &summary.replaced_document_id));
  HT_RETURN_IF_ERROR(ids.Flush());
  return atoms.FlushCounters(txn);
}

Result<DocumentContent> DocumentEngine::Get(uint64_t document_id, bool decoded) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  AtomTable atoms(tables_);
  HT_ASSIGN_OR_RETURN(AtomRecord root, RequireRoot(txn, atoms, document_id,
                                                   "was deleted (the document is inactive)"));
  auto corrupt = [&](const std::string& what) {
    return Status::DataLoss("document " + std::to_string(document_id) + ": " + what);
  };
  // A composite's children in order, checked against its content hash (the
  // hash covers the header and every child's hash, so a wrong, missing or
  // reordered child does not match). *content receives the composite's
  // content.
  auto children = [&](const AtomRecord& composite,
                      std::string* content) -> Result<std::vector<AtomRecord>> {
    const std::string id = std::to_string(composite.atom_id());
    if (!composite.content_lists_children()) return corrupt("atom " + id + " lists no children");
    HT_RETURN_IF_ERROR(atoms.ReadContent(txn, composite, content));
    if (HashBytes(Sha256(*content)) != composite.content_hash()) {
      return corrupt("atom " + id + "'s children do not match its content hash");
    }
    HT_ASSIGN_OR_RETURN(auto listing, atoms.Children(txn, composite.atom_id()));
    if (!listing) return corrupt("atom " + id + " lists no children");
    std::vector<AtomRecord> kids;
    kids.reserve(listing->children.size());
    for (const storage::ListedChild& child : listing->children) {
      HT_ASSIGN_OR_RETURN(auto rec, atoms.Get(txn, child.atom_id));
      if (!rec) return corrupt("part atom " + std::to_string(child.atom_id) + " is missing");
      kids.push_back(std::move(*rec));
    }
    return kids;
  };

  std::string manifest;
  HT_ASSIGN_OR_RETURN(auto top, children(root, &manifest));
  const std::string_view m(manifest);
  if (m.substr(0, kManifestMagic.size()) != kManifestMagic)
    return corrupt("manifest header is missing");
  const size_t info_end = m.find('\n', kManifestMagic.size());
  if (info_end == std::string_view::npos) return corrupt("manifest has no layout line");
  DocumentContent out;
  out.root = root;
  auto layout =
      ParseJson("layout", m.substr(kManifestMagic.size(), info_end - kManifestMagic.size()));
  if (layout.ok()) out.info = std::move(layout).value();
  if (!layout.ok() || !out.info.is_object() || !out.info.contains("format")) {
    return corrupt("manifest layout line is not a JSON object with a format");
  }
  out.format = out.info["format"].get<std::string>();

  AtomTable::BlockCache cache;  // a document's parts mostly share blocks
  std::vector<std::string> subtypes, contents;
  subtypes.reserve(top.size());
  contents.reserve(top.size());
  for (const AtomRecord& part : top) {
    std::string content;
    if (part.content_lists_children()) {
      // A paragraph: its sentences, concatenated.
      HT_ASSIGN_OR_RETURN(auto leaves, children(part, &content));
      if (content.substr(0, kCompositeMagic.size()) != kCompositeMagic) {
        return corrupt("composite part " + std::to_string(part.atom_id()) + " has no manifest");
      }
      content.clear();
      std::string piece;
      for (const AtomRecord& leaf : leaves) {
        HT_RETURN_IF_ERROR(atoms.ReadContent(txn, leaf, &piece, &cache));
        content += piece;
      }
    } else {
      HT_RETURN_IF_ERROR(atoms.ReadContent(txn, part, &content, &cache));
    }
    subtypes.push_back(part.subtype());
    contents.push_back(std::move(content));
  }
  std::vector<PartView> views;
  views.reserve(top.size());
  for (size_t k = 0; k < top.size(); ++k) views.push_back(PartView{subtypes[k], contents[k]});
  out.original = !decoded && out.info.value("original_chunks", uint64_t{0}) > 0;
  HT_ASSIGN_OR_RETURN(out.data, Reassemble(out.format, out.info, views, out.original));
  out.media_type = ReassembledMediaType(out.format, out.info, out.original);
  return out;
}

Result<std::optional<size_t>> DocumentEngine::ManifestHeaderSize(
    const storage::AtomRecord& atom, const storage::AtomTable::ContentReader& read_content) {
  std::string_view magic;
  if (atom.subtype() == "document") {
    magic = kManifestMagic;
  } else if (atom.subtype() == "paragraph") {
    magic = kCompositeMagic;
  } else {
    return std::optional<size_t>();
  }
  HT_ASSIGN_OR_RETURN(const std::string content, read_content());
  if (content.substr(0, magic.size()) != magic) return std::optional<size_t>();
  // A document's header is the magic line and the layout line; a
  // paragraph's, its magic line.
  const size_t end = content.find('\n', atom.subtype() == "document" ? magic.size() : 0);
  if (end == std::string::npos) return std::optional<size_t>();
  return std::optional<size_t>(end + 1);
}

Result<DocumentRelease> DocumentEngine::Delete(uint64_t document_id, std::string_view source_uri) {
  return AwaitResult<DocumentRelease>(
      [&](DeleteDone done) { DeleteAsync(document_id, std::string(source_uri), std::move(done)); });
}

void DocumentEngine::DeleteAsync(uint64_t document_id, std::string source_uri, DeleteDone done) {
  const int64_t now = NowMicros();
  WriteThen<DocumentRelease>(
      writer_,
      [this, document_id, source_uri = std::move(source_uri), now](
          storage::WriteTxn& txn, DocumentRelease& result) -> Status {
        AtomTable atoms(tables_);
        RelationTable relations(tables_);
        DocumentSources sources(tables_);
        HT_ASSIGN_OR_RETURN(const uint64_t id,
                            sources.Resolve(txn, document_id, source_uri, &result.sources_removed));
        HT_RETURN_IF_ERROR(RequireRoot(txn, atoms, id, "was already deleted").status());
        HT_RETURN_IF_ERROR(storage::ReleaseReference(txn, atoms, relations, id, false, now,
                                                     &result.root, &result.atoms_deactivated));
        HT_ASSIGN_OR_RETURN(const uint64_t trimmed, sources.Trim(txn, result.root));
        result.sources_removed += trimmed;
        return atoms.FlushCounters(txn);
      },
      std::move(done));
}

}  // namespace hartonomous::engine
