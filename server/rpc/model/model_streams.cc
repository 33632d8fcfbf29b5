#include "server/rpc/model/model_streams.h"

#include <string>

#include "server/rpc/model/model_convert.h"
#include "server/rpc/model/model_validation.h"

namespace hartonomous::rpc {
namespace {

Status StartNotFirst(size_t index) {
  return Status::InvalidArgument("stream message " + std::to_string(index) +
                                 ": start belongs in the first message only");
}

// The writer of a failed step is dropped (what it staged released) before
// the failure goes back to the call.
template <typename Writer>
Status DropOnFailure(Status status, std::unique_ptr<Writer>& writer) {
  if (!status.ok()) writer.reset();
  return status;
}

// The writer's Finish, the writer dropped when it fails.
template <typename Writer>
auto FinishOrDrop(std::unique_ptr<Writer>& writer) {
  auto result = writer->Finish();
  if (!result.ok()) writer.reset();
  return result;
}

}  // namespace

Status ImportModelCollector::Add(v1::ImportModelRequest& message, size_t index) {
  return DropOnFailure(AddMessage(message, index), import_);
}

Result<engine::ImportReport> ImportModelCollector::Commit() { return FinishOrDrop(import_); }

Status LayerValuesCollector::Add(v1::SetLayerValuesRequest& message, size_t index) {
  return DropOnFailure(AddMessage(message, index), values_);
}

Result<engine::LayerValuesReport> LayerValuesCollector::Commit() { return FinishOrDrop(values_); }

Status ImportModelCollector::AddMessage(v1::ImportModelRequest& message, size_t index) {
  if (index == 0) {
    HT_ASSIGN_OR_RETURN(engine::ImportOptions options, ToImportOptions(message));
    import_ = engine_.StartImport(std::move(options));
    HT_RETURN_IF_ERROR(import_->Begin());
  } else if (message.has_start()) {
    return StartNotFirst(index);
  }
  if (message.has_external_file()) {
    if (index == 0) {
      return Status::InvalidArgument(
          "external_file: not in the first message (the model file's bytes come first)");
    }
    HT_RETURN_IF_ERROR(import_->StartExternalFile(message.external_file().location(),
                                                  message.external_file().size()));
  }
  return import_->Add(message.data());
}

Status LayerValuesCollector::AddMessage(v1::SetLayerValuesRequest& message, size_t index) {
  if (index == 0) {
    HT_RETURN_IF_ERROR(ValidateSetLayerValuesStart(message));
    values_ = engine_.StartLayerValues();
    HT_RETURN_IF_ERROR(values_->Begin(ToLayerValuesOptions(message.start())));
  } else if (message.has_start()) {
    return StartNotFirst(index);
  }
  return values_->Add(message.values().data(), static_cast<size_t>(message.values_size()));
}

}  // namespace hartonomous::rpc
