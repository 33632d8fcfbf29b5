// JSON renderings of hartonomous.v1 messages for `hartonomous --json`.
//
// Keys are the proto field names (snake_case), in field order; 64-bit integers are JSON
// numbers; metadata fields are JSON objects; timestamps are RFC 3339 strings, unset ones null; an
// unset spatial_key is null; bytes are base64. Output never fails on invalid UTF-8 (such bytes
// become U+FFFD).
//
// Thread-safety: stateless functions.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "hartonomous/v1/admin_service.pb.h"
#include "hartonomous/v1/atom_service.pb.h"

namespace hartonomous::cli {

// A JSON metadata field as JSON: the object it holds, {} when empty (text
// that is not a JSON object, which the server does not store, stays a string).
nlohmann::ordered_json MetadataToJson(const std::string& text);

// Every Atom field; "content" (base64) only when include_content.
nlohmann::ordered_json AtomToJson(const hartonomous::v1::Atom& atom, bool include_content);
// {"path", "atom_id", "content_hash", "reference_count", "created"}.
nlohmann::ordered_json IngestResultToJson(const hartonomous::v1::IngestAtomResponse& result,
                                          const std::string& path);
nlohmann::ordered_json DedupStatsToJson(const hartonomous::v1::DedupStats& stats);
nlohmann::ordered_json PurgeToJson(const hartonomous::v1::PurgeInactiveResponse& response);
nlohmann::ordered_json ServerStatsToJson(const hartonomous::v1::ServerStats& stats);
nlohmann::ordered_json CompactToJson(const hartonomous::v1::CompactResponse& response);

// `value` as indented JSON text without a trailing newline.
std::string DumpJson(const nlohmann::ordered_json& value);
// DumpJson(value) and a newline.
void PrintJson(std::ostream& out, const nlohmann::ordered_json& value);

}  // namespace hartonomous::cli
