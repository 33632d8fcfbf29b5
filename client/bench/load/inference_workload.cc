// log-inference: LogInference calls whose prompts and answers are sentences
// of the text corpus, so repeated prompts occur as they do in real logs (see
// workload_factory.h).
#include "unary_workload.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class InferenceWorkload : public UnaryWorkload {
 public:
  InferenceWorkload(const WorkloadConfig& config, std::vector<std::string> sentences)
      : config_(config), sentences_(std::move(sentences)) {}
  std::string name() const override { return "log-inference"; }
  std::string Method() const override { return "/hartonomous.v1.InferenceService/LogInference"; }
  // Prompts and answers pair up differently over this many calls.
  size_t Period() const override { return 4096; }

  grpc::Status PrepareData(Client& client) override {
    if (!config_.prepare) return grpc::Status::OK;
    v1::CreateModelRequest request;
    request.mutable_model()->set_model_name("bench-inference-" + config_.nonce);
    v1::Model model;
    grpc::Status s = client.CreateModel(request, &model);
    if (!s.ok()) return s;
    model_id_ = model.model_id();
    return grpc::Status::OK;
  }

  std::string RequestBytes(uint64_t seq) const override { return Request(seq).SerializeAsString(); }

 private:
  v1::LogInferenceRequest Request(uint64_t seq) const {
    static const char* const kTasks[] = {"chat", "text_completion", "embeddings"};
    v1::LogInferenceRequest r;
    r.set_model_id(model_id_);
    r.set_task_type(kTasks[seq % 3]);
    r.set_input_text(sentences_[(seq * 31) % sentences_.size()]);
    r.set_output_text(sentences_[(seq * 7919 + 1) % sentences_.size()]);
    r.set_duration_ms(5 + static_cast<double>((seq * 7919) % 2000) / 10.0);
    r.set_confidence(static_cast<double>(seq % 100) / 100.0);
    r.set_input_tokens(static_cast<int64_t>(20 + seq % 30));
    r.set_output_tokens(static_cast<int64_t>(10 + seq % 200));
    return r;
  }

  WorkloadConfig config_;
  std::vector<std::string> sentences_;
  uint64_t model_id_ = 0;
};

}  // namespace

std::unique_ptr<Workload> MakeInferenceWorkload(const WorkloadConfig& config, std::string* error) {
  TextCorpus corpus;
  if (!ReadTextCorpus(config.text_dir, size_t{16} << 20, &corpus, error)) return nullptr;
  // Sentences: runs of at least 40 bytes ending in ". ".
  std::vector<std::string> sentences;
  size_t start = 0;
  const std::string& text = corpus.joined;
  for (size_t at = text.find(". "); at != std::string::npos && sentences.size() < 100000;
       at = text.find(". ", at + 2)) {
    if (at + 1 - start >= 40) sentences.push_back(text.substr(start, at + 1 - start));
    start = at + 2;
  }
  if (sentences.empty()) sentences.push_back(text.substr(0, 200));
  return std::make_unique<InferenceWorkload>(config, std::move(sentences));
}

}  // namespace hartonomous::bench
