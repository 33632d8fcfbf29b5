#include "onnx_external.h"

#include <algorithm>
#include <cstdint>

#include "cli_errors.h"

namespace hartonomous::cli {
namespace {

constexpr int kMaxDepth = 16;  // subgraph nesting followed, as the server's reader

// A protobuf wire-format reader over one message's bytes.
class Wire {
 public:
  explicit Wire(std::string_view bytes) : bytes_(bytes) {}

  // The next field; LEN fields give their payload. False at the end or on
  // malformed bytes (then ok() is false).
  bool Next(uint32_t* number, std::string_view* payload) {
    if (at_ >= bytes_.size()) return false;
    uint64_t key = 0;
    if (!Varint(&key)) return Fail();
    *number = static_cast<uint32_t>(key >> 3);
    *payload = {};
    switch (key & 7) {
      case 0: {
        uint64_t ignored = 0;
        if (!Varint(&ignored)) return Fail();
        return true;
      }
      case 1:
        return Skip(8);
      case 5:
        return Skip(4);
      case 2: {
        uint64_t n = 0;
        if (!Varint(&n) || n > bytes_.size() - at_) return Fail();
        *payload = bytes_.substr(at_, n);
        at_ += n;
        return true;
      }
      default:
        return Fail();  // groups: not in ONNX
    }
  }
  bool ok() const { return ok_; }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && at_ < bytes_.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(bytes_[at_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Skip(size_t n) {
    if (n > bytes_.size() - at_) return Fail();
    at_ += n;
    return true;
  }
  bool Fail() {
    ok_ = false;
    at_ = bytes_.size();
    return false;
  }

  std::string_view bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

class Walk {
 public:
  std::vector<std::string> locations;

  void Model(std::string_view m) {
    Wire w(m);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n == 7) Graph(p, 0);  // ModelProto.graph
    }
  }

 private:
  void Graph(std::string_view g, int depth) {
    if (depth > kMaxDepth) return;
    Wire w(g);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n == 1) Node(p, depth);  // node
      if (n == 5) Tensor(p);       // initializer
      if (n == 15) Sparse(p);      // sparse_initializer
    }
  }
  void Node(std::string_view node, int depth) {
    Wire w(node);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n == 5) Attribute(p, depth);  // attribute
    }
  }
  void Attribute(std::string_view a, int depth) {
    Wire w(a);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n == 5 || n == 8) Tensor(p);             // t, tensors
      if (n == 6 || n == 10) Graph(p, depth + 1);  // g, graphs
      if (n == 22 || n == 23) Sparse(p);           // sparse_tensor(s)
    }
  }
  void Sparse(std::string_view s) {
    Wire w(s);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n == 1 || n == 2) Tensor(p);  // values, indices
    }
  }
  void Tensor(std::string_view t) {
    Wire w(t);
    uint32_t n = 0;
    std::string_view p;
    while (w.Next(&n, &p)) {
      if (n != 13) continue;  // external_data: StringStringEntryProto
      Wire entry(p);
      uint32_t f = 0;
      std::string_view v;
      std::string_view key, value;
      while (entry.Next(&f, &v)) {
        if (f == 1) key = v;
        if (f == 2) value = v;
      }
      if (key != "location") continue;
      if (std::find(locations.begin(), locations.end(), value) == locations.end()) {
        locations.emplace_back(value);
      }
    }
  }
};

}  // namespace

std::vector<std::string> OnnxExternalLocations(std::string_view model_file) {
  Walk walk;
  walk.Model(model_file);
  return walk.locations;
}

std::filesystem::path ResolveExternalLocation(const std::filesystem::path& directory,
                                              const std::string& location) {
  const auto refuse = [&](const std::string& rule) {
    return Failure("external data \"" + location + "\": " + rule);
  };
  if (location.empty()) throw refuse("empty location");
  if (location.size() > 255) throw refuse("over 255 bytes");
  if (location.find('\0') != std::string::npos) throw refuse("contains a NUL byte");
  const std::filesystem::path relative(location);
  if (relative.is_absolute() || location.front() == '/' || location.front() == '\\' ||
      relative.has_root_name()) {
    throw refuse("absolute (must be relative to the model file)");
  }
  size_t begin = 0;
  while (begin <= location.size()) {
    size_t end = location.find_first_of("/\\", begin);
    if (end == std::string::npos) end = location.size();
    if (location.compare(begin, end - begin, "..") == 0) {
      throw refuse("has a \"..\" component (must stay beside the model file)");
    }
    begin = end + 1;
  }
  const std::filesystem::path path = directory / relative;
  // Through symbolic links too: the file must be inside the directory.
  std::error_code error;
  const std::filesystem::path base = std::filesystem::weakly_canonical(directory, error);
  const std::filesystem::path resolved =
      error ? path : std::filesystem::weakly_canonical(path, error);
  if (!error) {
    const auto mismatch = std::mismatch(base.begin(), base.end(), resolved.begin(), resolved.end());
    if (mismatch.first != base.end()) throw refuse("resolves outside the model file's directory");
  }
  return path;
}

}  // namespace hartonomous::cli
