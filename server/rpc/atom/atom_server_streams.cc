#include "server/rpc/atom/atom_server_streams.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "server/engine/common/response_budget.h"
#include "server/rpc/atom/atom_convert.h"

namespace hartonomous::rpc {

Status GetDocumentProducer::Produce(std::vector<v1::GetDocumentResponse>* out, bool* last) {
  if (!document_) {
    HT_RETURN_IF_ERROR(ValidateDocumentId(request_.document_id()));
    HT_ASSIGN_OR_RETURN(engine::DocumentContent document,
                        documents_.Get(request_.document_id(), request_.decoded()));
    v1::GetDocumentResponse message;
    auto* description = message.mutable_description();
    ToProto(document.root, description->mutable_root());
    description->set_format(document.format);
    description->set_media_type(document.media_type);
    description->set_size(document.data.size());
    description->set_original(document.original);
    description->set_layout(document.info.dump());
    // Content follows in chunks of kChunkBytes, each far below the budget;
    // only the description could be larger.
    if (engine::ResponseBudget budget(limits_.max_response_bytes);
        !budget.TryChargeItem(message.ByteSizeLong())) {
      return budget.Exceeded("the description of document " +
                             std::to_string(request_.document_id()) + " alone is larger");
    }
    out->push_back(std::move(message));
    document_ = std::move(document);
  }
  const std::string_view data(document_->data);
  for (size_t batch = 0; sent_ < data.size() && batch < kBatchBytes; batch += kChunkBytes) {
    v1::GetDocumentResponse message;
    message.set_content(std::string(data.substr(sent_, kChunkBytes)));
    sent_ += message.content().size();
    out->push_back(std::move(message));
  }
  *last = sent_ == data.size();
  return Status::Ok();
}

}  // namespace hartonomous::rpc
