// What the client-streaming methods share (they are served through the
// callback API, client_stream_reactor.h, which lists the statuses a stream
// ends with): a received message's bytes, the statuses of a stream that
// was cut or carried nothing, and a method's registration index.
//
// (gRPC's C++ readers, typed or raw, report the half-close, a message that
// fails to parse and a receive that failed (a message over the size limit,
// which a filter above the transport refuses) alike, and the context need
// not say cancelled by then; taking that for the end of the stream would
// commit what came before a garbage or oversized message. The streams
// therefore receive with gRPC's core API, whose receive fails only when the
// message was not received, and parse the bytes themselves.)
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <grpc/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

namespace hartonomous::rpc {

// A received message's bytes (decompressed) in *bytes; false when they
// cannot be read. The buffer stays the caller's.
bool FlattenMessage(grpc_byte_buffer* buffer, std::string* bytes);
// CANCELLED "stream: cancelled, disconnected or failed before the client
// closed it; nothing stored", and INVALID_ARGUMENT "stream: carried no
// message; nothing stored".
grpc::Status StreamCutStatus();
grpc::Status EmptyStreamStatus();

// The position of `method` in the service's descriptor, which is the index
// the generated Service registered it under. Aborts (a wiring mistake, met
// at start-up by any test) when the service or the client-streaming method
// does not exist.
int ClientStreamMethodIndex(std::string_view service_full_name, std::string_view method);

}  // namespace hartonomous::rpc
