// `licgate send` (gateway/send_command.hpp).
#include "gateway/send_command.hpp"

#include <cstdio>
#include <ostream>

#include "gateway/message_id.hpp"

namespace licgate::gateway {

std::vector<OutgoingMessage> toMessages(const std::vector<mapping::SourceRecord>& records,
                                        const std::string& system) {
  std::vector<OutgoingMessage> messages;
  messages.reserve(records.size());
  for (const auto& record : records) {
    messages.push_back({contentMessageId(system, record.content_type, record.body),
                        record.content_type, record.body, record.key});
  }
  return messages;
}

std::string summaryLine(const SendReport& report) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.2f", report.elapsed_s);
  std::string line = "send: sent=" + std::to_string(report.sent) +
                     " accepted=" + std::to_string(report.accepted) +
                     " rejected=" + std::to_string(report.rejected) +
                     " released=" + std::to_string(report.released) +
                     " unsettled=" + std::to_string(report.unsettled) +
                     " applied=" + std::to_string(report.applied) +
                     " duplicate=" + std::to_string(report.duplicate) +
                     " unchanged=" + std::to_string(report.unchanged);
  // Conformity requests and conclusions have outcomes of their own; named
  // apart ("outcome.accepted" is not the settlement "accepted").
  for (const auto& [outcome, count] : report.other_outcomes) {
    line += " outcome." + outcome + "=" + std::to_string(count);
  }
  return line + " elapsed_s=" + elapsed;
}

namespace {

// Double quotes and backslashes escaped, so that the example stays one
// field of the line.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

}  // namespace

int runSend(const SendCommand& command, std::ostream& out, std::ostream& err) {
  std::vector<OutgoingMessage> messages;
  for (const auto& file : command.files) {
    auto records = readSourceFile(file, command.format);
    if (!records.ok()) {
      err << "send: " << file << ": " << records.error().message << '\n';
      return kSendBadInput;
    }
    auto more = toMessages(*records, command.options.system);
    messages.insert(messages.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }

  const SendReport report = sendMessages(command.options, messages);
  out << summaryLine(report) << '\n';
  for (const auto& [reason, count] : report.rejected_by_reason) {
    out << "send: rejected reason=" << reason << " count=" << count
        << " example=" << quoted(report.first_rejection.at(reason)) << '\n';
  }
  if (!report.replies_note.empty()) {
    err << "send: " << report.replies_note << '\n';
  }
  if (!report.transport_error.empty() || report.unsettled > 0) {
    err << "send: transport failed: " << report.transport_error << '\n';
    return kSendTransportFailed;
  }
  return report.released > 0 ? kSendReleased : kSendOk;
}

}  // namespace licgate::gateway
