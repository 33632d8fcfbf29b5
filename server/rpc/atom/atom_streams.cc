#include "server/rpc/atom/atom_streams.h"

#include <string>
#include <utility>

#include "server/rpc/atom/atom_convert.h"

namespace hartonomous::rpc {

Status IngestAtomsCollector::Add(v1::IngestAtomsRequest& message, size_t) {
  for (auto& atom : *message.mutable_atoms()) {
    const std::string field = "atoms[" + std::to_string(inputs_.size()) + "]";
    HT_RETURN_IF_ERROR(ValidateIngest(atom, limits_, field));
    if (!budget_.TryChargeItem(kIngestResultBytes)) {
      return budget_.Exceeded(
          "atoms: the stream's results (one per atom) do not fit; split it into several "
          "streams");
    }
    inputs_.push_back(ToAtomInput(std::move(atom), field));
  }
  return Status::Ok();
}

Status IngestAtomsCollector::Finish() {
  if (inputs_.empty()) return Status::InvalidArgument("atoms: the stream carried no atoms");
  return Status::Ok();
}

Status IngestDocumentCollector::Add(v1::IngestDocumentRequest& message, size_t index) {
  if (index == 0) {
    HT_RETURN_IF_ERROR(ValidateDocumentHeader(message));
    header_ = std::move(message);
    content_ = std::move(*header_.mutable_content());
  } else {
    // One document per stream: a later message that sets a header field
    // would start another document, and is refused rather than merged.
    const char* header_field = !message.modality().empty()      ? "modality"
                               : !message.source_uri().empty()  ? "source_uri"
                               : !message.source_type().empty() ? "source_type"
                               : !message.metadata().empty()    ? "metadata"
                               : message.has_options()          ? "options"
                                                                : nullptr;
    if (header_field != nullptr) {
      return Status::InvalidArgument("message " + std::to_string(index + 1) + ": sets " +
                                     header_field +
                                     ", but only content may follow the first message (one "
                                     "document per stream)");
    }
    content_.append(message.content());
  }
  return Status::Ok();
}

engine::DocumentInput IngestDocumentCollector::Take() {
  engine::DocumentInput input;
  input.content = std::move(content_);
  input.modality = header_.modality();
  input.source_uri = header_.source_uri();
  input.source_type = header_.source_type();
  input.metadata = header_.metadata();
  input.options = ToDecomposeOptions(header_.options());
  return input;
}

}  // namespace hartonomous::rpc
