// JSON-lines and text logging for the licgate program (gateway/logging.hpp).
#include "gateway/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "adapters/logger.hpp"

namespace licgate::gateway {

namespace {

// The layers whose loggers exist from the start, so that their level and
// sink are set before any adapter asks for them.
constexpr const char* kLayers[] = {"gateway", "intake", "http-api", "soap", "send",
                                   "amqp",    "redis",  "http",     "store"};

// One JSON object per line: time (UTC, ISO 8601 with milliseconds), level,
// logger and message. Escaping goes through nlohmann::json so that quotes and
// control characters in a message cannot break the line; invalid UTF-8 is
// replaced rather than thrown about.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["time"] = formatTime(msg.time);
    line["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                spdlog::level::to_string_view(msg.level).size());
    line["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    line["message"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  static std::string formatTime(spdlog::log_clock::time_point time) {
    const auto millis = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    const auto ms = millis.time_since_epoch().count() % 1000;
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", text, static_cast<int>(ms));
    return out;
  }
};

std::unique_ptr<spdlog::formatter> makeFormatter(config::LogFormat format) {
  if (format == config::LogFormat::kJson) {
    return std::make_unique<JsonFormatter>();
  }
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%n] %v",
                                                     spdlog::pattern_time_type::utc);
}

}  // namespace

void setupLogging(const config::LogConfig& log) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(makeFormatter(log.format));
  const auto level = spdlog::level::from_str(log.level);

  auto main_logger = std::make_shared<spdlog::logger>("licgate", sink);
  main_logger->set_level(level);
  spdlog::set_default_logger(main_logger);

  for (const char* name : kLayers) {
    spdlog::drop(name);
    auto layer = std::make_shared<spdlog::logger>(name, sink);
    layer->set_level(level);
    spdlog::register_logger(layer);
  }
}

std::shared_ptr<spdlog::logger> getLogger(const std::string& name) {
  return adapters::getLogger(name);
}

}  // namespace licgate::gateway
