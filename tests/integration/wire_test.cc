// Wire-level robustness of the live daemon: random and mutated request
// bytes on every method, messages over the receive limit, gRPC frames
// announcing gigabytes that never come, client streams dropped mid-way by
// cancellation or a closed socket, and hundreds of idle streams held open.
// Through all of it the daemon answers every call with a status (never
// UNKNOWN or INTERNAL, INVALID_ARGUMENT for bytes that do not parse),
// stores nothing from a stream that did not end, keeps serving, and its
// resident memory returns to its baseline.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "raw_http2.h"
#include "raw_rpc.h"
#include "sanitizer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

namespace {

const std::string kAdminKey = "wire-test-admin-key-0123456789abcdef";
const std::string kBearer = "Bearer " + kAdminKey;

// Every method of every service the daemon serves.
std::vector<const MethodDescriptor*> AllMethods() {
  std::vector<const MethodDescriptor*> methods;
  for (const char* name : {"hartonomous.v1.AtomService", "hartonomous.v1.SearchService",
                           "hartonomous.v1.ModelService", "hartonomous.v1.InferenceService",
                           "hartonomous.v1.AdminService", "grpc.health.v1.Health"}) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) methods.push_back(service->method(i));
  }
  return methods;
}

// A line of /proc/PID/status in bytes ("VmRSS", "RssAnon").
uint64_t StatusBytes(pid_t pid, const std::string& key) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
  }
  throw std::runtime_error("no " + key + " line for pid " + std::to_string(pid));
}

uint64_t Rss(pid_t pid) { return StatusBytes(pid, "VmRSS"); }

constexpr uint64_t kMiB = uint64_t{1} << 20;

// The daemon is still running and answering.
void RequireServing(Daemon& daemon) {
  int status = 0;
  REQUIRE(waitpid(daemon.pid(), &status, WNOHANG) == 0);
  v1::IngestAtomResponse ingested;
  REQUIRE(daemon.client().IngestAtom(TextAtom("still serving"), &ingested).ok());
}

std::unique_ptr<Message> NewRequest(const MethodDescriptor& method) {
  return std::unique_ptr<Message>(google::protobuf::MessageFactory::generated_factory()
                                      ->GetPrototype(method.input_type())
                                      ->New());
}

// Sets every field of `message` (the first member of each oneof, one
// element of each repeated field, nested messages to depth 3) to a value
// of its type that the API's rules often accept, so that mutations of it
// reach the checks past parsing.
void FillFields(Message* message, int depth) {
  const auto* descriptor = message->GetDescriptor();
  const auto* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const auto* oneof = field->real_containing_oneof();
    if (oneof != nullptr && oneof->field(0) != field) continue;
    const bool repeated = field->is_repeated();
    const std::string& name = field->name();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        repeated ? reflection->AddInt32(message, field, 1)
                 : reflection->SetInt32(message, field, 1);
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        repeated ? reflection->AddInt64(message, field, 1)
                 : reflection->SetInt64(message, field, 1);
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        repeated ? reflection->AddUInt32(message, field, 1)
                 : reflection->SetUInt32(message, field, 1);
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        repeated ? reflection->AddUInt64(message, field, 1)
                 : reflection->SetUInt64(message, field, 1);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        repeated ? reflection->AddDouble(message, field, 0.5)
                 : reflection->SetDouble(message, field, 0.5);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        repeated ? reflection->AddFloat(message, field, 0.5f)
                 : reflection->SetFloat(message, field, 0.5f);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        repeated ? reflection->AddBool(message, field, true)
                 : reflection->SetBool(message, field, true);
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* value =
            field->enum_type()->value(field->enum_type()->value_count() > 1 ? 1 : 0);
        repeated ? reflection->AddEnum(message, field, value)
                 : reflection->SetEnum(message, field, value);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value = "wire";
        if (name.find("hash") != std::string::npos || name.find("sha256") != std::string::npos) {
          value = Sha256Hex("wire");
        } else if (name.find("metadata") != std::string::npos) {
          value = "{\"k\":1}";
        } else if (name == "modality") {
          value = "text";
        } else if (name == "path") {
          value = "";  // Backup's destination: none, so nothing is written outside the test
        }
        repeated ? reflection->AddString(message, field, value)
                 : reflection->SetString(message, field, value);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (depth >= 3) break;
        FillFields(repeated ? reflection->AddMessage(message, field)
                            : reflection->MutableMessage(message, field),
                   depth + 1);
        break;
    }
  }
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string bytes(n, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng());
  return bytes;
}

// One edit of `bytes`: bits flipped, bytes inserted, a cut, a varint made
// endless, or a slice repeated.
std::string Mutate(std::mt19937_64& rng, std::string bytes) {
  auto at = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  switch (rng() % 5) {
    case 0:
      for (int i = 0; i < 1 + static_cast<int>(rng() % 4) && !bytes.empty(); ++i) {
        bytes[at(bytes.size())] ^= static_cast<char>(1 << (rng() % 8));
      }
      break;
    case 1:
      bytes.insert(at(bytes.size() + 1), RandomBytes(rng, 1 + rng() % 16));
      break;
    case 2:
      bytes.resize(at(bytes.size()));
      break;
    case 3:
      if (!bytes.empty()) bytes[at(bytes.size())] = static_cast<char>(0xff);
      break;
    default: {
      const size_t begin = at(bytes.size());
      bytes.insert(begin, bytes.substr(begin, at(bytes.size() - begin + 1)));
      break;
    }
  }
  return bytes;
}

// One call of `method` with `bytes` as its request (a client stream's one
// message). A Watch whose request parses runs until cancelled: it is
// cancelled after its first response (status CANCELLED).
grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, const MethodDescriptor& method,
                  const std::string& bytes) {
  if (method.full_name() != "grpc.health.v1.Health.Watch") {
    return CallMethodWithBytes(channel, method, bytes, kBearer);
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
          channel.get(),
          grpc::internal::RpcMethod("/grpc.health.v1.Health/Watch",
                                    grpc::internal::RpcMethod::SERVER_STREAMING),
          &context, ToByteBuffer(bytes)));
  grpc::ByteBuffer message;
  if (reader->Read(&message)) context.TryCancel();
  return reader->Finish();
}

// Codes the server may answer to any request it could parse: the
// application's own. UNKNOWN, INTERNAL, DATA_LOSS (a crash or a bug),
// UNAVAILABLE (the daemon gone) and DEADLINE_EXCEEDED (a hang) are not.
bool ApplicationCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return true;
    default:
      return false;
  }
}

}  // namespace

TEST_CASE("wire level: garbage, oversize frames, dropped and idle streams, RSS back to baseline",
          "[wire]") {
  // 1 MiB atoms: the largest message received is 1 MiB + 16 MiB. 16
  // threads for long calls: the 300 idle streams below (health Watch and
  // IngestAtoms, callback methods like every method) hold no thread.
  Daemon::Options options;
  options.extra_args = {"--admin-key", kAdminKey,       "--max-content-bytes",
                        "1M",          "--max-threads", "16"};
  options.client.api_key = kAdminKey;
  // The daemon runs with glibc's malloc limited to 2 arenas, as
  // docs/operations.md advises for a daemon that receives large messages:
  // with glibc's default (8 arenas per core) every run of the battery below
  // (without its random requests, which store data) left about 30 MiB more
  // resident (98 to 281 MiB over 7 runs on 2 cores), freed memory scattered
  // over the arenas that each thread's first allocation picks; with 2
  // arenas the same runs stayed between 82 and 100 MiB.
  setenv("MALLOC_ARENA_MAX", "2", /*overwrite=*/1);
  Daemon daemon(options);
  unsetenv("MALLOC_ARENA_MAX");
  Client& client = daemon.client();
  const auto methods = AllMethods();
  REQUIRE(methods.size() > 60);

  // Warm-up: some atoms, every method once, the allocator's arenas in use.
  for (int i = 0; i < 200; ++i) {
    v1::IngestAtomResponse ingested;
    REQUIRE(client.IngestAtom(TextAtom("warm-up atom " + std::to_string(i)), &ingested).ok());
  }
  for (const auto* method : methods) (void)Call(client.channel(), *method, "");
  WaitForServerCallsToEnd(client);
  const uint64_t cold = Rss(daemon.pid());
  // Far below any announced length (2 to 4 GiB), above what the allocator
  // keeps from the 17 MiB messages received whole.
  const uint64_t in_phase_bound = cold + 160 * kMiB;

  // The whole battery, run three times: the first two are the warm-up
  // whose end is the baseline, the third must end near it.
  uint64_t rss_with_idle_streams = 0;
  auto battery = [&](int round) {
    const std::string r = "r" + std::to_string(round) + "-";

    // 1. Random and mutated bytes as the request of every method.
    {
      std::mt19937_64 rng(20261130 + round);
      const size_t kLengths[] = {0, 1, 2, 3, 5, 8, 13, 32, 100, 1000, 4096, 16384, 65536};
      std::map<grpc::StatusCode, int> codes;
      int unparsable = 0;
      for (const auto* method : methods) {
        auto valid = NewRequest(*method);
        FillFields(valid.get(), 0);
        const std::string valid_bytes = valid->SerializeAsString();
        std::vector<std::string> inputs = {valid_bytes};
        for (int i = 0; i < 32; ++i) {
          inputs.push_back(RandomBytes(
              rng, kLengths[rng() % std::size(kLengths)] + (rng() % 2 == 0 ? 0 : rng() % 64)));
        }
        for (int i = 0; i < 64; ++i) {
          std::string mutated = valid_bytes;
          for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
            mutated = Mutate(rng, mutated);
          }
          inputs.push_back(mutated);
        }
        for (size_t i = 0; i < inputs.size(); ++i) {
          bool parses = false;
          {
            google::protobuf::LogSilencer quiet;  // invalid UTF-8 in a string field is logged
            parses = NewRequest(*method)->ParseFromString(inputs[i]);
          }
          const grpc::Status status = Call(client.channel(), *method, inputs[i]);
          ++codes[status.error_code()];
          INFO(method->full_name()
               << " input " << i << " (" << inputs[i].size() << " bytes, "
               << (parses ? "parses" : "does not parse") << "): " << CodeName(status.error_code())
               << " " << status.error_message());
          if (!parses) {
            ++unparsable;
            CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
            CHECK_THAT(status.error_message(),
                       Catch::Contains("does not parse as " + method->input_type()->full_name()));
          } else if (method->name() == "Watch") {
            CHECK((status.error_code() == grpc::StatusCode::CANCELLED ||
                   status.error_code() == grpc::StatusCode::NOT_FOUND));
          } else {
            CHECK(ApplicationCode(status.error_code()));
          }
        }
      }
      // Both kinds of input were sent, and some reached the handlers' rules.
      CHECK(unparsable > 500);
      CHECK(codes[grpc::StatusCode::INVALID_ARGUMENT] > unparsable);
      CHECK(codes[grpc::StatusCode::OK] > 0);
      RequireServing(daemon);
    }

    // 2. Messages over the receive limit, and frames announcing more than
    // arrives.
    const size_t kMaxReceive = (size_t{17} << 20);  // --max-content-bytes 1M + 16 MiB
    {
      std::mt19937_64 rng(2 + round);
      const std::string too_big = RandomBytes(rng, kMaxReceive + 1);
      for (const char* name :
           {"hartonomous.v1.AtomService.IngestAtom", "hartonomous.v1.AtomService.GetDocument",
            "hartonomous.v1.InferenceService.LogInferences"}) {
        const auto* method =
            google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
        REQUIRE(method != nullptr);
        INFO(name);
        CHECK(Call(client.channel(), *method, too_big).error_code() ==
              grpc::StatusCode::RESOURCE_EXHAUSTED);
      }
      RequireServing(daemon);

      // A gRPC frame header announcing 4 GiB - 1, 2 GiB or one byte over the
      // limit, followed by 16 bytes. gRPC checks the size of a whole message,
      // so the call waits for the rest: meanwhile the server reserves nothing
      // for the announced bytes and serves other calls on the same
      // connection; at the client's end of stream the call ends with
      // INVALID_ARGUMENT (the message is incomplete).
      for (uint32_t announced :
           {uint32_t{0xffffffff}, uint32_t{1} << 31, static_cast<uint32_t>(kMaxReceive + 1)}) {
        INFO("announced " << announced << " bytes");
        RawHttp2Connection connection(daemon.address());
        connection.StartCall(1, "/hartonomous.v1.AtomService/IngestAtom", kBearer);
        connection.SendData(1,
                            RawHttp2Connection::GrpcFrameHeader(announced) + RandomBytes(rng, 16),
                            /*end_stream=*/false);
        connection.StartCall(3, "/hartonomous.v1.AdminService/GetStats", kBearer);
        connection.SendData(3, RawHttp2Connection::GrpcFrameHeader(0), /*end_stream=*/true);
        const auto served = connection.ReadUntilEnd(3, std::chrono::seconds(30));
        REQUIRE(served.ended);
        CHECK(served.Field("grpc-status") == "0");
        if (!kAddressSanitized) CHECK(Rss(daemon.pid()) < in_phase_bound);
        connection.SendData(1, "", /*end_stream=*/true);
        const auto end = connection.ReadUntilEnd(1, std::chrono::seconds(30));
        REQUIRE(end.ended);
        CHECK(end.Field("grpc-status") == "3");
        CHECK_THAT(end.Field("grpc-message"), Catch::Contains("does not parse"));
      }

      // Announcing 4 GiB - 1 and then sending without regard to HTTP/2 flow
      // control: the server buffers at most its flow-control window and then
      // stops reading or drops the connection, long before 256 MiB.
      {
        RawHttp2Connection connection(daemon.address());
        connection.StartCall(1, "/hartonomous.v1.AtomService/IngestAtom", kBearer);
        connection.SendData(1, RawHttp2Connection::GrpcFrameHeader(0xffffffff), false);
        const std::string frame(16384, 'f');
        size_t accepted = 0;
        while (accepted < 256 * kMiB && connection.TrySendData(1, frame)) accepted += frame.size();
        INFO("the server took " << accepted / kMiB << " MiB");
        if (!kAddressSanitized) CHECK(Rss(daemon.pid()) < in_phase_bound);
      }

      // Eight calls announcing 16 MiB (under the limit) that send 1 KiB and
      // stop: the server holds what arrived, not what was announced; then
      // their sockets close without a word.
      {
        std::vector<std::unique_ptr<RawHttp2Connection>> connections;
        for (int i = 0; i < 8; ++i) {
          connections.push_back(std::make_unique<RawHttp2Connection>(daemon.address()));
          connections.back()->StartCall(1, "/hartonomous.v1.AtomService/IngestAtom", kBearer);
          connections.back()->SendData(
              1, RawHttp2Connection::GrpcFrameHeader(16u << 20) + RandomBytes(rng, 1024), false);
        }
        // Each call has reached the server once a later call on the same
        // connection is answered: a GetStats on each, after the stalled one.
        for (auto& connection : connections) {
          connection->StartCall(3, "/hartonomous.v1.AdminService/GetStats", kBearer);
          connection->SendData(3, RawHttp2Connection::GrpcFrameHeader(0), /*end_stream=*/true);
          const auto end = connection->ReadUntilEnd(3, std::chrono::seconds(30));
          REQUIRE(end.ended);
          CHECK(end.Field("grpc-status") == "0");
        }
        if (!kAddressSanitized) CHECK(Rss(daemon.pid()) < in_phase_bound);
        for (auto& connection : connections) connection->Close();
      }
      RequireServing(daemon);
    }

    // 3. Client streams dropped mid-way, hundreds of times: cancelled (an
    // RST_STREAM) or their connection closed (no RST_STREAM, no half-close).
    // None stores anything.
    {
      // Atoms for AddEmbeddings to refer to.
      std::vector<uint64_t> atom_ids;
      for (int i = 0; i < 4; ++i) {
        v1::IngestAtomResponse ingested;
        REQUIRE(client.IngestAtom(TextAtom("embedded " + std::to_string(i)), &ingested).ok());
        atom_ids.push_back(ingested.atom_id());
      }
      WaitForServerCallsToEnd(client);
      const auto before = TableEntries(client);

      // The messages of a stream of each client-streaming method: valid, so
      // that a half-close would store them (checked below).
      auto messages = [&](const std::string& method, const std::string& tag) {
        std::vector<std::string> out;
        if (method == "/hartonomous.v1.AtomService/IngestAtoms") {
          v1::IngestAtomsRequest m;
          *m.add_atoms() = TextAtom("dropped atom a " + tag);
          *m.add_atoms() = TextAtom("dropped atom b " + tag);
          out.push_back(m.SerializeAsString());
        } else if (method == "/hartonomous.v1.AtomService/IngestDocument") {
          v1::IngestDocumentRequest m = DocumentHeader("text");
          m.set_content("A dropped document " + tag + ". It has two sentences.");
          out.push_back(m.SerializeAsString());
        } else if (method == "/hartonomous.v1.SearchService/AddEmbeddings") {
          v1::AddEmbeddingsRequest m;
          m.set_collection("dropped" + tag);
          // One embedding type per round: an atom holds one embedding per type.
          m.mutable_create()->set_embedding_type("w" + tag.substr(0, 2));
          m.mutable_create()->set_dimension(4);
          for (uint64_t id : atom_ids) {
            auto* e = m.add_embeddings();
            e->set_atom_id(id);
            for (int d = 0; d < 4; ++d) e->add_vector(static_cast<float>(d + 1));
          }
          out.push_back(m.SerializeAsString());
        } else if (method == "/hartonomous.v1.InferenceService/LogInferences") {
          v1::LogInferenceRequest m;
          m.set_task_type("chat");
          m.set_duration_ms(5);
          m.set_input_text("dropped input " + tag);
          m.set_output_text("dropped output " + tag);
          out.push_back(m.SerializeAsString());
        } else {
          // A float32 tensor of 2 values in safetensors: header size, JSON
          // header, 8 bytes.
          const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
          std::string file(8, '\0');
          for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(header.size() >> (8 * i));
          file += header + std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
          v1::ImportModelRequest start;
          start.mutable_start()->mutable_model()->set_model_name("dropped-" + tag);
          start.mutable_start()->set_format("safetensors");
          start.mutable_start()->set_file_name("dropped.safetensors");
          out.push_back(start.SerializeAsString());
          v1::ImportModelRequest data;
          data.set_data(file);
          out.push_back(data.SerializeAsString());
        }
        return out;
      };
      const std::vector<std::string> kClientStreams = {
          "/hartonomous.v1.AtomService/IngestAtoms", "/hartonomous.v1.AtomService/IngestDocument",
          "/hartonomous.v1.SearchService/AddEmbeddings",
          "/hartonomous.v1.InferenceService/LogInferences",
          "/hartonomous.v1.ModelService/ImportModel"};

      constexpr int kDropped = 300;
      for (int i = 0; i < kDropped; ++i) {
        const std::string& method = kClientStreams[i % kClientStreams.size()];
        const auto sent = messages(method, r + std::to_string(i));
        INFO(method << " dropped stream " << i);
        if (i % 3 != 2) {
          RawClientStream stream(client.channel(), method);
          for (const auto& m : sent) REQUIRE(stream.Write(m));
          WaitForServerCalls(client, 1);
          CHECK(stream.Cancel().error_code() == grpc::StatusCode::CANCELLED);
        } else {
          RawHttp2Connection connection(daemon.address());
          connection.StartCall(1, method, kBearer);
          for (const auto& m : sent) {
            connection.SendData(1, RawHttp2Connection::GrpcFrameHeader(m.size()) + m, false);
          }
          WaitForServerCalls(client, 1);
          connection.Close();
        }
      }
      WaitForServerCallsToEnd(client);
      CHECK(TableEntries(client) == before);
      for (int i : {0, 1, 2, 3, 4, kDropped - 1}) {
        v1::Atom atom;
        CHECK(
            client.GetAtomByHash(Sha256Hex("dropped atom a " + r + std::to_string(i)), false, &atom)
                .error_code() == grpc::StatusCode::NOT_FOUND);
      }

      // The same messages, half-closed, are stored: each stream above would
      // have stored something.
      for (const auto& method : kClientStreams) {
        INFO(method);
        RawClientStream stream(client.channel(), method);
        for (const auto& m : messages(method, r + "kept")) REQUIRE(stream.Write(m));
        const grpc::Status status = stream.Finish();
        INFO(status.error_message());
        CHECK(status.ok());
      }
      CHECK(TableEntries(client) != before);
      RequireServing(daemon);
    }

    // 4. 300 idle streams on four connections (at most 100 per connection,
    // --max-concurrent-streams): health Watch streams that got their first
    // answer and IngestAtoms streams that sent nothing. None holds a server
    // thread: other calls are still served.
    {
      constexpr size_t kIdle = 300;
      struct Idle {
        grpc::ClientContext context;
        grpc::health::v1::HealthCheckResponse health;
        v1::IngestAtomsResponse ingested;
        std::unique_ptr<grpc::ClientAsyncReader<grpc::health::v1::HealthCheckResponse>> watch;
        std::unique_ptr<grpc::ClientAsyncWriter<v1::IngestAtomsRequest>> writer;
        grpc::Status status;
        bool finished = false;
      };
      std::vector<std::unique_ptr<Client>> clients;
      for (int c = 0; c < 4; ++c) {
        ClientOptions own = options.client;
        own.target = daemon.address();
        own.own_connection = true;
        clients.push_back(std::make_unique<Client>(own));
      }
      grpc::CompletionQueue cq;
      // Tags: 3*i started, 3*i+1 first Watch answer read, 3*i+2 finished.
      auto tag = [](size_t i, int event) { return reinterpret_cast<void*>(3 * i + event); };
      std::vector<std::unique_ptr<Idle>> streams;
      grpc::health::v1::HealthCheckRequest health_request;
      for (size_t i = 0; i < kIdle; ++i) {
        auto s = std::make_unique<Idle>();
        s->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
        s->context.AddMetadata("authorization", kBearer);
        const auto& channel = clients[i % clients.size()]->channel();
        if (i % 2 == 0) {
          s->watch = grpc::health::v1::Health::NewStub(channel)->AsyncWatch(
              &s->context, health_request, &cq, tag(i, 0));
        } else {
          s->writer = v1::AtomService::NewStub(channel)->AsyncIngestAtoms(&s->context, &s->ingested,
                                                                          &cq, tag(i, 0));
          s->writer->Finish(&s->status, tag(i, 2));
        }
        streams.push_back(std::move(s));
      }
      size_t started = 0, answered = 0, finished = 0;
      auto next_event = [&] {
        void* got_tag = nullptr;
        bool ok = false;
        REQUIRE(cq.AsyncNext(&got_tag, &ok,
                             std::chrono::system_clock::now() + std::chrono::seconds(60)) ==
                grpc::CompletionQueue::GOT_EVENT);
        const auto value = reinterpret_cast<uintptr_t>(got_tag);
        Idle& s = *streams[value / 3];
        switch (value % 3) {
          case 0:
            ++started;
            if (s.watch) s.watch->Read(&s.health, tag(value / 3, 1));
            break;
          case 1:
            if (ok) ++answered;
            break;
          default:
            s.finished = true;
            ++finished;
        }
      };
      while (started < kIdle || answered < kIdle / 2) next_event();
      CHECK(finished == 0);
      WaitForServerCalls(client, kIdle);
      for (const auto& s : streams) {
        if (s->watch) CHECK(s->health.status() == grpc::health::v1::HealthCheckResponse::SERVING);
      }

      // Served beside them: a write, reads, a search over a new collection.
      v1::IngestAtomResponse ingested;
      REQUIRE(client.IngestAtom(TextAtom(r + "beside idle streams"), &ingested).ok());
      v1::Atom atom;
      CHECK(client.GetAtomByHash(Sha256Hex(r + "beside idle streams"), false, &atom).ok());
      v1::ServerStats stats;
      REQUIRE(client.GetServerStats(&stats).ok());
      CHECK(stats.in_flight_calls() >= kIdle + 1);
      rss_with_idle_streams = Rss(daemon.pid());

      for (auto& s : streams) {
        s->context.TryCancel();
        if (s->watch) s->watch->Finish(&s->status, tag(&s - &streams[0], 2));
      }
      while (finished < kIdle) next_event();
      for (const auto& s : streams) CHECK(s->status.error_code() == grpc::StatusCode::CANCELLED);
      cq.Shutdown();
      void* ignored_tag;
      bool ignored_ok;
      while (cq.Next(&ignored_tag, &ignored_ok)) {
      }
      WaitForServerCallsToEnd(client);
      RequireServing(daemon);
    }
  };

  battery(0);
  battery(1);
  const uint64_t baseline = Rss(daemon.pid());
  battery(2);

  // 5. Resident memory returns to the baseline: the RSS after two runs of
  // the battery (the warm-up), compared with the RSS after a third. The
  // bound, 64 MiB, is what the allocator may keep, not what the daemon
  // holds: glibc's malloc returns no freed heap below an arena's top (the
  // daemon never calls malloc_trim), and the three 17 MiB messages received
  // whole per run (gRPC checks a message's size once it has all of it)
  // leave free chunks of that order in its 2 arenas; glibc caches up to
  // 40 MiB of exited threads' stacks; LMDB's map is file-backed and counts
  // in VmRSS as its pages are touched (a few MB here); and the battery
  // stores what its random requests create (atoms, collections with their
  // indexes). Measured: 0 to 30 MiB above the baseline in 5 runs. What the
  // bound catches: memory kept per call or per stream (6,000 calls, 300
  // dropped and 300 idle streams per run), or a buffer sized by an
  // announced length (2 to 4 GiB above). Threads exit and memory is freed
  // after the calls end: polled with a deadline.
  const uint64_t bound = baseline + 64 * kMiB;
  uint64_t rss = Rss(daemon.pid());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!kAddressSanitized && rss > bound && std::chrono::steady_clock::now() < deadline) {
    (void)Stats(client);
    rss = Rss(daemon.pid());
  }
  INFO("VmRSS baseline " << baseline / kMiB << " MiB, with 300 idle streams "
                         << rss_with_idle_streams / kMiB << " MiB, after " << rss / kMiB << " MiB");
  if (!kAddressSanitized) CHECK(rss <= bound);
  WARN("VmRSS baseline " << baseline / kMiB << " MiB, with 300 idle streams "
                         << rss_with_idle_streams / kMiB << " MiB, after " << rss / kMiB << " MiB");
  RequireServing(daemon);
}
