#include "server/engine/models/formats/strict_json.h"

#include <new>
#include <string>
#include <unordered_set>
#include <vector>

namespace hartonomous::engine::models {
namespace {

using Json = nlohmann::json;

// Forwards SAX events to nlohmann's DOM builder; stops at the first
// container past max_depth or the first repeated key of an object.
class StrictBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  StrictBuilder(Json& root, size_t max_depth)
      : dom_(root, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return dom_.number_float(v, s); }
  bool string(string_t& v) { return dom_.string(v); }
  bool binary(binary_t& v) { return dom_.binary(v); }
  bool key(string_t& v) {
    if (!keys_.back().insert(v).second) {
      error_ = "duplicate key \"" + v + "\"";
      return false;
    }
    return dom_.key(v);
  }
  bool start_object(std::size_t n) {
    if (!Open()) return false;
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool start_array(std::size_t n) {
    if (!Open()) return false;
    keys_.emplace_back();
    return dom_.start_array(n);
  }
  bool end_object() {
    Close();
    return dom_.end_object();
  }
  bool end_array() {
    Close();
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    std::string reason = e.what();
    const size_t cut = reason.find("] ");
    if (cut != std::string::npos) reason.erase(0, cut + 2);
    error_ = "not UTF-8 JSON (" + reason + ")";
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Open() {
    if (keys_.size() + 1 > max_depth_) {
      error_ = "JSON nested deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    return true;
  }
  void Close() {
    if (!keys_.empty()) keys_.pop_back();
  }

  nlohmann::detail::json_sax_dom_parser<Json> dom_;
  const size_t max_depth_;
  std::vector<std::unordered_set<std::string>> keys_;
  std::string error_;
};

}  // namespace

Result<nlohmann::json> ParseStrictJson(std::string_view field, std::string_view text,
                                       size_t max_depth) {
  Json root;
  StrictBuilder builder(root, max_depth);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string(field) + ": out of memory parsing JSON");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(field) + ": not UTF-8 JSON (" + e.what() + ")");
  }
  if (!ok) {
    const std::string why = builder.error().empty() ? "not UTF-8 JSON" : builder.error();
    return Status::InvalidArgument(std::string(field) + ": " + why);
  }
  return root;
}

}  // namespace hartonomous::engine::models
