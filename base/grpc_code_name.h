// The canonical names of gRPC status codes, by their numbers in the gRPC
// specification (doc/statuscodes.md: 0 "OK" ... 16 "UNAUTHENTICATED"). Takes
// the number, so code below the RPC layer and the client tools share one
// table without including gRPC. Thread-safe (constant data).
#pragma once

namespace hartonomous {

// "DEADLINE_EXCEEDED" for 4; nullptr for a number outside 0..16.
const char* GrpcCodeName(int code);

}  // namespace hartonomous
