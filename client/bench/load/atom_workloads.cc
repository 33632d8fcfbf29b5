// ingest-atoms, ingest-atom and get-atom (see workload_factory.h).
#include <cstdio>

#include "async_calls.h"
#include "unary_workload.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

// Atom i of a run: a window of the corpus behind a prefix that makes it
// distinct ("<nonce>:<i>|"), atom_bytes long in all.
std::string AtomContent(const TextCorpus& corpus, const std::string& nonce, uint64_t i,
                        size_t bytes) {
  std::string content = nonce + ":" + std::to_string(i) + "|";
  const std::string& text = corpus.joined;
  size_t at = static_cast<size_t>((i * 7919) % text.size());
  while (content.size() < bytes) {
    const size_t take = std::min(bytes - content.size(), text.size() - at);
    content.append(text, at, take);
    at = 0;
  }
  content.resize(bytes);
  return content;
}

class IngestAtomsWorkload : public Workload {
 public:
  IngestAtomsWorkload(const WorkloadConfig& config, TextCorpus corpus)
      : config_(config), corpus_(std::move(corpus)) {}
  std::string name() const override { return "ingest-atoms"; }
  grpc::Status Prepare(Client&) override { return grpc::Status::OK; }

  void Start(uint64_t seq, Stubs& stubs, std::unique_ptr<grpc::ClientContext> context,
             CallDone done) override {
    // One message of at most 4 MiB of content per message.
    std::vector<v1::IngestAtomsRequest> messages(1);
    size_t bytes = 0;
    for (uint32_t i = 0; i < config_.atoms_per_call; ++i) {
      if (bytes + config_.atom_bytes > (size_t{4} << 20) && messages.back().atoms_size() > 0) {
        messages.emplace_back();
        bytes = 0;
      }
      v1::IngestAtomRequest* atom = messages.back().add_atoms();
      atom->set_content(AtomContent(corpus_, config_.nonce, seq * config_.atoms_per_call + i,
                                    config_.atom_bytes));
      atom->set_modality("text");
      bytes += config_.atom_bytes;
    }
    StreamCall<v1::IngestAtomsRequest, v1::IngestAtomsResponse>::Run(
        std::move(context), std::move(messages),
        [&stubs](auto* c, auto* r, auto* reactor) {
          stubs.atoms->async()->IngestAtoms(c, r, reactor);
        },
        config_.atoms_per_call, std::move(done));
  }

 private:
  WorkloadConfig config_;
  TextCorpus corpus_;
};

// One atom per unary IngestAtom call. The first Period() calls store new
// atoms; later calls repeat their contents (a reference more each).
class IngestAtomWorkload : public UnaryWorkload {
 public:
  IngestAtomWorkload(const WorkloadConfig& config, TextCorpus corpus)
      : config_(config), corpus_(std::move(corpus)) {}
  std::string name() const override { return "ingest-atom"; }
  std::string Method() const override { return "/hartonomous.v1.AtomService/IngestAtom"; }
  size_t Period() const override { return config_.prepare_atoms; }
  grpc::Status PrepareData(Client&) override {
    if (config_.prepare_atoms == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "--prepare-atoms must be >= 1");
    }
    return grpc::Status::OK;
  }
  std::string RequestBytes(uint64_t seq) const override {
    v1::IngestAtomRequest atom;
    atom.set_content(AtomContent(corpus_, config_.nonce + "-unary", seq, config_.atom_bytes));
    atom.set_modality("text");
    return atom.SerializeAsString();
  }

 private:
  WorkloadConfig config_;
  TextCorpus corpus_;
};

class GetAtomWorkload : public UnaryWorkload {
 public:
  GetAtomWorkload(const WorkloadConfig& config, TextCorpus corpus)
      : config_(config), corpus_(std::move(corpus)) {}
  std::string name() const override { return "get-atom"; }
  std::string Method() const override { return "/hartonomous.v1.AtomService/GetAtom"; }
  size_t Period() const override { return ids_.size(); }

  grpc::Status PrepareData(Client& client) override {
    // The atoms to read: prepare_atoms of them, ingested (or found again:
    // the same nonce gives the same content and the same ids).
    const std::string nonce = config_.nonce + "-get";
    for (uint32_t start = 0; start < config_.prepare_atoms; start += 1000) {
      std::vector<v1::IngestAtomRequest> atoms;
      for (uint32_t i = start; i < std::min(config_.prepare_atoms, start + 1000); ++i) {
        v1::IngestAtomRequest atom;
        atom.set_content(AtomContent(corpus_, nonce, i, config_.atom_bytes));
        atom.set_modality("text");
        atoms.push_back(std::move(atom));
      }
      v1::IngestAtomsResponse response;
      grpc::Status s = client.IngestAtoms(atoms, &response);
      if (!s.ok()) return s;
      for (const auto& r : response.results()) ids_.push_back(r.atom_id());
    }
    if (ids_.empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "--prepare-atoms must be >= 1");
    }
    std::fprintf(stderr, "prepare: %zu atoms to read\n", ids_.size());
    return grpc::Status::OK;
  }

  // A scattered order: request i reads atom (i * 2654435761) % n.
  std::string RequestBytes(uint64_t seq) const override {
    v1::GetAtomRequest request;
    request.set_atom_id(ids_[(seq * 2654435761u) % ids_.size()]);
    request.set_include_content(true);
    return request.SerializeAsString();
  }

 private:
  WorkloadConfig config_;
  TextCorpus corpus_;
  std::vector<uint64_t> ids_;
};

}  // namespace

std::unique_ptr<Workload> MakeAtomWorkload(const std::string& kind, const WorkloadConfig& config,
                                           std::string* error) {
  TextCorpus corpus;
  if (!ReadTextCorpus(config.text_dir, size_t{64} << 20, &corpus, error)) return nullptr;
  if (config.atom_bytes < 32) {
    *error = "--atom-bytes must be >= 32 (room for the unique prefix)";
    return nullptr;
  }
  if (kind == "ingest-atoms")
    return std::make_unique<IngestAtomsWorkload>(config, std::move(corpus));
  if (kind == "ingest-atom") return std::make_unique<IngestAtomWorkload>(config, std::move(corpus));
  return std::make_unique<GetAtomWorkload>(config, std::move(corpus));
}

}  // namespace hartonomous::bench
