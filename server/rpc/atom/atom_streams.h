// The client streams of hartonomous.v1.AtomService, each gathered into the
// input of one engine call (StreamCollector, common/stream_messages.h):
// IngestAtoms into AtomEngine::Ingest's atoms, IngestDocument into
// DocumentEngine::Ingest's document. They validate each message as it
// arrives, so a stream fails at its first bad message. Transport-free.
//
// Thread-safety: a collector belongs to one call.
#pragma once

#include <cstddef>
#include <vector>

#include "hartonomous/v1/atom_service.pb.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/common/response_budget.h"
#include "server/engine/documents/document_engine.h"
#include "server/rpc/atom/atom_validation.h"
#include "server/rpc/common/stream_messages.h"

namespace hartonomous::rpc {

// IngestAtoms: the atoms of every message, in order, named atoms[i] across
// the whole stream.
class IngestAtomsCollector final : public StreamCollector<v1::IngestAtomsRequest> {
 public:
  explicit IngestAtomsCollector(const Limits& limits)
      : limits_(limits), budget_(limits.max_response_bytes) {}

  // Validates each atom (ValidateIngest) and charges its result to the
  // response budget: the response carries one result per atom, so the
  // stream fails at the atom whose result would not fit, before anything is
  // stored.
  Status Add(v1::IngestAtomsRequest& message, size_t index) override;
  // InvalidArgument when no message carried an atom.
  Status Finish() override;
  std::vector<engine::AtomInput> Take() { return std::move(inputs_); }

  // An upper bound of one IngestAtomResponse in an IngestAtomsResponse: ids
  // and counts, the 64-digit hash, a policy name of at most 64 bytes, the
  // rule and both nearest candidates.
  static constexpr size_t kIngestResultBytes = 256;

 private:
  const Limits limits_;
  engine::ResponseBudget budget_;
  std::vector<engine::AtomInput> inputs_;
};

// IngestDocument: the first message carries the header (validated,
// ValidateDocumentHeader) and the start of the content; the others more
// content.
class IngestDocumentCollector final : public StreamCollector<v1::IngestDocumentRequest> {
 public:
  Status Add(v1::IngestDocumentRequest& message, size_t index) override;
  // The document: the first message's header with the whole content.
  // REQUIRES: the stream was read without error.
  engine::DocumentInput Take();

 private:
  v1::IngestDocumentRequest header_;
  std::string content_;
};

}  // namespace hartonomous::rpc
