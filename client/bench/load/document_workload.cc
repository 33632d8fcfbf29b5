// ingest-docs: one text document per call (see workload_factory.h).
#include "async_calls.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class DocumentWorkload : public Workload {
 public:
  DocumentWorkload(const WorkloadConfig& config, TextCorpus corpus)
      : config_(config), corpus_(std::move(corpus)) {}
  std::string name() const override { return "ingest-docs"; }
  grpc::Status Prepare(Client&) override { return grpc::Status::OK; }

  // Document seq: corpus file seq % files, with a last line naming the run
  // and seq (so its last paragraph is new), under its own source URI.
  void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
             CallDone done) override {
    const std::string& file = corpus_.files[seq % corpus_.files.size()];
    const std::string content =
        file + "\n\nhartonomous-bench " + config_.nonce + " document " + std::to_string(seq) + "\n";
    constexpr size_t kMessageBytes = 256 << 10;
    std::vector<v1::IngestDocumentRequest> messages;
    for (size_t at = 0; at < content.size(); at += kMessageBytes) {
      v1::IngestDocumentRequest& m = messages.emplace_back();
      m.set_content(content.substr(at, kMessageBytes));
      if (at == 0) {
        m.set_modality("text");
        m.set_source_uri("bench://" + config_.nonce + "/" + std::to_string(seq));
      }
    }
    StreamCall<v1::IngestDocumentRequest, v1::IngestDocumentResponse>::Run(
        std::move(context), std::move(messages),
        [&stubs](auto* c, auto* r, auto* reactor) {
          stubs.atoms->async()->IngestDocument(c, r, reactor);
        },
        content.size(), std::move(done));
  }

 private:
  WorkloadConfig config_;
  TextCorpus corpus_;
};

}  // namespace

std::unique_ptr<Workload> MakeDocumentWorkload(const WorkloadConfig& config, std::string* error) {
  TextCorpus corpus;
  if (!ReadTextCorpus(config.text_dir, size_t{64} << 20, &corpus, error)) return nullptr;
  return std::make_unique<DocumentWorkload>(config, std::move(corpus));
}

}  // namespace hartonomous::bench
