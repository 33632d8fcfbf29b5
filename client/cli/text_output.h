// Human-readable renderings of hartonomous.v1 messages for the `hartonomous`
// tool (the default output; --json selects json_output.h instead).
//
// Thread-safety: stateless functions; AtomListing belongs to one thread.
#pragma once

#include <ostream>

#include "hartonomous/v1/admin_service.pb.h"
#include "hartonomous/v1/atom_service.pb.h"
#include "table.h"

namespace hartonomous::cli {

// One "field  value" line per Atom field. With show_content, the content
// follows when it is UTF-8 text; binary content is only described.
void PrintAtom(std::ostream& out, const hartonomous::v1::Atom& atom, bool show_content);

// "atom 7  refs=1  active  <hash>": the state after release or delete.
void PrintAtomState(std::ostream& out, const hartonomous::v1::Atom& atom);

// The table of `hartonomous list`: ID, HASH (first 16 hex), MODALITY, SUBTYPE,
// REFS, ACTIVE, SIZE, SOURCE. Rows are printed every kChunkRows rows.
class AtomListing {
 public:
  explicit AtomListing(std::ostream& out);
  AtomListing(const AtomListing&) = delete;
  AtomListing& operator=(const AtomListing&) = delete;

  void Add(const hartonomous::v1::Atom& atom);
  // Prints the remaining rows and "N atoms".
  void Finish();

  static constexpr size_t kChunkRows = 1000;

 private:
  std::ostream& out_;
  Table table_;
  uint64_t count_ = 0;
};

// Top atoms, then per-modality savings and the total.
void PrintDedupStats(std::ostream& out, const hartonomous::v1::DedupStats& stats);
void PrintPurge(std::ostream& out, const hartonomous::v1::PurgeInactiveResponse& response);
void PrintServerStats(std::ostream& out, const hartonomous::v1::ServerStats& stats);
void PrintCompact(std::ostream& out, const hartonomous::v1::CompactResponse& response);

}  // namespace hartonomous::cli
