#include "server/rpc/atom/atom_convert.h"

#include "base/sha256.h"

namespace hartonomous::rpc {
namespace {

std::string HexOf(const std::string& raw) {
  Sha256Digest d{};
  std::copy_n(raw.begin(), std::min<size_t>(raw.size(), d.size()), d.begin());
  return ToHex(d);
}

void ToProto(const std::string& modality, const storage::DedupCounter& c,
             v1::ModalityDedupStats* out) {
  out->set_modality(modality);
  out->set_unique_atoms(c.unique_atoms());
  out->set_total_references(c.total_references());
  out->set_duplicates_avoided(c.total_references() - c.unique_atoms());
  out->set_unique_bytes(c.unique_bytes());
  out->set_logical_bytes(c.logical_bytes());
  const uint64_t saved = c.logical_bytes() - c.unique_bytes();
  out->set_bytes_saved(saved);
  out->set_savings_percent(c.logical_bytes() == 0 ? 0.0
                                                  : 100.0 * static_cast<double>(saved) /
                                                        static_cast<double>(c.logical_bytes()));
  out->set_documents(c.documents());
  out->set_document_bytes(c.document_bytes());
  out->set_stored_bytes(c.unique_bytes() - c.compressed_away_bytes());
  out->set_received_bytes(c.documents() != 0 ? c.document_bytes() : c.logical_bytes());
}

}  // namespace

std::string Utf8Prefix(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Step back to the lead byte of the last sequence; drop it if incomplete.
  size_t lead = end;
  while (lead > 0 && (static_cast<unsigned char>(text[lead - 1]) & 0xC0) == 0x80 &&
         end - lead < 3) {
    --lead;
  }
  if (lead > 0) {
    const auto c = static_cast<unsigned char>(text[lead - 1]);
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (end - (lead - 1) < need) end = lead - 1;
  }
  return text.substr(0, end);
}

engine::AtomInput ToAtomInput(v1::IngestAtomRequest&& r, std::string field) {
  engine::AtomInput in;
  in.field = std::move(field);
  in.content = std::move(*r.mutable_content());
  in.modality = std::move(*r.mutable_modality());
  in.subtype = std::move(*r.mutable_subtype());
  in.source_uri = std::move(*r.mutable_source_uri());
  in.source_type = std::move(*r.mutable_source_type());
  in.canonical_text = std::move(*r.mutable_canonical_text());
  in.payload_locator = std::move(*r.mutable_payload_locator());
  in.metadata = std::move(*r.mutable_metadata());
  if (r.has_spatial_key()) {
    in.spatial_key = index::Point3{r.spatial_key().x(), r.spatial_key().y(), r.spatial_key().z()};
  }
  if (r.has_embedding()) {
    auto* e = r.mutable_embedding();
    in.embedding = engine::EmbeddingAttachment{std::move(*e->mutable_collection()),
                                               {e->vector().begin(), e->vector().end()},
                                               std::move(*e->mutable_metadata())};
  }
  in.policy = std::move(*r.mutable_policy());
  return in;
}

void ToProto(const engine::DedupDecision& d, v1::DedupDecision* out) {
  out->set_policy(d.policy);
  out->set_rule(engine::DedupRuleName(d.rule));
  out->set_matched_atom_id(d.matched_atom_id);
  if (d.semantic_nearest) {
    out->mutable_semantic_nearest()->set_atom_id(d.semantic_nearest->atom_id);
    out->mutable_semantic_nearest()->set_similarity(d.semantic_nearest->value);
  }
  if (d.spatial_nearest) {
    out->mutable_spatial_nearest()->set_atom_id(d.spatial_nearest->atom_id);
    out->mutable_spatial_nearest()->set_distance(d.spatial_nearest->value);
  }
}

void ToProto(const engine::IngestedAtom& atom, v1::IngestAtomResponse* out) {
  out->set_atom_id(atom.atom_id);
  out->set_content_hash(ToHex(atom.content_hash));
  out->set_reference_count(atom.reference_count);
  out->set_created(atom.created);
  ToProto(atom.dedup, out->mutable_dedup());
}

void ToProto(const storage::AtomRecord& r, v1::Atom* out) {
  out->set_atom_id(r.atom_id());
  out->set_content_hash(HexOf(r.content_hash()));
  out->set_modality(r.modality());
  out->set_subtype(r.subtype());
  out->set_source_uri(r.source_uri());
  out->set_source_type(r.source_type());
  out->set_canonical_text(r.canonical_text());
  out->set_payload_locator(r.payload_locator());
  out->set_metadata(r.metadata());
  if (r.has_spatial_key()) {
    out->mutable_spatial_key()->set_x(r.spatial_x());
    out->mutable_spatial_key()->set_y(r.spatial_y());
    out->mutable_spatial_key()->set_z(r.spatial_z());
  }
  out->set_reference_count(r.reference_count());
  out->set_is_active(r.is_active());
  out->set_content_size(r.content_size());
  ToTimestamp(r.created_at_us(), out->mutable_created_at());
  ToTimestamp(r.updated_at_us(), out->mutable_updated_at());
}

void ToProto(engine::AtomView&& view, v1::Atom* out) {
  ToProto(view.record, out);
  if (view.content) *out->mutable_content() = std::move(*view.content);
}

void ToProto(const engine::IngestSummary& summary, v1::IngestAtomsResponse* out) {
  out->mutable_results()->Reserve(static_cast<int>(summary.atoms.size()));
  for (const auto& atom : summary.atoms) ToProto(atom, out->add_results());
  out->set_atoms_created(summary.atoms_created);
  out->set_atoms_reused(summary.atoms_reused);
  out->set_bytes_received(summary.bytes_received);
  out->set_bytes_stored(summary.bytes_stored);
}

void ToProto(const engine::DedupReport& report, v1::DedupStats* out) {
  for (const auto& r : report.top_atoms) {
    auto* top = out->add_top_atoms();
    top->set_atom_id(r.atom_id());
    top->set_content_hash(HexOf(r.content_hash()));
    top->set_modality(r.modality());
    top->set_subtype(r.subtype());
    top->set_reference_count(r.reference_count());
    top->set_content_size(r.content_size());
    top->set_canonical_text(Utf8Prefix(r.canonical_text(), 120));
  }
  uint64_t received = 0;
  for (const auto& m : report.modalities) {
    auto* modality = out->add_modalities();
    ToProto(m.modality, m.counter, modality);
    received += modality->received_bytes();
  }
  ToProto("*", report.total, out->mutable_total());
  out->mutable_total()->set_received_bytes(received);
  out->set_data_file_bytes(report.data_file_bytes);
  out->set_data_used_bytes(report.data_used_bytes);
  out->set_disk_savings_percent(
      received == 0
          ? 0.0
          : 100.0 * (static_cast<double>(received) - static_cast<double>(report.data_file_bytes)) /
                static_cast<double>(received));
}

void ToProto(const engine::DocumentSummary& summary, v1::IngestDocumentResponse* out) {
  out->set_document_id(summary.document_id);
  out->set_content_hash(ToHex(summary.content_hash));
  out->set_created(summary.created);
  out->set_reference_count(summary.reference_count);
  out->set_modality(summary.modality);
  out->set_format(summary.format);
  out->set_parts(summary.parts);
  out->set_atoms_created(summary.atoms_created);
  out->set_atoms_reused(summary.atoms_reused);
  out->set_bytes_received(summary.bytes_received);
  out->set_bytes_stored(summary.bytes_stored);
  out->set_unchanged(summary.unchanged);
  out->set_replaced_document_id(summary.replaced_document_id);
}

void ToProto(const engine::DocumentRelease& release, v1::DeleteDocumentResponse* out) {
  ToProto(release.root, out->mutable_root());
  out->set_atoms_deactivated(release.atoms_deactivated);
  out->set_sources_removed(release.sources_removed);
}

}  // namespace hartonomous::rpc
