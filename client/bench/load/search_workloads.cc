// search, batch-search and hybrid: Fashion-MNIST queries against a
// collection of its training images (see workload_factory.h).
#include <algorithm>
#include <cstdio>
#include <map>

#include "../search_bench_util.h"
#include "unary_workload.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

class SearchWorkload : public UnaryWorkload {
 public:
  SearchWorkload(std::string kind, const WorkloadConfig& config)
      : kind_(std::move(kind)), config_(config) {}

  std::string name() const override { return kind_; }

  std::string Method() const override {
    if (kind_ == "search") return "/hartonomous.v1.SearchService/Search";
    if (kind_ == "batch-search") return "/hartonomous.v1.SearchService/BatchSearch";
    return "/hartonomous.v1.SearchService/HybridSearch";
  }

  size_t Period() const override { return queries_.rows; }
  uint64_t ItemsPerCall() const override {
    return kind_ == "batch-search" ? config_.queries_per_call : 1;
  }

  grpc::Status PrepareData(Client& client) override {
    try {
      queries_ = cli::ReadVectorFile(config_.queries_path, config_.query_count);
    } catch (const std::exception& e) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "--queries " + config_.queries_path + ": " + e.what());
    }
    if (queries_.rows == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "--queries " + config_.queries_path + ": no rows");
    }
    if (!config_.prepare) return grpc::Status::OK;
    v1::Collection collection;
    grpc::Status got = client.GetCollection(config_.collection, &collection);
    if (got.ok()) {
      if (collection.vector_count() < config_.vectors) {
        return grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            "collection " + config_.collection + " holds " +
                std::to_string(collection.vector_count()) + " vectors, fewer than --vectors " +
                std::to_string(config_.vectors) + "; delete it or name another with --collection");
      }
      std::fprintf(stderr, "prepare: collection %s already holds %llu vectors\n",
                   config_.collection.c_str(),
                   static_cast<unsigned long long>(collection.vector_count()));
    } else if (got.error_code() == grpc::StatusCode::NOT_FOUND) {
      cli::VectorFile train;
      try {
        train = cli::ReadVectorFile(config_.train_path, config_.vectors);
      } catch (const std::exception& e) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "--train " + config_.train_path + ": " + e.what());
      }
      if (train.dimension != queries_.dimension) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "--train and --queries differ in dimension");
      }
      std::fprintf(stderr, "prepare: loading %zu x %zu vectors into %s\n", train.rows,
                   train.dimension, config_.collection.c_str());
      std::vector<uint64_t> atom_of;
      LoadTimes times;
      LoadRows(client, config_.collection,
               HnswL2Spec(config_.collection, train.dimension, config_.m, config_.ef_construction),
               train, 1000, nullptr, &atom_of, &times);
      std::fprintf(stderr, "prepare: loaded in %.1f s\n", times.total_s);
    } else {
      return got;
    }
    if (kind_ == "hybrid") {
      grpc::Status reread = client.GetCollection(config_.collection, &collection);
      if (!reread.ok()) return reread;
      if (collection.projection().kind() != "pca") {
        v1::RefitProjectionRequest refit;
        refit.set_collection(config_.collection);
        v1::ProjectionInfo info;
        grpc::Status s = client.RefitProjection(refit, &info);
        if (!s.ok()) return s;
      }
    }
    return grpc::Status::OK;
  }

  std::string RequestBytes(uint64_t seq) const override {
    if (kind_ == "search") return Query(seq).SerializeAsString();
    if (kind_ == "batch-search") {
      v1::BatchSearchRequest request;
      for (uint32_t i = 0; i < config_.queries_per_call; ++i) {
        *request.add_searches() = Query(seq * config_.queries_per_call + i);
      }
      return request.SerializeAsString();
    }
    const size_t row = seq % queries_.rows, dim = queries_.dimension;
    auto request = NearestRequest<v1::HybridSearchRequest>(
        config_.collection, &queries_.values[row * dim], dim, config_.k);
    request.set_keep_fraction(config_.keep_fraction);
    request.set_ef(config_.ef);
    return request.SerializeAsString();
  }

 private:
  v1::SearchRequest Query(uint64_t seq) const {
    const size_t row = seq % queries_.rows, dim = queries_.dimension;
    auto request = NearestRequest<v1::SearchRequest>(config_.collection,
                                                     &queries_.values[row * dim], dim, config_.k);
    if (config_.ef > 0) request.mutable_params()->set_ef(config_.ef);
    return request;
  }

  std::string kind_;
  WorkloadConfig config_;
  cli::VectorFile queries_;
};

}  // namespace

std::unique_ptr<Workload> MakeSearchWorkload(const std::string& kind, const WorkloadConfig& config,
                                             std::string* error) {
  if (config.queries_path.empty()) {
    *error = kind + ": --queries is required";
    return nullptr;
  }
  return std::make_unique<SearchWorkload>(kind, config);
}

}  // namespace hartonomous::bench
