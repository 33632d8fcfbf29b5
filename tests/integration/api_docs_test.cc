// docs/api.md against the running server: every service and method the
// server lists by gRPC reflection is in api.md's service table (exactly:
// a method named there must exist), and every hartonomous.v1 method has its
// own entry (a "### Name" heading or a "| `Name` ..." table row).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>

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

namespace hartonomous::testing {
namespace {

using google::protobuf::Message;

// A message of the reflection protocol, from the descriptors libgrpc++_reflection registers.
std::unique_ptr<Message> NewReflectionMessage(const std::string& name) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();  // keeps the library linked
  const auto* type = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
      "grpc.reflection.v1alpha." + name);
  REQUIRE(type != nullptr);
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

const google::protobuf::FieldDescriptor* FieldOf(const Message& message, const std::string& name) {
  const auto* field = message.GetDescriptor()->FindFieldByName(name);
  REQUIRE(field != nullptr);
  return field;
}

const Message& Get(const Message& message, const std::string& name) {
  return message.GetReflection()->GetMessage(message, FieldOf(message, name));
}

std::vector<const Message*> Messages(const Message& message, const std::string& name) {
  const auto* field = FieldOf(message, name);
  std::vector<const Message*> out;
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    out.push_back(&message.GetReflection()->GetRepeatedMessage(message, field, i));
  }
  return out;
}

std::vector<std::string> Strings(const Message& message, const std::string& name) {
  const auto* field = FieldOf(message, name);
  std::vector<std::string> out;
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    out.push_back(message.GetReflection()->GetRepeatedString(message, field, i));
  }
  return out;
}

using ServiceMethods = std::map<std::string, std::set<std::string>>;

// Every service the server lists, with its methods, as reflection describes them.
ServiceMethods ReflectedServices(Daemon& daemon) {
  RawBidiStream stream(daemon.client().channel(),
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  auto request = NewReflectionMessage("ServerReflectionRequest");
  auto response = NewReflectionMessage("ServerReflectionResponse");
  const auto set_string = [&](const std::string& field, const std::string& value) {
    request->GetReflection()->SetString(request.get(), FieldOf(*request, field), value);
  };
  set_string("list_services", "");
  REQUIRE(stream.Write(*request));
  REQUIRE(stream.Read(response.get()));
  std::vector<std::string> names;
  for (const Message* s : Messages(Get(*response, "list_services_response"), "service")) {
    names.push_back(s->GetReflection()->GetString(*s, FieldOf(*s, "name")));
  }
  ServiceMethods out;
  for (const std::string& full : names) {
    set_string("file_containing_symbol", full);
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
