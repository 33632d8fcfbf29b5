#include "server/http/http_endpoint.h"

#include <httplib.h>

namespace hartonomous::http {
namespace {

constexpr size_t kWorkers = 4;
constexpr size_t kMaxRequestBytes = size_t{64} << 10;
constexpr time_t kTimeoutSeconds = 5;
constexpr size_t kKeepAliveRequests = 100;

}  // namespace

HttpEndpoint::HttpEndpoint() : server_(std::make_unique<httplib::Server>()) {}

HttpEndpoint::~HttpEndpoint() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                          std::vector<Route> routes,
                                                          const std::string& bearer_token) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("--metrics-listen: expected HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const int wanted = std::atoi(listen.substr(colon + 1).c_str());
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint());
  httplib::Server& server = *endpoint->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server.set_payload_max_length(kMaxRequestBytes);
  server.set_read_timeout(kTimeoutSeconds, 0);
  server.set_write_timeout(kTimeoutSeconds, 0);
  server.set_keep_alive_max_count(kKeepAliveRequests);
  for (Route& route : routes) {
    server.Get(route.path, [route, expected = "Bearer " + bearer_token, bearer_token](
                               const httplib::Request& request, httplib::Response& response) {
      if (!bearer_token.empty() && request.get_header_value("Authorization") != expected) {
        response.status = 401;
        response.set_header("WWW-Authenticate", "Bearer");
        response.set_content("401 unauthorized\n", "text/plain");
        return;
      }
      response.set_content(route.body(), route.content_type.c_str());
    });
  }
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 404 && request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
    }
    if (response.body.empty()) {
      response.set_content(std::to_string(response.status) + "\n", "text/plain");
    }
  });
  int port = wanted;
  bool bound;
  if (wanted == 0) {
    port = server.bind_to_any_port(host);
    bound = port > 0;
  } else {
    bound = server.bind_to_port(host, wanted);
  }
  if (!bound) {
    return Status::Unavailable("--metrics-listen " + listen +
                               ": cannot listen there (address in use or invalid)");
  }
  endpoint->address_ = listen.substr(0, colon) + ":" + std::to_string(port);
  endpoint->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return Result<std::unique_ptr<HttpEndpoint>>(std::move(endpoint));
}

}  // namespace hartonomous::http
