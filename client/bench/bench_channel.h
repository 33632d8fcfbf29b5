// The channels of hartonomous-bench: each on a connection of its own, with
// the API key and TLS files of the clients' environment
// ($HARTONOMOUS_API_KEY, $HARTONOMOUS_TLS_CA / _CERT / _KEY).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace hartonomous::bench {

// A channel to target; index tells channels apart (distinct values get
// distinct connections). Exits with status 2 and a message when the TLS
// files of the environment cannot be read.
std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target, int index);

}  // namespace hartonomous::bench
