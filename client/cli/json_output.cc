#include "json_output.h"

#include "format.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;
using json = nlohmann::ordered_json;

json TimestampToJson(bool present, const google::protobuf::Timestamp& timestamp) {
  return present ? json(FormatTimestamp(timestamp)) : json(nullptr);
}

json ModalityStatsToJson(const v1::ModalityDedupStats& stats) {
  return {
      {"modality", stats.modality()},
      {"unique_atoms", stats.unique_atoms()},
      {"total_references", stats.total_references()},
      {"duplicates_avoided", stats.duplicates_avoided()},
      {"unique_bytes", stats.unique_bytes()},
      {"logical_bytes", stats.logical_bytes()},
      {"bytes_saved", stats.bytes_saved()},
      {"savings_percent", stats.savings_percent()},
      {"documents", stats.documents()},
      {"document_bytes", stats.document_bytes()},
      {"stored_bytes", stats.stored_bytes()},
      {"received_bytes", stats.received_bytes()},
  };
}

json TopAtomToJson(const v1::TopAtom& atom) {
  return {
      {"atom_id", atom.atom_id()},
      {"content_hash", atom.content_hash()},
      {"modality", atom.modality()},
      {"subtype", atom.subtype()},
      {"reference_count", atom.reference_count()},
      {"content_size", atom.content_size()},
      {"canonical_text", atom.canonical_text()},
  };
}

}  // namespace

json MetadataToJson(const std::string& text) {
  if (text.empty()) return json::object();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return text;
  return parsed;
}

json AtomToJson(const v1::Atom& atom, bool include_content) {
  json out = {
      {"atom_id", atom.atom_id()},
      {"content_hash", atom.content_hash()},
      {"modality", atom.modality()},
      {"subtype", atom.subtype()},
      {"source_uri", atom.source_uri()},
      {"source_type", atom.source_type()},
      {"canonical_text", atom.canonical_text()},
      {"payload_locator", atom.payload_locator()},
      {"metadata", MetadataToJson(atom.metadata())},
      {"spatial_key", nullptr},
      {"reference_count", atom.reference_count()},
      {"is_active", atom.is_active()},
      {"content_size", atom.content_size()},
      {"created_at", TimestampToJson(atom.has_created_at(), atom.created_at())},
      {"updated_at", TimestampToJson(atom.has_updated_at(), atom.updated_at())},
  };
  if (atom.has_spatial_key()) {
    out["spatial_key"] = {{"x", atom.spatial_key().x()},
                          {"y", atom.spatial_key().y()},
                          {"z", atom.spatial_key().z()}};
  }
  if (include_content) out["content"] = Base64Encode(atom.content());
  return out;
}

json DedupDecisionToJson(const v1::DedupDecision& d) {
  json out = {
      {"policy", d.policy()},
      {"rule", d.rule()},
      {"matched_atom_id", d.matched_atom_id()},
  };
  if (d.has_semantic_nearest()) {
    out["semantic_nearest"] = {{"atom_id", d.semantic_nearest().atom_id()},
                               {"similarity", d.semantic_nearest().similarity()}};
  }
  if (d.has_spatial_nearest()) {
    out["spatial_nearest"] = {{"atom_id", d.spatial_nearest().atom_id()},
                              {"distance", d.spatial_nearest().distance()}};
  }
  return out;
}

json IngestResultToJson(const v1::IngestAtomResponse& result, const std::string& path) {
  return {
      {"path", path},
      {"atom_id", result.atom_id()},
      {"content_hash", result.content_hash()},
      {"reference_count", result.reference_count()},
      {"created", result.created()},
      {"dedup", DedupDecisionToJson(result.dedup())},
  };
}

json DedupStatsToJson(const v1::DedupStats& stats) {
  json top = json::array();
  for (const auto& atom : stats.top_atoms()) top.push_back(TopAtomToJson(atom));
  json modalities = json::array();
  for (const auto& modality : stats.modalities()) {
    modalities.push_back(ModalityStatsToJson(modality));
  }
  return {
      {"top_atoms", std::move(top)},
      {"modalities", std::move(modalities)},
      {"total", ModalityStatsToJson(stats.total())},
      {"data_file_bytes", stats.data_file_bytes()},
      {"data_used_bytes", stats.data_used_bytes()},
      {"disk_savings_percent", stats.disk_savings_percent()},
  };
}

json PurgeToJson(const v1::PurgeInactiveResponse& response) {
  return {
      {"atoms_purged", response.atoms_purged()},
      {"bytes_freed", response.bytes_freed()},
      {"dependent_rows_removed", response.dependent_rows_removed()},
  };
}

json ServerStatsToJson(const v1::ServerStats& stats) {
  json tables = json::array();
  for (const auto& table : stats.tables()) {
    tables.push_back({{"name", table.name()}, {"entries", table.entries()}});
  }
  return {
      {"version", stats.version()},
      {"schema_version", stats.schema_version()},
      {"uptime_seconds", stats.uptime_seconds()},
      {"state", stats.state()},
      {"state_reason", stats.state_reason()},
      {"vectors_replayed_at_start", stats.vectors_replayed_at_start()},
      {"vectors_removed_at_start", stats.vectors_removed_at_start()},
      {"commits", stats.commits()},
      {"write_requests", stats.write_requests()},
      {"items_written", stats.items_written()},
      {"map_size_bytes", stats.map_size_bytes()},
      {"map_resizes", stats.map_resizes()},
      {"data_file_bytes", stats.data_file_bytes()},
      {"free_bytes", stats.free_bytes()},
      {"compacting", stats.compacting()},
      {"compactions", stats.compactions()},
      {"tables", std::move(tables)},
  };
}

json CompactToJson(const v1::CompactResponse& response) {
  return {
      {"file_bytes_before", response.file_bytes_before()},
      {"file_bytes_after", response.file_bytes_after()},
      {"atoms_purged", response.atoms_purged()},
      {"blocks_repacked", response.blocks_repacked()},
      {"block_bytes_dropped", response.block_bytes_dropped()},
      {"tables_repacked", response.tables_repacked()},
      {"duration_ms", response.duration_ms()},
  };
}

std::string DumpJson(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

void PrintJson(std::ostream& out, const json& value) { out << DumpJson(value) << '\n'; }

}  // namespace hartonomous::cli
