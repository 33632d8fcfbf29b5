#include "server/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace hartonomous {
namespace {

// The fields of the event being logged on this thread (LogEvent); the
// logger formats on the calling thread.
thread_local const LogFields* current_fields = nullptr;
bool json_format = false;

// %j: the message as a JSON string literal (quotes and escapes included).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string text = nlohmann::json(std::string(msg.payload.data(), msg.payload.size()))
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (current_fields != nullptr) {
      for (const auto& [key, value] : *current_fields) {
        text += ',' +
                nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        text += ':' + nlohmann::json(value).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
      }
    }
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

void SetUpLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("hartonomousd");
  json_format = format == "json";
  if (json_format) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('j').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%j})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

void LogEvent(spdlog::level::level_enum level, const std::string& msg, const LogFields& fields) {
  if (!spdlog::should_log(level)) return;
  if (json_format) {
    current_fields = &fields;
    spdlog::log(level, "{}", msg);
    current_fields = nullptr;
    return;
  }
  std::string text = msg;
  for (const auto& [key, value] : fields) {
    const bool plain = !value.empty() && value.find_first_of(" \"=\n\t") == std::string::npos;
    text += " " + key + "=" +
            (plain ? value
                   : nlohmann::json(value).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace));
  }
  spdlog::log(level, "{}", text);
}

}  // namespace hartonomous
