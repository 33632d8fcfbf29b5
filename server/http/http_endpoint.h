// HttpEndpoint: hartonomousd's plain HTTP/1.1 port for operators, separate
// from the gRPC port (--metrics-listen). It serves GET routes whose bodies
// are produced by callbacks (GET /metrics, the Prometheus exposition; GET
// /status, the status page); any other path is 404 and any other method 405.
//
// Bounds: 4 worker threads, requests of at most 64 KiB, a 5 s read and write
// timeout, at most 100 requests per keep-alive connection.
//
// Built on cpp-httplib (Debian's libcpp-httplib-dev).
//
// Thread-safety: Start and the destructor on one thread; the callbacks run
// on the worker threads, concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace httplib {
class Server;
}

namespace hartonomous::http {

struct Route {
  std::string path;          // e.g. "/metrics"
  std::string content_type;  // e.g. "text/plain; version=0.0.4; charset=utf-8"
  std::function<std::string()> body;
};

class HttpEndpoint {
 public:
  // Listens on listen (HOST:PORT; port 0 picks a free port) and serves
  // routes. A non-empty bearer_token is required on every request as
  // "Authorization: Bearer TOKEN" (401 otherwise). Unavailable "--metrics-listen ADDR: cannot
  // listen there ..." when it cannot bind.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen,
                                                     std::vector<Route> routes,
                                                     const std::string& bearer_token = "");
  ~HttpEndpoint();  // stops serving and joins the threads
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // HOST:PORT with the bound port.
  const std::string& address() const { return address_; }

 private:
  HttpEndpoint();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string address_;
};

}  // namespace hartonomous::http
