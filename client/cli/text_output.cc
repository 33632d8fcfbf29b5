#include "text_output.h"

#include <string>

#include "format.h"
#include "modality.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

void Field(std::ostream& out, std::string_view name, const std::string& value) {
  constexpr size_t kNameWidth = 17;
  out << name;
  for (size_t i = name.size(); i < kNameWidth; ++i) out << ' ';
  out << value << '\n';
}

std::string Sized(uint64_t bytes) {
  return std::to_string(bytes) + " bytes" + (bytes >= 1024 ? " (" + FormatBytes(bytes) + ")" : "");
}

std::string FormatDouble(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::vector<std::string> ModalityRow(const v1::ModalityDedupStats& stats) {
  return {stats.modality(),
          std::to_string(stats.unique_atoms()),
          std::to_string(stats.total_references()),
          std::to_string(stats.duplicates_avoided()),
          FormatBytes(stats.unique_bytes()),
          FormatBytes(stats.logical_bytes()),
          FormatBytes(stats.bytes_saved()),
          FormatPercent(stats.savings_percent()),
          FormatBytes(stats.stored_bytes()),
          FormatBytes(stats.received_bytes())};
}

}  // namespace

void PrintAtom(std::ostream& out, const v1::Atom& atom, bool show_content) {
  Field(out, "atom_id", std::to_string(atom.atom_id()));
  Field(out, "content_hash", atom.content_hash());
  Field(out, "modality", atom.modality());
  Field(out, "subtype", atom.subtype());
  Field(out, "content_size", Sized(atom.content_size()));
  Field(out, "reference_count", std::to_string(atom.reference_count()));
  Field(out, "active", atom.is_active() ? "yes" : "no");
  Field(out, "source_type", atom.source_type());
  Field(out, "source_uri", atom.source_uri());
  Field(out, "created_at", atom.has_created_at() ? FormatTimestamp(atom.created_at()) : "");
  Field(out, "updated_at", atom.has_updated_at() ? FormatTimestamp(atom.updated_at()) : "");
  if (!atom.payload_locator().empty()) {
    Field(out, "payload_locator", atom.payload_locator());
  }
  if (!atom.metadata().empty()) Field(out, "metadata", Snippet(atom.metadata(), 400));
  if (atom.has_spatial_key()) {
    const auto& p = atom.spatial_key();
    Field(
        out, "spatial_key",
        "(" + FormatDouble(p.x()) + ", " + FormatDouble(p.y()) + ", " + FormatDouble(p.z()) + ")");
  }
  if (!atom.canonical_text().empty()) {
    Field(out, "canonical_text", Snippet(atom.canonical_text(), 200));
  }
  if (show_content) {
    if (IsValidUtf8(atom.content())) {
      out << "content:\n" << atom.content();
      if (!atom.content().empty() && atom.content().back() != '\n') out << '\n';
    } else {
      Field(out, "content", "binary, " + Sized(atom.content().size()) + "; use -o FILE to save it");
    }
  }
}

void PrintAtomState(std::ostream& out, const v1::Atom& atom) {
  out << "atom " << atom.atom_id() << "  refs=" << atom.reference_count() << "  "
      << (atom.is_active() ? "active" : "inactive") << "  " << atom.content_hash() << '\n';
}

AtomListing::AtomListing(std::ostream& out)
    : out_(out),
      table_({{"ID", true},
              {"HASH"},
              {"MODALITY"},
              {"SUBTYPE"},
              {"REFS", true},
              {"ACTIVE"},
              {"SIZE", true},
              {"SOURCE"}}) {}

void AtomListing::Add(const v1::Atom& atom) {
  table_.AddRow({std::to_string(atom.atom_id()), atom.content_hash().substr(0, 16), atom.modality(),
                 atom.subtype(), std::to_string(atom.reference_count()),
                 atom.is_active() ? "yes" : "no", FormatBytes(atom.content_size()),
                 Snippet(atom.source_uri(), 80)});
  ++count_;
  if (table_.pending_rows() >= kChunkRows) table_.Flush(out_);
}

void AtomListing::Finish() {
  if (count_ > 0) table_.Flush(out_);
  out_ << count_ << (count_ == 1 ? " atom" : " atoms") << '\n';
}

void PrintDedupStats(std::ostream& out, const v1::DedupStats& stats) {
  out << "Top atoms by references:\n";
  if (stats.top_atoms().empty()) {
    out << "  (none)\n";
  } else {
    Table top({{"ID", true}, {"REFS", true}, {"MODALITY"}, {"SIZE", true}, {"HASH"}, {"TEXT"}},
              "  ");
    for (const auto& atom : stats.top_atoms()) {
      top.AddRow({std::to_string(atom.atom_id()), std::to_string(atom.reference_count()),
                  atom.modality(), FormatBytes(atom.content_size()),
                  atom.content_hash().substr(0, 16), Snippet(atom.canonical_text(), 40)});
    }
    top.Flush(out);
  }
  out << "\nDeduplication by modality:\n";
  Table modalities({{"MODALITY"},
                    {"UNIQUE", true},
                    {"REFS", true},
                    {"DUPS_AVOIDED", true},
                    {"UNIQUE_BYTES", true},
                    {"LOGICAL_BYTES", true},
                    {"SAVED", true},
                    {"SAVINGS", true},
                    {"STORED_BYTES", true},
                    {"RECEIVED_BYTES", true}},
                   "  ");
  for (const auto& modality : stats.modalities()) {
    modalities.AddRow(ModalityRow(modality));
  }
  std::vector<std::string> total = ModalityRow(stats.total());
  total[0] = "total";
  modalities.AddRow(std::move(total));
  modalities.Flush(out);
  out << "\nOn disk: data file " << FormatBytes(stats.data_file_bytes()) << " ("
      << FormatBytes(stats.data_used_bytes()) << " in use) for "
      << FormatBytes(stats.total().received_bytes()) << " received: savings "
      << FormatPercent(stats.disk_savings_percent()) << "\n";
}

void PrintPurge(std::ostream& out, const v1::PurgeInactiveResponse& response) {
  out << "purged " << response.atoms_purged() << (response.atoms_purged() == 1 ? " atom" : " atoms")
      << ", freed " << FormatBytes(response.bytes_freed()) << ", removed "
      << response.dependent_rows_removed() << " dependent rows\n";
}

void PrintCompact(std::ostream& out, const v1::CompactResponse& response) {
  out << "compacted data.mdb from " << FormatBytes(response.file_bytes_before()) << " to "
      << FormatBytes(response.file_bytes_after()) << " in " << response.duration_ms() << " ms";
  if (response.atoms_purged() != 0) {
    out << " (purged " << response.atoms_purged()
        << (response.atoms_purged() == 1 ? " inactive atom" : " inactive atoms") << " first)";
  }
  if (response.blocks_repacked() != 0) {
    out << "; repacked " << response.blocks_repacked() << " payload block(s), dropping "
        << FormatBytes(response.block_bytes_dropped()) << " of dead content";
  }
  if (!response.tables_repacked()) out << "; tables copied page by page (not repacked)";
  out << '\n';
}

void PrintServerStats(std::ostream& out, const v1::ServerStats& stats) {
  Field(out, "version", stats.version());
  Field(out, "schema_version", std::to_string(stats.schema_version()));
  Field(out, "uptime_seconds", std::to_string(stats.uptime_seconds()));
  Field(out, "state",
        stats.state_reason().empty() ? stats.state()
                                     : stats.state() + " (" + stats.state_reason() + ")");
  Field(out, "vectors_replayed",
        std::to_string(stats.vectors_replayed_at_start()) + " at start (" +
            std::to_string(stats.vectors_removed_at_start()) + " removed)");
  Field(out, "commits", std::to_string(stats.commits()));
  Field(out, "write_requests", std::to_string(stats.write_requests()));
  Field(out, "items_written", std::to_string(stats.items_written()));
  Field(out, "map_size", Sized(stats.map_size_bytes()));
  Field(out, "map_resizes", std::to_string(stats.map_resizes()));
  Field(out, "data_file", Sized(stats.data_file_bytes()));
  Field(out, "free_pages", Sized(stats.free_bytes()));
  Field(out, "compacting", stats.compacting() ? "yes" : "no");
  Field(out, "compactions", std::to_string(stats.compactions()));
  if (!stats.tables().empty()) {
    out << "tables:\n";
    Table tables({{"NAME"}, {"ENTRIES", true}}, "  ");
    for (const auto& table : stats.tables()) {
      tables.AddRow({table.name(), std::to_string(table.entries())});
    }
    tables.Flush(out);
  }
}

}  // namespace hartonomous::cli
