// The commands of the `hartonomous` tool: the table that defines their grammar
// and help, and the client settings they share.
//
// Each command prints its result on stdout (text, or JSON with --json) and
// throws UsageError or Failure (cli_errors.h) when it cannot succeed.
// Thread-safety: runs on the main thread only.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cli_args.h"
#include "cli_errors.h"
#include "hartonomous/client.h"

namespace hartonomous::cli {

// Every command, in the order the help lists them.
const std::vector<CommandSpec>& Commands();

// Client settings from the global flags (--server, --timeout).
ClientOptions MakeClientOptions(const GlobalOptions& global);

// One RPC on a client of the invocation's server: returns the response of
// (client.*method)(args..., &response); throws Failure when the call fails.
//   const v1::ServerStats stats = Call(invocation, &Client::GetServerStats);
template <typename... Params, typename... Args>
auto Call(const Invocation& invocation, grpc::Status (Client::*method)(Params...), Args&&... args) {
  using Response =
      std::remove_pointer_t<std::tuple_element_t<sizeof...(Params) - 1, std::tuple<Params...>>>;
  Client client(MakeClientOptions(invocation.global));
  Response response;
  Check((client.*method)(std::forward<Args>(args)..., &response));
  return response;
}

}  // namespace hartonomous::cli
