// The gRPC reflection protocol from a test: messages built from the
// descriptors that libgrpc++_reflection's generated code registers (Debian
// ships the library, not the protocol's .proto or headers), and accessors
// by field name.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

namespace hartonomous::testing {

using google::protobuf::Message;

// A message of the reflection protocol, e.g. "ServerReflectionRequest".
inline std::unique_ptr<Message> NewReflectionMessage(const std::string& name) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();  // keeps the library linked
  const auto* type = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
      "grpc.reflection.v1alpha." + name);
  REQUIRE(type != nullptr);
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

inline const google::protobuf::FieldDescriptor* FieldOf(const Message& message,
                                                        const std::string& name) {
  const auto* field = message.GetDescriptor()->FindFieldByName(name);
  REQUIRE(field != nullptr);
  return field;
}

inline void SetString(Message* message, const std::string& name, const std::string& value) {
  message->GetReflection()->SetString(message, FieldOf(*message, name), value);
}

inline bool Has(const Message& message, const std::string& name) {
  return message.GetReflection()->HasField(message, FieldOf(message, name));
}

inline const Message& Get(const Message& message, const std::string& name) {
  return message.GetReflection()->GetMessage(message, FieldOf(message, name));
}

inline std::string String(const Message& message, const std::string& name) {
  return message.GetReflection()->GetString(message, FieldOf(message, name));
}

// The elements of a repeated message field.
inline std::vector<const Message*> Messages(const Message& message, const std::string& name) {
  const auto* field = FieldOf(message, name);
  std::vector<const Message*> out;
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    out.push_back(&message.GetReflection()->GetRepeatedMessage(message, field, i));
  }
  return out;
}

// The elements of a repeated string or bytes field.
inline std::vector<std::string> Strings(const Message& message, const std::string& name) {
  const auto* field = FieldOf(message, name);
  std::vector<std::string> out;
  for (int i = 0; i < message.GetReflection()->FieldSize(message, field); ++i) {
    out.push_back(message.GetReflection()->GetRepeatedString(message, field, i));
  }
  return out;
}

}  // namespace hartonomous::testing
