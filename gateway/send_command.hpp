// `licgate send`: reads files in a supported format and sends each record as
// one AMQP message to licgate, its message id derived from the content
// (gateway/message_id.hpp) so that sending a file again is recognised as
// already applied.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "gateway/amqp_sender.hpp"
#include "gateway/source_files.hpp"

namespace licgate::gateway {

struct SendCommand {
  SendOptions options;
  SourceFormat format = SourceFormat::kXml;
  std::vector<std::string> files;
};

// Exit codes of `licgate send`.
inline constexpr int kSendOk = 0;               // every message accepted or rejected
inline constexpr int kSendTransportFailed = 1;  // the connection failed: some unsettled
inline constexpr int kSendBadInput = 2;         // a file cannot be read or split
inline constexpr int kSendReleased = 3;         // some released on every attempt

// Reads the files, sends their records in order and prints the summary to
// `out`:
//   send: sent=N accepted=A rejected=R released=L unsettled=U applied=X
//         duplicate=D unchanged=C elapsed_s=T            (one line)
//   send: rejected reason=<code> count=K example="<description>"
// and problems to `err`. Returns one of the exit codes above.
int runSend(const SendCommand& command, std::ostream& out, std::ostream& err);

// The messages of `records`, ids derived from `system` and the content.
std::vector<OutgoingMessage> toMessages(const std::vector<mapping::SourceRecord>& records,
                                        const std::string& system);

// The summary line of a report (without the rejection lines).
std::string summaryLine(const SendReport& report);

}  // namespace licgate::gateway
