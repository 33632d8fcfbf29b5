// import-model: ImportModel streams of one model file under a new name per
// call (see workload_factory.h). Every call after the first stores no new
// tensor bytes: it measures the import path of a shared model.
#include <fstream>
#include <sstream>

#include "async_calls.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class ModelWorkload : public Workload {
 public:
  ModelWorkload(const WorkloadConfig& config, std::string file)
      : config_(config), file_(std::move(file)) {}
  std::string name() const override { return "import-model"; }
  grpc::Status Prepare(Client&) override { return grpc::Status::OK; }

  void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
             CallDone done) override {
    constexpr size_t kMessageBytes = 1 << 20;
    std::vector<v1::ImportModelRequest> messages(1);
    v1::ImportModelStart* start = messages[0].mutable_start();
    start->mutable_model()->set_model_name("bench-" + config_.nonce + "-" + std::to_string(seq));
    start->set_file_name(config_.model_file.substr(config_.model_file.rfind('/') + 1));
    start->set_file_size(file_.size());
    for (size_t at = 0; at < file_.size(); at += kMessageBytes) {
      if (at > 0) messages.emplace_back();
      messages.back().set_data(file_.substr(at, kMessageBytes));
    }
    StreamCall<v1::ImportModelRequest, v1::ImportModelResponse>::Run(
        std::move(context), std::move(messages),
        [&stubs](auto* c, auto* r, auto* reactor) {
          stubs.models->async()->ImportModel(c, r, reactor);
        },
        file_.size(), std::move(done));
  }

 private:
  WorkloadConfig config_;
  std::string file_;
};

}  // namespace

std::unique_ptr<Workload> MakeModelWorkload(const WorkloadConfig& config, std::string* error) {
  if (config.model_file.empty()) {
    *error = "import-model: --model-file is required (a safetensors, GGUF or ONNX file)";
    return nullptr;
  }
  std::ifstream in(config.model_file, std::ios::binary);
  if (!in) {
    *error = "--model-file " + config.model_file + ": cannot read";
    return nullptr;
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (bytes.str().size() > (size_t{1} << 30)) {
    *error = "--model-file " + config.model_file + ": larger than 1 GiB";
    return nullptr;
  }
  return std::make_unique<ModelWorkload>(config, bytes.str());
}

}  // namespace hartonomous::bench
