// libFuzzer target for the request handling of every RPC: arbitrary bytes
// as the request messages of any method, sent the way a network client
// sends them, into the real server.
//
// The server is hartonomousd's own composition root (server/daemon.h) on a
// fresh data dir (real LMDB) with no port; calls go through its in-process
// channel, so every call runs the server's interceptors, gates, request
// parsing and handlers exactly as from the network. The method table is
// every method of every service the server registers (listed by its
// reflection service, described by the compiled-in protobuf descriptors),
// sorted by name, so new RPCs are covered without a change here.
//
// Input:
//   byte 0   the method: table[byte % table size]
//   byte 1   flags: bits 0-2 == 6 send a wrong API key, == 7 none (else the
//            bootstrap admin key); bits 3-4 == 3 cancel the call after
//            bits 5-7 messages written (client streams) or read (server
//            streams), else write everything, half-close, read every
//            response
//   the rest unary and server-streaming methods: the one request message;
//            client-streaming and bidi methods: messages, each a 2-byte
//            big-endian length and that many bytes (a last, short one gets
//            what is left)
// Must hold for every input: the call ends before its deadline, with OK,
// INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION,
// RESOURCE_EXHAUSTED or OUT_OF_RANGE (never UNKNOWN, INTERNAL, UNAVAILABLE
// or DEADLINE_EXCEEDED); CANCELLED only when the fuzzer cancelled;
// UNAUTHENTICATED for a call without a valid key (and only then), whose
// only other outcomes are INVALID_ARGUMENT for a request that does not
// parse, and health's answers; an OK call's responses parse as the
// method's response type. Memory is bounded by libFuzzer's -rss_limit_mb.
//
// State: the server keeps what earlier inputs wrote; a fresh server on a
// fresh data dir replaces it every kInputsPerServer inputs, so the data
// (and the run's memory and disk use) stays bounded. The data dirs are
// under /dev/shm when it is writable (else the temporary directory). AdminService.Backup's absolute
// paths are moved into the data dir's parent (named after the requested
// path), so no input writes outside the fuzzer's temporary directory.
//
// Seeds: with HT_FUZZ_RPC_SEEDS=DIR the binary writes its seed corpus into
// DIR and exits: an empty request for every method, and valid requests built
// from real data (Fashion-MNIST images as vectors, Debian's license texts as
// atoms and documents, a libonnx-testdata model as an import).
#include <fcntl.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/stubs/strutil.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "hartonomous/v1/admin_service.pb.h"
#include "server/daemon.h"
#include "server/daemon_config.h"
#include "server/logging.h"

namespace fs = std::filesystem;
using namespace hartonomous;

namespace {

constexpr size_t kInputsPerServer = 2000;
constexpr auto kCallDeadline = std::chrono::seconds(5);
constexpr size_t kMaxStreamMessages = 64;
const char kAdminKey[] = "fuzz-admin-key-0123456789abcdefghijklmnopqrstuvwxyz";
const char kBackupMethod[] = "/hartonomous.v1.AdminService/Backup";
// Methods whose server stream stays open until the client goes: the
// fuzzer cancels them after their first response.
const char* const kOpenEndedMethods[] = {"/grpc.health.v1.Health/Watch"};

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "rpc_fuzzer: " << what << std::endl;
  std::abort();
}

struct Method {
  std::string path;  // "/package.Service/Method"
  const google::protobuf::MethodDescriptor* descriptor;
  bool client_streaming;
  bool server_streaming;
  bool open_ended;
  bool health;
};

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

grpc::ByteBuffer ToBuffer(std::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

// One completion-queue operation at a time: waits for the one just started.
bool Await(grpc::CompletionQueue& cq, void* expected) {
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok)) Fail("completion queue shut down");
  if (tag != expected) Fail("unexpected completion");
  return ok;
}

// The daemon on its own data dir, running on a thread.
class Server {
 public:
  explicit Server(const std::string& dir) : dir_(dir) {
    DaemonConfig config;
    config.listen = "";  // no port: the in-process channel only
    config.data_dir = (fs::path(dir) / "data").string();
    config.initial_map_bytes = size_t{64} << 20;
    config.admin_key = kAdminKey;
    config.snapshot_interval_seconds = 0;
    config.slow_request_ms = 0;
    auto started = Daemon::Start(config);
    if (!started.ok()) Fail("Daemon::Start: " + started.status().ToString());
    daemon_ = std::move(started).value();
    runner_ = std::thread([this] { daemon_->Run(); });
    channel_ = daemon_->InProcessChannel();
    WaitServing();
  }
  ~Server() {
    daemon_->RequestStop();
    runner_.join();
    daemon_.reset();
  }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  void WaitServing() {
    auto health = grpc::health::v1::Health::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto watch = health->Watch(&context, grpc::health::v1::HealthCheckRequest());
    grpc::health::v1::HealthCheckResponse response;
    while (watch->Read(&response)) {
      if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        context.TryCancel();
        watch->Finish();
        return;
      }
    }
    Fail("the daemon did not start serving: " + watch->Finish().error_message());
  }

  std::string dir_;
  std::unique_ptr<Daemon> daemon_;
  std::thread runner_;
  std::shared_ptr<grpc::Channel> channel_;
};

struct Call {
  std::string path;
  std::vector<std::string> messages;
  std::string authorization;  // "" = no metadata
  bool cancel = false;
  size_t cancel_after = 0;  // messages written or responses read
  bool open_ended = false;
};

struct Outcome {
  grpc::Status status;
  std::vector<std::string> responses;
  bool cancelled = false;
};

// One call through gRPC's generic API: raw bytes out, raw bytes back. A read
// is outstanding from the start, beside the writes, as a network client's
// would be: the in-process transport completes a send only when the other
// side receives, so a client that wrote a whole bidi stream before reading
// would wait forever on a server that answers each message.
Outcome Run(const std::shared_ptr<grpc::Channel>& channel, const Call& call) {
  Outcome outcome;
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  if (!call.authorization.empty()) context.AddMetadata("authorization", call.authorization);
  auto stream = stub.PrepareCall(&context, call.path, &cq);
  int start = 0, write = 0, done = 0, read = 0, finish = 0;
  stream->StartCall(&start);
  if (Await(cq, &start)) {
    grpc::ByteBuffer response;
    bool reading = true, writing = false, closing = false;
    bool writes_over = false;  // written all, half-closed, or failed
    size_t next = 0;
    stream->Read(&response, &read);
    while (true) {
      const size_t k = call.cancel_after;
      if (call.cancel && !outcome.cancelled &&
          ((!writes_over && next == k && next < call.messages.size()) ||
           (k > 0 && outcome.responses.size() >= k))) {
        context.TryCancel();
        outcome.cancelled = true;
        writes_over = true;
      }
      if (!writing && !closing && !writes_over) {
        if (next < call.messages.size()) {
          stream->Write(ToBuffer(call.messages[next++]), &write);
          writing = true;
        } else {
          stream->WritesDone(&done);
          closing = true;
          writes_over = true;
        }
      }
      if (!reading && !writing && !closing) break;
      void* tag = nullptr;
      bool ok = false;
      if (!cq.Next(&tag, &ok)) Fail("completion queue shut down");
      if (tag == &write) {
        writing = false;
        if (!ok) writes_over = true;  // the server has ended the call
      } else if (tag == &done) {
        closing = false;
      } else if (tag == &read) {
        reading = false;
        if (ok) {
          outcome.responses.push_back(ToString(response));
          if (call.open_ended && !outcome.cancelled) {
            context.TryCancel();
            outcome.cancelled = true;
            writes_over = true;
          }
          stream->Read(&response, &read);
          reading = true;
        }
      } else {
        Fail("unexpected completion");
      }
    }
  }
  stream->Finish(&outcome.status, &finish);
  Await(cq, &finish);
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return outcome;
}

// Every method of every service the server registers, by name.
std::vector<Method> MethodTable(const std::shared_ptr<grpc::Channel>& channel) {
  // ServerReflectionRequest{list_services: "*"}.
  Call list;
  list.path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  list.messages = {std::string("\x3a\x01*", 3)};
  list.authorization = std::string("Bearer ") + kAdminKey;
  Outcome listed = Run(channel, list);
  if (!listed.status.ok() || listed.responses.size() != 1) {
    Fail("server reflection: " + listed.status.error_message());
  }
  // ServerReflectionResponse.list_services_response (6) .service (1) .name (1).
  std::vector<std::string> services;
  google::protobuf::UnknownFieldSet response;
  if (!response.ParseFromString(listed.responses[0])) Fail("server reflection: bad response");
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list_response;
    list_response.ParseFromString(response.field(i).length_delimited());
    for (int j = 0; j < list_response.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      service.ParseFromString(list_response.field(j).length_delimited());
      if (service.field_count() > 0) services.push_back(service.field(0).length_delimited());
    }
  }
  if (services.empty()) Fail("server reflection listed no service");
  std::sort(services.begin(), services.end());
  std::vector<Method> table;
  for (const std::string& name : services) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    if (service == nullptr) Fail("service " + name + " is served but its descriptor is missing");
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      Method entry;
      entry.path = "/" + name + "/" + method->name();
      entry.descriptor = method;
      entry.client_streaming = method->client_streaming();
      entry.server_streaming = method->server_streaming();
      entry.open_ended = std::find(std::begin(kOpenEndedMethods), std::end(kOpenEndedMethods),
                                   entry.path) != std::end(kOpenEndedMethods);
      entry.health = name == "grpc.health.v1.Health";
      table.push_back(entry);
    }
  }
  if (table.size() > 256) Fail("more than 256 methods: widen the selector to two bytes");
  return table;
}

std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type) {
  const auto* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  if (prototype == nullptr) Fail("no message class for " + type->full_name());
  return std::unique_ptr<google::protobuf::Message>(prototype->New());
}

struct State {
  std::string dir;  // the fuzzer's temporary directory
  std::unique_ptr<Server> server;
  std::vector<Method> table;
  size_t inputs = 0;
  size_t servers = 0;

  void StartServer() {
    server.reset();
    const fs::path data = fs::path(dir) / "data";
    fs::remove_all(data);
    fs::remove_all(fs::path(dir) / "backups");
    fs::create_directories(fs::path(dir) / "backups");
    server = std::make_unique<Server>(dir);
    ++servers;
  }
};

State* state = nullptr;

void StopAtExit() {
  if (state == nullptr) return;
  state->server.reset();
  fs::remove_all(state->dir);
}

// A run that crashed or timed out leaves its directory behind (libFuzzer
// exits without running atexit handlers): remove those whose owner lock no
// process holds any more.
void RemoveStaleDirs(const fs::path& base) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    if (entry.path().filename().string().rfind("ht-rpc-fuzz-", 0) != 0) continue;
    const int fd = ::open((entry.path() / "owner.lock").c_str(), O_RDWR);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) fs::remove_all(entry.path(), ec);
    ::close(fd);
  }
}

// Backup writes a directory at the requested absolute path: move it into
// DIR/backups, under a name made from that path.
std::string ConfineBackup(const std::string& request) {
  v1::BackupRequest backup;
  if (!backup.ParseFromString(request) || backup.path().empty() || backup.path()[0] != '/') {
    return request;
  }
  std::string name = backup.path().substr(1, 300);
  std::replace(name.begin(), name.end(), '/', '_');
  backup.set_path((fs::path(state->dir) / "backups" / ("b" + name)).string());
  return backup.SerializeAsString();
}

std::vector<std::string> SplitMessages(std::string_view rest) {
  std::vector<std::string> messages;
  while (!rest.empty() && messages.size() < kMaxStreamMessages) {
    size_t length = rest.size();
    if (rest.size() >= 2) {
      length = (size_t{static_cast<uint8_t>(rest[0])} << 8) | static_cast<uint8_t>(rest[1]);
      rest.remove_prefix(2);
    } else {
      rest = {};
      length = 0;
    }
    length = std::min(length, rest.size());
    messages.emplace_back(rest.substr(0, length));
    rest.remove_prefix(length);
  }
  return messages;
}

std::string Framed(const std::vector<std::string>& messages) {
  std::string out;
  for (const std::string& message : messages) {
    const size_t length = std::min<size_t>(message.size(), 0xffff);
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xff));
    out.append(message, 0, length);
  }
  return out;
}

void Check(const Method& method, const Call& call, const Outcome& outcome) {
  using C = grpc::StatusCode;
  const C code = outcome.status.error_code();
  const bool keyed = call.authorization == std::string("Bearer ") + kAdminKey;
  bool expected = false;
  switch (code) {
    case C::OK:
      expected = keyed || method.health;
      break;
    case C::INVALID_ARGUMENT:
      expected = true;
      break;
    case C::NOT_FOUND:
    case C::ALREADY_EXISTS:
    case C::FAILED_PRECONDITION:
    case C::RESOURCE_EXHAUSTED:
    case C::OUT_OF_RANGE:
      expected = keyed || method.health;
      break;
    case C::UNAUTHENTICATED:
      expected = !keyed && !method.health;
      break;
    case C::CANCELLED:
      expected = outcome.cancelled;
      break;
    default:
      expected = false;
  }
  if (!expected) {
    Fail(method.path + " (" + (keyed ? "admin key" : "no valid key") +
         (call.cancel ? ", cancelled after " + std::to_string(call.cancel_after) : "") +
         ") ended with status " + std::to_string(code) + " \"" + outcome.status.error_message() +
         "\"");
  }
  if (code == C::OK) {
    for (const std::string& response : outcome.responses) {
      auto parsed = NewMessage(method.descriptor->output_type());
      if (!parsed->ParseFromString(response)) {
        Fail(method.path + ": an OK call's response does not parse as " +
             method.descriptor->output_type()->full_name());
      }
    }
    if (!method.server_streaming && !outcome.cancelled && outcome.responses.size() != 1) {
      Fail(method.path + ": an OK unary call sent " + std::to_string(outcome.responses.size()) +
           " responses");
    }
  }
}

// --- Seeds --------------------------------------------------------------

std::string ReadFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return bytes.size() > max_bytes ? bytes.substr(0, max_bytes) : bytes;
}

// The first `count` Fashion-MNIST test images, 784 pixels each; none when
// the dataset is not installed.
std::vector<std::vector<float>> FashionImages(size_t count) {
  std::vector<std::vector<float>> images;
  gzFile file = gzopen("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb");
  if (file == nullptr) return images;
  unsigned char header[16];
  if (gzread(file, header, sizeof(header)) == sizeof(header)) {
    for (size_t i = 0; i < count; ++i) {
      unsigned char pixels[784];
      if (gzread(file, pixels, sizeof(pixels)) != sizeof(pixels)) break;
      images.emplace_back(pixels, pixels + sizeof(pixels));
    }
  }
  gzclose(file);
  return images;
}

std::string Floats(const std::vector<float>& values) {
  std::string out;
  for (float v : values) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return "[" + out + "]";
}

std::string Quoted(std::string_view bytes) {
  return "\"" + google::protobuf::CEscape(std::string(bytes)) + "\"";
}

class SeedWriter {
 public:
  SeedWriter(const std::vector<Method>& table, std::string dir)
      : table_(table), dir_(std::move(dir)) {}

  // A request of `path` per text-format message (several = a stream).
  void Add(const std::string& path, const std::vector<std::string>& texts, uint8_t flags = 0) {
    const auto found =
        std::find_if(table_.begin(), table_.end(), [&](const Method& m) { return m.path == path; });
    if (found == table_.end()) Fail("seed for unknown method " + path);
    std::vector<std::string> messages;
    for (const std::string& text : texts) {
      auto message = NewMessage(found->descriptor->input_type());
      if (!google::protobuf::TextFormat::ParseFromString(text, message.get())) {
        Fail("seed for " + path + " does not parse: " + text.substr(0, 200));
      }
      messages.push_back(message->SerializeAsString());
    }
    std::string input;
    input.push_back(static_cast<char>(found - table_.begin()));
    input.push_back(static_cast<char>(flags));
    if (found->client_streaming) {
      input += Framed(messages);
    } else if (!messages.empty()) {
      input += messages[0];
    }
    std::ofstream((fs::path(dir_) / ("seed" + std::to_string(written_++))).string(),
                  std::ios::binary)
        << input;
  }

 private:
  const std::vector<Method>& table_;
  std::string dir_;
  size_t written_ = 0;
};

void WriteSeeds(const std::vector<Method>& table, const std::string& dir) {
  fs::create_directories(dir);
  SeedWriter seeds(table, dir);
  // Every method once with an empty request (one empty message for streams).
  for (const Method& method : table) seeds.Add(method.path, {""});
  // Debian's license texts: atoms, a batch stream, a document stream.
  std::vector<std::string> texts;
  for (const char* name : {"Apache-2.0", "BSD", "MPL-2.0", "GPL-3", "Artistic"}) {
    std::string text = ReadFile(std::string("/usr/share/common-licenses/") + name, 12000);
    if (!text.empty()) texts.push_back(text);
  }
  const std::string atoms = "/hartonomous.v1.AtomService/";
  for (const std::string& text : texts) {
    seeds.Add(atoms + "IngestAtom",
              {"content: " + Quoted(text.substr(0, 2000)) +
               " modality: 'text' source_uri: 'file:///licenses' metadata: '{\"lang\":\"en\"}'"});
  }
  if (!texts.empty()) {
    std::string batch;
    for (size_t i = 0; i < texts.size(); ++i) {
      batch += "atoms { content: " + Quoted(texts[i].substr(0, 300)) + " modality: 'text' } ";
    }
    seeds.Add(atoms + "IngestAtoms", {batch, batch});
    seeds.Add(atoms + "IngestDocument",
              {"content: " + Quoted(texts[0].substr(0, 4000)) +
                   " modality: 'text' metadata: '{\"doc\":1}' options { chunk_min_bytes: 64 "
                   "chunk_avg_bytes: 256 chunk_max_bytes: 1024 }",
               "content: " + Quoted(texts[0].substr(4000, 4000))});
    seeds.Add(atoms + "IngestAtom",
              {"content: " + Quoted(texts[1 % texts.size()].substr(0, 500)) +
               " modality: 'text' policy: 'default' spatial_key { x: 1 y: 2 z: 3 }"});
  }
  seeds.Add(atoms + "ListAtoms", {"modality: 'text' page_size: 3 include_content: true"});
  seeds.Add(atoms + "GetAtom", {"atom_id: 1"});
  seeds.Add(atoms + "GetDocument", {"document_id: 1"});
  seeds.Add(atoms + "AddRelations",
            {"relations { source_atom_id: 1 target_atom_id: 2 relation_type: 'next' weight: 0.5 "
             "} relations { source_atom_id: 2 target_atom_id: 3 relation_type: 'next' }"});
  seeds.Add(atoms + "TraverseRelations", {"atom_id: 1 max_depth: 4"});
  seeds.Add(atoms + "CreatePolicy",
            {"policy { policy_name: 'p1' hash_enabled: true semantic_threshold: 0.9 "
             "is_active: true }"});
  // Fashion-MNIST images as 784-dimensional vectors.
  const auto images = FashionImages(8);
  const std::string search = "/hartonomous.v1.SearchService/";
  const std::string spec =
      "embedding_type: 'image' dimension: 784 metric: METRIC_L2 index { kind: 'hnsw' }";
  seeds.Add(search + "CreateCollection", {"name: 'fm' spec { " + spec + " }"});
  if (!images.empty()) {
    std::vector<std::string> stream;
    for (size_t i = 0; i < images.size(); i += 2) {
      std::string message = "collection: 'fm'";
      if (i == 0) message += " create { " + spec + " }";
      for (size_t j = i; j < std::min(i + 2, images.size()); ++j) {
        message += " embeddings { atom_id: " + std::to_string(j + 1) +
                   " vector: " + Floats(images[j]) +
                   " metadata: '{\"label\":" + std::to_string(j % 10) + "}' }";
      }
      stream.push_back(message);
    }
    seeds.Add(search + "AddEmbeddings", stream);
    const std::string vector = Floats(images[0]);
    seeds.Add(search + "Search", {"collection: 'fm' vector: " + vector + " limit: 5"});
    seeds.Add(search + "BatchSearch",
              {"searches { collection: 'fm' vector: " + vector +
               " limit: 3 } searches { collection: 'fm' atom_id: 2 limit: 3 }"});
    seeds.Add(search + "HybridSearch",
              {"collection: 'fm' vector: " + vector + " limit: 5 keep_fraction: 0.5"});
    seeds.Add(atoms + "IngestAtom",
              {"content: 'image 0' modality: 'image' embedding { collection: 'fm' vector: " +
               vector + " }"});
  }
  seeds.Add(search + "SpatialQuery",
            {"collection: 'fm' within_radius { center { x: 0 y: 0 z: 0 } radius: 100 }"});
  seeds.Add(search + "RefitProjection", {"collection: 'fm' kind: 'random' sample_size: 16"});
  // A small ONNX model of libonnx-testdata as an import stream, in chunks.
  const std::string model = "/hartonomous.v1.ModelService/";
  std::string onnx;
  for (const char* path :
       {"/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx",
        "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx"}) {
    onnx = ReadFile(path, 60000);
    if (!onnx.empty() && onnx.size() < 20000) break;
  }
  if (!onnx.empty()) {
    std::vector<std::string> stream = {
        "start { model { model_name: 'linear' } format: 'onnx' file_name: 'model.onnx' "
        "file_size: " +
        std::to_string(onnx.size()) + " }"};
    for (size_t at = 0; at < onnx.size(); at += 4096) {
      stream.push_back("data: " + Quoted(onnx.substr(at, 4096)));
    }
    seeds.Add(model + "ImportModel", stream);
  }
  seeds.Add(model + "CreateModel",
            {"model { model_name: 'm1' model_type: 'mlp' } layers { layer_idx: 0 layer_name: "
             "'fc' tensor_shape: [2, 3] tensor_dtype: 'float32' }"});
  seeds.Add(model + "ExportModel", {"model_name: 'linear' format: 'safetensors'"});
  seeds.Add(model + "ListLayers", {"model_id: 1"});
  seeds.Add(model + "SetLayerValues",
            {"start { model_name: 'm1' layer_idx: 0 kind: LAYER_VALUE_KIND_IMPORTANCE }",
             "values: [0.1, 0.2, 0.3]", "values: [0.4, 0.5, 0.6]"});
  const std::string inference = "/hartonomous.v1.InferenceService/";
  if (!texts.empty()) {
    seeds.Add(
        inference + "LogInference",
        {"model_name: 'linear' task_type: 'chat' input_text: " + Quoted(texts[0].substr(0, 200)) +
         " output_text: 'ok' confidence: 0.5 duration_ms: 12 input_tokens: 40"});
  }
  seeds.Add(inference + "PutActivation",
            {"layer_id: 1 input_hash: " + Quoted(std::string(32, 'h')) +
             " shape: [2] dtype: 'float32' data: " + Quoted(std::string(8, '\1'))});
  seeds.Add("/hartonomous.v1.AdminService/CheckConsistency", {"repair: true limit: 10"});
  seeds.Add("/hartonomous.v1.AdminService/CreateApiKey", {"name: 'reader' role: ROLE_READ"});
  // The same shapes cancelled mid-stream, and without a key.
  if (!texts.empty()) {
    seeds.Add(atoms + "IngestDocument",
              {"content: " + Quoted(texts[0].substr(0, 1000)) + " modality: 'text'",
               "content: 'more'", "content: 'and more'"},
              /*flags=*/0x18 | (1 << 5));
    seeds.Add(atoms + "IngestAtom", {"content: 'no key' modality: 'text'"}, /*flags=*/7);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  SetUpLogging("error", "text");
  // Requests with invalid UTF-8 in string fields are the fuzzer's daily
  // bread: keep protobuf's log line about each off stderr.
  google::protobuf::SetLogHandler(nullptr);
  // The data dirs live in memory when it can (tmpfs /dev/shm): LMDB's
  // fsync per commit on a disk would make each input, and the start of
  // each fresh server, wait on the disk.
  std::error_code ec;
  const fs::path base = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                            ? fs::path("/dev/shm")
                            : fs::temp_directory_path();
  RemoveStaleDirs(base);
  const std::string tmpl = (base / "ht-rpc-fuzz-XXXXXX").string();
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  if (::mkdtemp(path.data()) == nullptr) Fail("mkdtemp failed");
  state = new State;
  state->dir = path.data();
  // Held until the process ends, however it ends (see RemoveStaleDirs).
  const int lock = ::open((fs::path(state->dir) / "owner.lock").c_str(), O_CREAT | O_RDWR, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX | LOCK_NB) != 0) Fail("cannot lock " + state->dir);
  state->StartServer();
  state->table = MethodTable(state->server->channel());
  std::atexit(StopAtExit);
  if (const char* seeds = std::getenv("HT_FUZZ_RPC_SEEDS")) {
    WriteSeeds(state->table, seeds);
    std::cerr << "rpc_fuzzer: wrote seeds for " << state->table.size() << " methods into " << seeds
              << std::endl;
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  if (state->inputs > 0 && state->inputs % kInputsPerServer == 0) state->StartServer();
  ++state->inputs;
  const Method& method = state->table[data[0] % state->table.size()];
  const uint8_t flags = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  Call call;
  call.path = method.path;
  call.open_ended = method.open_ended;
  switch (flags & 7) {
    case 6:
      call.authorization = "Bearer not-the-key";
      break;
    case 7:
      break;
    default:
      call.authorization = std::string("Bearer ") + kAdminKey;
  }
  call.cancel = ((flags >> 3) & 3) == 3;
  call.cancel_after = flags >> 5;
  if (method.client_streaming) {
    call.messages = SplitMessages(rest);
  } else {
    call.messages = {std::string(rest)};
    if (method.path == kBackupMethod) call.messages[0] = ConfineBackup(call.messages[0]);
  }
  const Outcome outcome = Run(state->server->channel(), call);
  Check(method, call, outcome);
  if (method.path == kBackupMethod) {
    for (const auto& entry : fs::directory_iterator(fs::path(state->dir) / "backups")) {
      fs::remove_all(entry.path());
    }
  }
  return 0;
}
