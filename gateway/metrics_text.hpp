// Prometheus' text exposition format 0.0.4, as /metrics writes it.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace licgate::gateway {

// Sample families, one after another.
class MetricsText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, std::uint64_t value) { out_ << name << ' ' << value << '\n'; }
  void sample(std::string_view name, std::string_view label, std::string_view label_value,
              std::uint64_t value) {
    out_ << name << '{' << label << "=\"" << label_value << "\"} " << value << '\n';
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace licgate::gateway
