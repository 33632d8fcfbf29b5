#include "base/json_limits.h"

#include <new>
#include <string>

namespace hartonomous {
namespace {

// Forwards SAX events to nlohmann's DOM builder and stops the parse at the
// first container that opens past max_depth (returning false from a SAX
// event ends sax_parse at once). The DOM builder keeps one stack entry per
// open container, so memory stays O(max_depth).
template <typename BasicJson>
class BoundedDomBuilder {
 public:
  using number_integer_t = typename BasicJson::number_integer_t;
  using number_unsigned_t = typename BasicJson::number_unsigned_t;
  using number_float_t = typename BasicJson::number_float_t;
  using string_t = typename BasicJson::string_t;
  using binary_t = typename BasicJson::binary_t;

  BoundedDomBuilder(BasicJson& root, size_t max_depth)
      : dom_(root, /*allow_exceptions=*/false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return dom_.number_float(v, s); }
  bool string(string_t& v) { return dom_.string(v); }
  bool binary(binary_t& v) { return dom_.binary(v); }
  bool key(string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return Open() && dom_.start_object(n); }
  bool start_array(std::size_t n) { return Open() && dom_.start_array(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, ...".
    reason_ = e.what();
    const size_t cut = reason_.find("] ");
    if (cut != std::string::npos) reason_.erase(0, cut + 2);
    return false;
  }

  bool too_deep() const { return too_deep_; }
  const std::string& reason() const { return reason_; }

 private:
  bool Open() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<BasicJson> dom_;
  const size_t max_depth_;
  size_t depth_ = 0;
  bool too_deep_ = false;
  std::string reason_;
};

template <typename BasicJson>
Result<BasicJson> Parse(std::string_view field, std::string_view text, size_t max_depth) {
  BasicJson root;
  BoundedDomBuilder<BasicJson> builder(root, max_depth);
  bool ok = false;
  try {
    ok = BasicJson::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(std::string(field) + ": out of memory parsing JSON");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(field) + ": must be valid JSON text (" + e.what() +
                                   ")");
  }
  if (builder.too_deep()) {
    return Status::InvalidArgument(std::string(field) + ": JSON nested deeper than " +
                                   std::to_string(max_depth) + " levels");
  }
  if (!ok) {
    std::string msg = std::string(field) + ": must be valid JSON text";
    if (!builder.reason().empty()) msg += " (" + builder.reason() + ")";
    return Status::InvalidArgument(std::move(msg));
  }
  return root;
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view field, std::string_view text, size_t max_depth) {
  return Parse<nlohmann::json>(field, text, max_depth);
}

Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view field, std::string_view text,
                                                size_t max_depth) {
  return Parse<nlohmann::ordered_json>(field, text, max_depth);
}

Result<nlohmann::json> ParseJsonObject(std::string_view field, std::string_view text,
                                       size_t max_bytes, size_t max_depth) {
  if (text.size() > max_bytes) {
    return Status::InvalidArgument(std::string(field) + ": longer than " +
                                   std::to_string(max_bytes) + " bytes");
  }
  if (text.empty()) return nlohmann::json::object();
  HT_ASSIGN_OR_RETURN(nlohmann::json parsed, ParseJson(field, text, max_depth));
  if (!parsed.is_object()) {
    return Status::InvalidArgument(std::string(field) + ": must be a JSON object, got " +
                                   parsed.type_name());
  }
  return parsed;
}

}  // namespace hartonomous
