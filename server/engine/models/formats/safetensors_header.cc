#include "server/engine/models/formats/safetensors_header.h"

#include <new>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace hartonomous::engine::models {
namespace {

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr size_t kMaxDepth = 3;

// SAX events -> entries. Containers: depth 1 is the root object, depth 2 a
// tensor (or the metadata) object, depth 3 an array inside a tensor.
class HeaderHandler {
 public:
  using Json = nlohmann::json;
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  HeaderHandler(SafetensorsHeaderJson* out, size_t max_rank) : out_(out), max_rank_(max_rank) {}

  const std::string& error() const { return error_; }

  bool null() { return Scalar("null"); }
  bool boolean(bool) { return Scalar("boolean"); }
  bool number_float(number_float_t, const string_t&) { return Scalar("number"); }
  bool binary(binary_t&) { return Scalar("binary"); }
  bool number_integer(number_integer_t v) {
    if (depth_ == 3 && skip_ == 0) {
      return Fail(ArrayField() + ": negative value " + std::to_string(v));
    }
    return Scalar("number");
  }
  bool number_unsigned(number_unsigned_t v) {
    if (depth_ == 3 && skip_ == 0) {
      if (field_ == Field::kShape) {
        if (entry_.shape.size() >= max_rank_) {
          return Fail(Tensor() + ".shape: rank over the cap of " + std::to_string(max_rank_) +
                      " dims");
        }
        entry_.shape.push_back(v);
      } else {
        if (offsets_seen_ >= 2) return Fail(Tensor() + ".data_offsets: must be [begin, end]");
        (offsets_seen_ == 0 ? entry_.begin : entry_.end) = v;
        ++offsets_seen_;
      }
      ++array_index_;
      return true;
    }
    return Scalar("number");
  }
  bool string(string_t& v) {
    if (skip_ > 0) return true;
    if (depth_ == 2 && in_metadata_) {
      out_->metadata.emplace_back(std::move(key_), std::move(v));
      return true;
    }
    if (depth_ == 2 && field_ == Field::kDtype) {
      entry_.dtype = std::move(v);
      have_dtype_ = true;
      return true;
    }
    return Scalar("string");
  }

  bool key(string_t& k) {
    if (!keys_.back().insert(k).second) {
      if (depth_ == 1) return Fail("header: duplicate key \"" + k + "\"");
      return Fail("header: duplicate key \"" + k + "\" in \"" + root_key_ + "\"");
    }
    if (skip_ > 0) return true;
    if (depth_ == 1) {
      root_key_ = k;
      return true;
    }
    if (depth_ == 2) {
      key_ = k;
      if (in_metadata_) return true;
      field_ = k == "dtype"          ? Field::kDtype
               : k == "shape"        ? Field::kShape
               : k == "data_offsets" ? Field::kOffsets
                                     : Field::kOther;
    }
    return true;
  }

  bool start_object(std::size_t) { return Open(true); }
  bool start_array(std::size_t) { return Open(false); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    std::string reason = e.what();
    const size_t cut = reason.find("] ");
    if (cut != std::string::npos) reason.erase(0, cut + 2);
    return Fail("header: not UTF-8 JSON (" + reason + ")");
  }

 private:
  enum class Field { kDtype, kShape, kOffsets, kOther };

  bool Fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }
  std::string Tensor() const { return "header: tensor \"" + root_key_ + "\""; }
  std::string ArrayField() const {
    return Tensor() + (field_ == Field::kShape ? ".shape[" : ".data_offsets[") +
           std::to_string(array_index_) + "]";
  }

  // A scalar where it is not expected (kind names what it is).
  bool Scalar(const char* kind) {
    if (skip_ > 0) return true;
    if (depth_ == 0) return Fail("header: must be a JSON object");
    if (depth_ == 1) {
      if (root_key_ == kMetadataKey) return Fail("header: __metadata__ must be an object");
      return Fail(Tensor() + ": must be an object");
    }
    if (depth_ == 2 && in_metadata_) {
      return Fail("header: __metadata__[\"" + key_ + "\"]: must be a string, got " + kind);
    }
    if (depth_ == 2) {
      switch (field_) {
        case Field::kDtype:
          return Fail(Tensor() + ".dtype: must be a string");
        case Field::kShape:
          return Fail(Tensor() + ".shape: must be an array");
        case Field::kOffsets:
          return Fail(Tensor() + ".data_offsets: must be an array [begin, end]");
        case Field::kOther:
          return true;  // unknown fields are skipped
      }
    }
    return Fail(ArrayField() + ": must be a non-negative integer, got " + kind);
  }

  bool Open(bool object) {
    if (depth_ + 1 > kMaxDepth) {
      return Fail("header: JSON nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    ++depth_;
    keys_.emplace_back();
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (depth_ == 1) return object ? true : Fail("header: must be a JSON object");
    if (depth_ == 2) {
      if (!object) {
        if (root_key_ == kMetadataKey) return Fail("header: __metadata__ must be an object");
        return Fail(Tensor() + ": must be an object");
      }
      in_metadata_ = root_key_ == kMetadataKey;
      if (!in_metadata_) {
        if (root_key_.empty()) return Fail("header: empty tensor name");
        entry_ = SafetensorsEntry{};
        entry_.name = root_key_;
        have_dtype_ = have_shape_ = false;
        offsets_seen_ = 0;
        have_offsets_ = false;
      }
      return true;
    }
    // depth 3: an array or object inside a tensor or the metadata.
    if (in_metadata_) {
      return Fail("header: __metadata__[\"" + key_ + "\"]: must be a string, got " +
                  (object ? "object" : "array"));
    }
    if (field_ == Field::kOther) {
      skip_ = 1;
      return true;
    }
    if (field_ == Field::kDtype) return Fail(Tensor() + ".dtype: must be a string");
    if (object) {
      return Fail(Tensor() + (field_ == Field::kShape ? ".shape: must be an array"
                                                      : ".data_offsets: must be an array "
                                                        "[begin, end]"));
    }
    array_index_ = 0;
    if (field_ == Field::kShape) have_shape_ = true;
    if (field_ == Field::kOffsets) have_offsets_ = true;
    return true;
  }

  bool Close() {
    --depth_;
    keys_.pop_back();
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (depth_ == 1) {
      if (in_metadata_) {
        in_metadata_ = false;
        return true;
      }
      if (!have_dtype_) return Fail(Tensor() + ".dtype: must be a string");
      if (!have_shape_) return Fail(Tensor() + ".shape: must be an array");
      if (!have_offsets_ || offsets_seen_ != 2) {
        return Fail(Tensor() + ".data_offsets: must be an array [begin, end]");
      }
      out_->entries.push_back(std::move(entry_));
    }
    return true;
  }

  SafetensorsHeaderJson* out_;
  const size_t max_rank_;
  size_t depth_ = 0;
  size_t skip_ = 0;  // > 0 while inside an unknown field's value
  std::vector<std::unordered_set<std::string>> keys_;
  std::string root_key_;
  std::string key_;
  bool in_metadata_ = false;
  Field field_ = Field::kOther;
  SafetensorsEntry entry_;
  bool have_dtype_ = false, have_shape_ = false, have_offsets_ = false;
  size_t offsets_seen_ = 0;
  size_t array_index_ = 0;
  std::string error_;
};

}  // namespace

Result<SafetensorsHeaderJson> ParseSafetensorsHeaderJson(std::string_view text, size_t max_rank) {
  SafetensorsHeaderJson out;
  HeaderHandler handler(&out, max_rank);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &handler);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("header: out of memory parsing JSON");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("header: not UTF-8 JSON (") + e.what() + ")");
  }
  if (!ok) {
    return Status::InvalidArgument(handler.error().empty() ? "header: not UTF-8 JSON"
                                                           : handler.error());
  }
  return out;
}

}  // namespace hartonomous::engine::models
