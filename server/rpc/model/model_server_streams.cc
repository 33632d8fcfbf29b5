#include "server/rpc/model/model_server_streams.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "server/rpc/model/model_convert.h"
#include "server/rpc/model/model_validation.h"

namespace hartonomous::rpc {
namespace {

// Data per message: small pieces are coalesced, larger ones cut, to at most
// this size.
constexpr size_t kMessageBytes = size_t{1} << 20;
// A piece at least this large (a stored chunk: 256 KiB by default) that
// fits in a message is moved into a message of its own rather than copied.
constexpr size_t kMovedPieceBytes = size_t{64} << 10;

}  // namespace

void ExportModelProducer::Flush(std::vector<v1::ExportModelResponse>* out) {
  out->push_back(std::move(filling_));
  filling_.Clear();
}

Status ExportModelProducer::Produce(std::vector<v1::ExportModelResponse>* out, bool* last) {
  if (stream_ == nullptr) {
    HT_RETURN_IF_ERROR(ValidateExportModel(request_));
    HT_ASSIGN_OR_RETURN(stream_, engine_.OpenExport({request_.model_id(), request_.model_name()},
                                                    request_.format(), /*external_files=*/true));
    ToProto(stream_->header(), filling_.mutable_header());
  }
  HT_ASSIGN_OR_RETURN(engine::ModelExportStream::Batch batch, stream_->Next());
  const auto started = [this] {
    return filling_.has_header() || filling_.has_external_file() || !filling_.data().empty();
  };
  if (batch.external) {
    // The data after a message's external_file are that file's.
    if (started()) Flush(out);
    ToProto(*batch.external, filling_.mutable_external_file());
  }
  for (std::string& piece : batch.pieces) {
    if (piece.size() >= kMovedPieceBytes && piece.size() <= kMessageBytes) {
      if (!filling_.data().empty()) Flush(out);
      *filling_.mutable_data() = std::move(piece);
      Flush(out);
      continue;
    }
    std::string_view bytes(piece);
    while (!bytes.empty()) {
      const size_t take = std::min(bytes.size(), kMessageBytes - filling_.data().size());
      filling_.mutable_data()->append(bytes.data(), take);
      bytes.remove_prefix(take);
      if (filling_.data().size() == kMessageBytes) Flush(out);
    }
  }
  if (batch.last) {
    if (started()) Flush(out);
    *last = true;
  }
  return Status::Ok();
}

Status LayerGeometryProducer::Produce(std::vector<v1::LayerGeometry>* out, bool* last) {
  if (!read_) {
    HT_RETURN_IF_ERROR(ValidateExportLayerGeometry(request_));
    const uint64_t max_points = request_.max_points() == 0 ? 100000 : request_.max_points();
    const engine::LayerKey key{
        request_.layer_id(), {request_.model_id(), request_.model_name()}, request_.layer_idx()};
    HT_ASSIGN_OR_RETURN(
        page_, engine_.LayerGeometry(
                   key, request_.start_index(), max_points, kRunPoints,
                   [this](const std::vector<engine::ModelEngine::GeometryPoint>& run) -> Status {
                     runs_.push_back(run);
                     return Status::Ok();
                   }));
    read_ = true;
  }
  const size_t end = std::min(runs_.size(), sent_ + kRunsPerBatch);
  for (; sent_ < end; ++sent_) {
    std::vector<engine::ModelEngine::GeometryPoint> run = std::move(runs_[sent_]);
    v1::LayerGeometry message;
    message.set_wkt(ToWkt(run));
    message.set_first_index(run.empty() ? 0 : static_cast<uint64_t>(run.front().x));
    message.set_points(static_cast<uint32_t>(run.size()));
    out->push_back(std::move(message));
  }
  if (sent_ < runs_.size()) return Status::Ok();
  // The last message (or the only one, for an empty page) carries the
  // page's totals.
  if (out->empty()) {
    out->emplace_back();
    out->back().set_first_index(page_.first_index);
  }
  out->back().set_total_points(page_.total_points);
  out->back().set_next_index(page_.next_index);
  out->back().set_last(true);
  *last = true;
  return Status::Ok();
}

}  // namespace hartonomous::rpc
