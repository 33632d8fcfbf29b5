#include "bench_channel.h"

#include <cstdio>
#include <cstdlib>

#include "hartonomous/client.h"

namespace hartonomous::bench {

std::shared_ptr<grpc::Channel> MakeBenchChannel(const std::string& target, int index) {
  ClientOptions options;
  options.target = target;
  options.own_connection = true;
  if (std::string error; !ApplyClientEnvironment(&options, &error)) {
    std::fprintf(stderr, "hartonomous-bench: %s\n", error.c_str());
    std::exit(2);
  }
  grpc::ChannelArguments args;
  args.SetInt("hartonomous.bench.channel", index);
  return CreateClientChannel(options, args);
}

}  // namespace hartonomous::bench
