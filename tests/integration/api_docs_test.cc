// docs/api.md against the running server: every service and method the
// server lists by gRPC reflection is in api.md's service table (exactly:
// a method named there must exist), and every hartonomous.v1 method has its
// own entry (a "### Name" heading or a "| `Name` ..." table row).
#include <google/protobuf/descriptor.pb.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "reflection_util.h"

namespace hartonomous::testing {
namespace {

using google::protobuf::Message;

using ServiceMethods = std::map<std::string, std::set<std::string>>;

// Every service the server lists, with its methods, as reflection describes them.
ServiceMethods ReflectedServices(Daemon& daemon) {
  RawBidiStream stream(daemon.client().channel(),
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  auto request = NewReflectionMessage("ServerReflectionRequest");
  auto response = NewReflectionMessage("ServerReflectionResponse");
  SetString(request.get(), "list_services", "");
  REQUIRE(stream.Write(*request));
  REQUIRE(stream.Read(response.get()));
  std::vector<std::string> names;
  for (const Message* s : Messages(Get(*response, "list_services_response"), "service")) {
    names.push_back(String(*s, "name"));
  }
  ServiceMethods out;
  for (const std::string& full : names) {
    SetString(request.get(), "file_containing_symbol", full);
    REQUIRE(stream.Write(*request));
    REQUIRE(stream.Read(response.get()));
    for (const auto& bytes :
         Strings(Get(*response, "file_descriptor_response"), "file_descriptor_proto")) {
      google::protobuf::FileDescriptorProto file;
      REQUIRE(file.ParseFromString(bytes));
      for (const auto& service : file.service()) {
        const std::string name =
            file.package().empty() ? service.name() : file.package() + "." + service.name();
        if (name != full) continue;
        for (const auto& m : service.method()) out[full].insert(m.name());
      }
    }
    INFO(full);
    CHECK(out.count(full) == 1);
  }
  CHECK(stream.Finish().ok());
  return out;
}

std::string ReadApiDoc() {
  std::ifstream file(std::string(HARTONOMOUS_SOURCE_DIR) + "/docs/api.md");
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// api.md's service table: "| `full.Service` | methods ... | defined in |"
// rows; the methods are the backquoted CamelCase words of the second cell.
ServiceMethods DocumentedServices(const std::string& doc) {
  ServiceMethods out;
  const std::regex row(R"(^\| `([a-z][a-z0-9_.]*\.[A-Z][A-Za-z0-9]*)` \| ([^|]*) \|)");
  const std::regex method("`([A-Z][A-Za-z0-9]*)`");
  std::istringstream in(doc);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    const std::string cell = m[2];
    std::set<std::string>& methods = out[m[1]];
    for (auto it = std::sregex_iterator(cell.begin(), cell.end(), method);
         it != std::sregex_iterator(); ++it) {
      methods.insert((*it)[1]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("api.md documents every method reflection lists", "[daemon][reflection][docs]") {
  Daemon daemon;
  const ServiceMethods served = ReflectedServices(daemon);
  const std::string doc = ReadApiDoc();
  const ServiceMethods documented = DocumentedServices(doc);
  REQUIRE(served.count("hartonomous.v1.AtomService") == 1);
  REQUIRE(served.count("hartonomous.v1.SearchService") == 1);

  for (const auto& [service, methods] : served) {
    INFO("service " << service);
    REQUIRE(documented.count(service) == 1);
    for (const std::string& m : methods) {
      INFO("method " << m << " is served but missing from api.md's table");
      CHECK(documented.at(service).count(m) == 1);
    }
    for (const std::string& m : documented.at(service)) {
      INFO("api.md's table names " << m << ", which the server does not have");
      CHECK(methods.count(m) == 1);
    }
    if (service.rfind("hartonomous.v1.", 0) != 0) continue;
    for (const std::string& m : methods) {
      INFO("method " << m << " has no '### " << m << "' heading or '| `" << m << "`' row");
      CHECK((doc.find("\n### " + m + "\n") != std::string::npos ||
             doc.find("\n| `" + m + "`") != std::string::npos));
    }
  }
  for (const auto& [service, methods] : documented) {
    INFO("api.md's table names service " << service << ", which the server does not list");
    CHECK(served.count(service) == 1);
  }
}

TEST_CASE("api.md lists every CLI command", "[cli][docs]") {
  // The commands `hartonomous help` lists: "  NAME [VERB] ARGS...  summary",
  // a verb being a lower-case word after a group name.
  const ProcessResult help = RunProcess({CliPath(), "help"});
  REQUIRE(help.exit_code == 0);
  std::set<std::string> commands;
  std::istringstream in(help.out.substr(help.out.find("Commands:")));
  std::string line;
  const std::regex command_line(R"(^  ([a-z][a-z-]*)( [a-z][a-z-]*)?( |$))");
  while (std::getline(in, line) && !line.empty()) {
    std::smatch m;
    if (std::regex_search(line, m, command_line)) commands.insert(m.str(1) + m.str(2));
  }
  REQUIRE(commands.count("collections create") == 1);
  REQUIRE(commands.count("ingest") == 1);

  const std::string doc = ReadApiDoc();
  const size_t section = doc.find("### Command-line client");
  REQUIRE(section != std::string::npos);
  std::set<std::string> documented;
  std::istringstream table(doc.substr(section));
  const std::regex row(R"(^\| `([a-z][a-z -]*)` \|)");
  while (std::getline(table, line)) {
    if (line.rfind("## ", 0) == 0) break;
    std::smatch m;
    if (std::regex_search(line, m, row)) documented.insert(m.str(1));
  }
  for (const std::string& c : commands) {
    INFO("`hartonomous " << c << "` is missing from api.md's command table");
    CHECK(documented.count(c) == 1);
  }
  for (const std::string& c : documented) {
    INFO("api.md's command table names `" << c << "`, which `hartonomous help` does not list");
    CHECK(commands.count(c) == 1);
  }
}

}  // namespace hartonomous::testing
