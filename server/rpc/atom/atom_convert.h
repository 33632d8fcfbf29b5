// Conversions between hartonomous.v1 atom messages and engine types.
//
// Thread-safety: pure functions.
#pragma once

#include "hartonomous/v1/atom_service.pb.h"
#include "server/engine/atoms/atom_engine.h"
#include "server/engine/documents/document_engine.h"
#include "server/rpc/common/timestamp.h"

namespace hartonomous::rpc {

// The longest prefix of at most max_bytes that does not split a UTF-8 sequence.
std::string Utf8Prefix(const std::string& text, size_t max_bytes);

// Moves content and strings out of request. field: how errors name the
// atom ("" or "atoms[3]").
engine::AtomInput ToAtomInput(v1::IngestAtomRequest&& request, std::string field = "");
void ToProto(const engine::DedupDecision& decision, v1::DedupDecision* out);
void ToProto(const engine::IngestedAtom& atom, v1::IngestAtomResponse* out);
void ToProto(const storage::AtomRecord& record, v1::Atom* out);
void ToProto(engine::AtomView&& view, v1::Atom* out);
void ToProto(const engine::IngestSummary& summary, v1::IngestAtomsResponse* out);
void ToProto(const engine::DedupReport& report, v1::DedupStats* out);
void ToProto(const engine::DocumentSummary& summary, v1::IngestDocumentResponse* out);
void ToProto(const engine::DocumentRelease& release, v1::DeleteDocumentResponse* out);

}  // namespace hartonomous::rpc
