// Small helpers shared by the integration tests.
#pragma once

#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <string>

#include "client/cli/cli_errors.h"
#include "hartonomous/client.h"
#include "tests/binary_content.h"

namespace hartonomous::testing {

inline v1::IngestAtomRequest TextAtom(const std::string& content, const std::string& subtype = "") {
  v1::IngestAtomRequest request;
  request.set_content(content);
  request.set_modality("text");
  request.set_subtype(subtype);
  request.set_source_type("test");
  request.set_canonical_text(content);
  return request;
}

// The whole file at path (empty when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first message of an IngestDocument stream: modality and a test source.
// No source_uri unless given: a source gives the document an identity (a
// second ingest from it replaces the first, or changes nothing).
inline v1::IngestDocumentRequest DocumentHeader(const std::string& modality,
                                                const std::string& source_uri = "") {
  v1::IngestDocumentRequest header;
  header.set_modality(modality);
  header.set_source_uri(source_uri);
  header.set_source_type("test");
  return header;
}

// The content of a document read with the raw GetDocument stream; *status
// is the call's.
inline std::string ReadDocumentContent(Client& client, uint64_t document_id, grpc::Status* status) {
  grpc::ClientContext context;
  v1::GetDocumentRequest request;
  request.set_document_id(document_id);
  auto reader = client.atoms().GetDocument(&context, request);
  v1::GetDocumentResponse part;
  std::string content;
  while (reader->Read(&part)) content += part.content();
  *status = reader->Finish();
  return content;
}

inline std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

// "NOT_FOUND": the name the CLI prints.
inline std::string CodeName(grpc::StatusCode code) {
  return std::string(cli::StatusCodeName(code));
}

}  // namespace hartonomous::testing
