// What the client-streaming methods share (they are served through the
// callback API, client_stream_reactor.h, which lists the statuses a stream
// ends with): a received message's bytes, the statuses of a stream that
// was cut or carried nothing, and a method's registration index.
//
// (gRPC's typed readers return false at the half-close, when a message
// fails to parse and when the receive itself fails (a message over the size
// limit); taking that for the end of the stream would commit what came
// before a garbage or oversized message. The streams therefore read raw
// messages and tell the end apart from failures themselves.)
//
// Thread-safety: the functions are reentrant.
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

namespace hartonomous::rpc {

// A received message's bytes in *bytes (the buffer is emptied); false when
// they cannot be read (a failed receive).
bool FlattenMessage(grpc::ByteBuffer& buffer, std::string* bytes);
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
