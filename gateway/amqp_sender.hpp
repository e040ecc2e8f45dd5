// An AMQP 1.0 sender of licence events: the client side of licgate's intake,
// used by `licgate send`, the demo and the integration tests.
//
// It sends each message with its message-id, content-type, the application
// property "system" and the body as one data section (AMQP 1.0 section
// 3.2.6), keeps at most `window` deliveries unsettled (so that what it must
// resend after a failure is bounded), and sends released deliveries again a
// bounded number of times. With replies on, it attaches a receiver for
// licgate's outcome messages and sets reply-to on every message, which tells
// applied from duplicate and names the error of a rejection.
//
// No Proton type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "registry/result.hpp"

namespace licgate::gateway {

struct OutgoingMessage {
  std::string message_id;
  std::string content_type;
  std::string body;
  std::string key;  // a name for messages to people: "310100016 v18"
};

struct SendOptions {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string address = "licences/events";
  std::string system;  // application property "system"
  std::size_t window = 1000;
  int max_attempts = 5;  // sends of one message that is released each time
  std::chrono::milliseconds retry_delay{500};
  // The run fails when nothing is settled or answered for this long.
  std::chrono::milliseconds idle_timeout{60'000};
  bool want_replies = true;
  // After the last settlement, how long to wait for outcome messages still
  // on their way.
  std::chrono::milliseconds reply_grace{5'000};
};

// How one message ended.
enum class Settlement : std::uint8_t {
  kUnsettled,  // no settlement: the connection failed first; send it again
  kAccepted,
  kRejected,
  kReleased,  // released on every attempt
};

struct MessageResult {
  Settlement settlement = Settlement::kUnsettled;
  int attempts = 0;
  // From licgate's outcome message, when one came: "applied", "duplicate",
  // "unchanged" or "rejected" for licence events; "opened", "accepted" or
  // "late" for conformity requests and conclusions; the error code name and
  // its description.
  std::string outcome;
  std::string error_code;
  std::string description;
  std::string licence_number;
};

struct SendReport {
  std::uint64_t sent = 0;  // distinct messages sent at least once
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t released = 0;
  std::uint64_t unsettled = 0;
  std::uint64_t resent = 0;  // extra sends after a release
  std::uint64_t applied = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t without_reply = 0;                          // settled, but no outcome message came
  std::map<std::string, std::uint64_t> other_outcomes;      // the conformity flow's, by name
  std::map<std::string, std::uint64_t> rejected_by_reason;  // error code name -> count
  std::map<std::string, std::string> first_rejection;       // error code name -> an example
  std::vector<MessageResult> results;                       // one per message, in order
  double elapsed_s = 0;
  std::string transport_error;  // set when the connection failed or timed out
  std::string replies_note;     // why outcome messages did not come, when they did not
};

// Connects, sends every message in order and returns when each is settled
// (and answered, with replies on) or the connection failed. Blocks the
// calling thread, which runs the Proton event loop.
SendReport sendMessages(const SendOptions& options, const std::vector<OutgoingMessage>& messages);

// Parses "amqp://HOST:PORT" (the port defaults to 5672) into options.host
// and options.port. kInvalidField naming the URL otherwise.
registry::Status parseAmqpUrl(const std::string& url, SendOptions& options);

}  // namespace licgate::gateway
