// Builds requests and a client against the installed headers; no server is
// needed: an unreachable target must fail with UNAVAILABLE, not crash.
#include <hartonomous/client.h>

#include <iostream>

int main() {
  hartonomous::ClientOptions options;
  options.target = "127.0.0.1:1";
  options.timeout = std::chrono::milliseconds(2000);
  hartonomous::Client client(options);
  hartonomous::v1::IngestAtomRequest request;
  request.set_content("hello");
  request.set_modality("text");
  hartonomous::v1::IngestAtomResponse response;
  grpc::Status status = client.IngestAtom(request, &response);
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
      status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::cerr << "unexpected status " << status.error_code() << "\n";
    return 1;
  }
  std::cout << "consumer ok\n";
  return 0;
}
