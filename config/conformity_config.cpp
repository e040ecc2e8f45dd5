// The reading of the `conformity` section (config/conformity_config.hpp).
//
// A body that cannot be reached, or an activity that names a body nobody
// configured, would be found only when the first licensor asks for a
// conformity check, perhaps weeks after start: every value is checked here.
#include "config/conformity_config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "config/calendar.hpp"
#include "config/host_check.hpp"
#include "registry/conformity.hpp"

namespace licgate::config {

const BodyConfig* ConformityConfig::findBody(std::string_view id) const {
  for (const auto& body : bodies) {
    if (body.id == id) {
      return &body;
    }
  }
  return nullptr;
}

namespace {

constexpr Range kWorkingDays{1, 365, "a number of working days"};
constexpr Range kRetryMillis{1, 86'400'000, "a number of milliseconds"};
constexpr Range kAttempts{1, 1000, "a number of attempts"};
constexpr Range kDeadlineSeconds{1, 366LL * 86'400, "a number of seconds"};
constexpr Range kSendTimeout{100, 600'000, "a number of milliseconds"};
constexpr Range kKeepDays{0, 36'500, "a number of days"};

constexpr std::string_view kSilenceRules[] = {"consent", "expire"};

// What is wrong with `url` as a body's AMQP peer, or an empty text when
// nothing is: exactly amqp://host:port. The address on the peer is a key of
// its own, so a path here is refused rather than guessed at.
std::string peerUrlProblem(std::string_view url) {
  if (!url.starts_with("amqp://")) {
    return "is not an amqp://host:port URL";
  }
  const std::string_view authority = url.substr(7);
  if (authority.find_first_of("/?#@") != std::string_view::npos) {
    return "is not an amqp://host:port URL: give the address on the peer as amqp_peer.address";
  }
  const std::string problem = hostAndPortProblem(authority);
  if (!problem.empty()) {
    return problem;
  }
  const std::size_t colon = authority.rfind(':');
  const std::size_t close = authority.rfind(']');
  if (colon == std::string_view::npos || (close != std::string_view::npos && colon < close)) {
    return "has no port (amqp://host:port)";
  }
  return "";
}

void readPeer(Reader& reader, const YAML::Node& node, const std::string& path,
              BodyChannel& channel) {
  if (!reader.checkMap(node, path, {"url", "address"})) {
    return;
  }
  std::string url;
  if (reader.readString(node, path, "url", url, true)) {
    const std::string problem = peerUrlProblem(url);
    if (!problem.empty()) {
      reader.fail(path + ".url", "\"" + url + "\" " + problem);
    }
  }
  channel.peer_url = url;
  reader.readString(node, path, "address", channel.address, true);
}

// A channel (a body's, or a licensor's for outcomes): each key given is
// read, and anything but exactly one is a problem.
void readChannel(Reader& reader, const YAML::Node& node, const std::string& path,
                 BodyChannel& channel) {
  if (!node.IsDefined()) {
    reader.fail(path, "is required (one of amqp_address, amqp_peer, soap_url)");
    return;
  }
  if (!reader.checkMap(node, path, {"amqp_address", "amqp_peer", "soap_url"})) {
    return;
  }
  std::vector<std::string> given;
  for (const auto key : {"amqp_address", "amqp_peer", "soap_url"}) {
    if (node[key].IsDefined()) {
      given.push_back(key);
    }
  }
  if (given.empty()) {
    reader.fail(path, "needs one of amqp_address, amqp_peer, soap_url");
    return;
  }
  if (given.size() > 1) {
    reader.fail(path, "gives " + join(given, " and ") + "; a channel is exactly one of them");
    return;
  }
  if (given[0] == "amqp_address") {
    channel.kind = BodyChannelKind::kAmqpAddress;
    reader.readString(node, path, "amqp_address", channel.address, true);
  } else if (given[0] == "amqp_peer") {
    channel.kind = BodyChannelKind::kAmqpPeer;
    readPeer(reader, node["amqp_peer"], path + ".amqp_peer", channel);
  } else {
    channel.kind = BodyChannelKind::kSoap;
    std::string url;
    if (reader.readString(node, path, "soap_url", url, true)) {
      const std::string problem = httpUrlProblem(url, ", which licgate does not send from a URL");
      if (!problem.empty()) {
        reader.fail(path + ".soap_url", "\"" + url + "\" " + problem);
      }
    }
    channel.soap_url = url;
  }
}

void readRetry(Reader& reader, const YAML::Node& body, const std::string& item,
               RetryPolicy& retry) {
  const std::string path = item + ".retry";
  if (!reader.readSection(body["retry"], path, {"initial_ms", "max_ms", "attempts"})) {
    return;
  }
  const YAML::Node node = body["retry"];
  const bool initial_read =
      reader.readInteger(node, path, "initial_ms", kRetryMillis, retry.initial_ms);
  const bool max_read = reader.readInteger(node, path, "max_ms", kRetryMillis, retry.max_ms);
  reader.readInteger(node, path, "attempts", kAttempts, retry.attempts);
  if (initial_read && max_read && retry.max_ms < retry.initial_ms) {
    reader.fail(path + ".max_ms", std::to_string(retry.max_ms) + " is below initial_ms (" +
                                      std::to_string(retry.initial_ms) + ")");
  }
}

// Reads the bodies; false when some body's id could not be read, so that
// the activities are not blamed for naming it.
bool readBodies(Reader& reader, const YAML::Node& node, const std::string& path,
                std::vector<BodyConfig>& out) {
  if (!node.IsDefined()) {
    return true;
  }
  if (!node.IsSequence()) {
    reader.fail(path, "needs a list of interested bodies (id, name, channel, ...)");
    return false;
  }
  bool ids_read = true;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!reader.checkMap(node[i], item,
                         {"id", "name", "channel", "deadline_working_days", "deadline_seconds",
                          "on_silence", "retry"})) {
      ids_read = false;
      continue;
    }
    BodyConfig body;
    ids_read = reader.readString(node[i], item, "id", body.id, true) && ids_read;
    if (!body.id.empty()) {
      if (const std::string problem = registry::bodyIdProblem(body.id); !problem.empty()) {
        reader.fail(item + ".id", problem + " (a conclusion naming it would be refused)");
      }
    }
    reader.readString(node[i], item, "name", body.name, true);
    if (!body.id.empty() && !seen.insert(body.id).second) {
      reader.fail(item + ".id", "\"" + body.id + "\" is listed twice");
    }
    readChannel(reader, node[i]["channel"], item + ".channel", body.channel);
    reader.readInteger(node[i], item, "deadline_working_days", kWorkingDays,
                       body.deadline_working_days);
    reader.readInteger(node[i], item, "deadline_seconds", kDeadlineSeconds, body.deadline_seconds);
    if (node[i]["deadline_working_days"].IsDefined() && node[i]["deadline_seconds"].IsDefined() &&
        !reader.refused(item + ".deadline_working_days") &&
        !reader.refused(item + ".deadline_seconds")) {
      reader.fail(item,
                  "gives deadline_working_days and deadline_seconds; a body has one deadline");
    }
    std::string rule = "consent";
    if (reader.readString(node[i], item, "on_silence", rule) &&
        reader.checkOneOf(item + ".on_silence", rule, kSilenceRules)) {
      body.on_silence = rule == "expire" ? SilenceRule::kExpire : SilenceRule::kConsent;
    }
    readRetry(reader, node[i], item, body.retry);
    out.push_back(std::move(body));
  }
  return ids_read;
}

// Reads the activities; each body id is checked against the bodies when
// all of their ids were read (`check_ids`).
void readActivities(Reader& reader, const YAML::Node& node, const std::string& path,
                    const ConformityConfig& config, bool check_ids,
                    std::map<std::string, std::vector<std::string>, std::less<>>& out) {
  if (!node.IsDefined()) {
    return;
  }
  if (!node.IsMap()) {
    reader.fail(path, "needs a mapping of activity code to a list of body ids");
    return;
  }
  std::set<std::string> seen_activities;
  for (const auto& entry : node) {
    const std::string activity = entry.first.Scalar();
    const std::string where = childPath(path, activity);
    if (activity.empty()) {
      reader.fail(path, "\"\" is not an activity code: an activity code is never empty");
      continue;
    }
    if (!seen_activities.insert(activity).second) {
      reader.fail(where, "given twice");
      continue;
    }
    if (const std::string problem = registry::activityProblem(activity); !problem.empty()) {
      reader.fail(where, problem + " (a request naming it would be refused)");
      continue;
    }
    std::vector<std::string> ids;
    if (!reader.readStringList(node, path, activity, ids, true)) {
      continue;
    }
    if (ids.empty()) {
      reader.fail(where, "needs at least one body id; leave out an activity no body is asked on");
      continue;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string item = where + "[" + std::to_string(i) + "]";
      if (!seen.insert(ids[i]).second) {
        reader.fail(item, "\"" + ids[i] + "\" is listed twice");
      } else if (check_ids && config.findBody(ids[i]) == nullptr) {
        reader.fail(item, "\"" + ids[i] + "\" is not a body listed under conformity.bodies");
      }
    }
    out.emplace(activity, std::move(ids));
  }
}

// Loads the calendar file; each of its problems is reported at
// conformity.calendar, one per line as the calendar loader gives them.
void readCalendar(Reader& reader, const YAML::Node& node, const std::string& path,
                  const std::string& base_dir, ConformityConfig& out) {
  const std::string where = childPath(path, "calendar");
  if (!reader.readString(node, path, "calendar", out.calendar) || out.calendar.empty()) {
    return;
  }
  if (!base_dir.empty() && std::filesystem::path(out.calendar).is_relative()) {
    out.calendar = (std::filesystem::path(base_dir) / out.calendar).lexically_normal().string();
  }
  auto data = loadCalendarFile(out.calendar);
  if (data.ok()) {
    out.calendar_data = std::move(*data);
    return;
  }
  std::istringstream lines(data.error().message);
  for (std::string line; std::getline(lines, line);) {
    reader.fail(where, line);
  }
}

// The outcome channel of each licensor; whether each code is a configured
// licensor is checked across sections (config.cpp).
void readOutcomes(Reader& reader, const YAML::Node& node, const std::string& path,
                  std::map<std::string, BodyChannel, std::less<>>& out) {
  if (!node.IsDefined()) {
    return;
  }
  if (!node.IsMap()) {
    reader.fail(path, "needs a mapping of licensor code to the channel its outcomes go to");
    return;
  }
  for (const auto& entry : node) {
    const std::string code = entry.first.Scalar();
    const std::string where = childPath(path, code);
    if (code.empty()) {
      reader.fail(path, "\"\" is not a licensor code");
      continue;
    }
    if (out.contains(code)) {
      reader.fail(where, "given twice");
      continue;
    }
    BodyChannel channel;
    readChannel(reader, entry.second, where, channel);
    out.emplace(code, std::move(channel));
  }
}

// "+05:00", "-03:30", "+00:00": the offset from UTC of the register's time
// zone. A zone name would need the system's zone database, which a
// container often lacks, and Kazakhstan keeps no summer time.
void readUtcOffset(Reader& reader, const YAML::Node& node, const std::string& path, int& out) {
  std::string text;
  if (!node["utc_offset"].IsDefined() || !reader.readString(node, path, "utc_offset", text)) {
    return;
  }
  const bool shaped = text.size() == 6 && (text[0] == '+' || text[0] == '-') && text[3] == ':' &&
                      std::isdigit(static_cast<unsigned char>(text[1])) &&
                      std::isdigit(static_cast<unsigned char>(text[2])) &&
                      std::isdigit(static_cast<unsigned char>(text[4])) &&
                      std::isdigit(static_cast<unsigned char>(text[5]));
  const int hours = shaped ? (text[1] - '0') * 10 + (text[2] - '0') : 99;
  const int minutes = shaped ? (text[4] - '0') * 10 + (text[5] - '0') : 99;
  if (!shaped || minutes > 59 || hours * 60 + minutes > 14 * 60) {
    reader.fail(childPath(path, "utc_offset"),
                "\"" + text + "\" is not an offset from UTC such as \"+05:00\" (-14:00..+14:00)");
    return;
  }
  out = (text[0] == '-' ? -1 : 1) * (hours * 60 + minutes);
}

// The addresses licgate takes deliveries on: a channel that sent there
// would feed licgate's own intake.
constexpr std::string_view kIntakeAddresses[] = {"licences/events", "conformity/requests",
                                                 "conformity/conclusions"};

// What a channel's messages are told apart by: two channels with one key
// would get each other's queries (a body answering another's query is
// refused, and the other never gets it).
std::string channelKey(const BodyChannel& channel) {
  switch (channel.kind) {
    case BodyChannelKind::kAmqpAddress:
      return "amqp_address " + channel.address;
    case BodyChannelKind::kAmqpPeer:
      return "amqp_peer " + channel.peer_url + " " + channel.address;
    case BodyChannelKind::kSoap:
      return "";  // a SOAP service may well serve several bodies: the query names its body
  }
  return "";
}

void checkAddress(Reader& reader, const std::string& where, const BodyChannel& channel) {
  if (channel.kind == BodyChannelKind::kSoap || channel.address.empty()) {
    return;
  }
  if (channel.address.find_first_of(" \t") != std::string::npos) {
    reader.fail(where, "\"" + channel.address + "\" has a space: an AMQP address has none");
  }
  if (channel.kind == BodyChannelKind::kAmqpAddress &&
      std::find(std::begin(kIntakeAddresses), std::end(kIntakeAddresses), channel.address) !=
          std::end(kIntakeAddresses)) {
    reader.fail(where, "\"" + channel.address +
                           "\" is an address licgate takes deliveries on, not one it sends on");
  }
}

// Every channel licgate sends on, bodies' and licensors', each once.
void checkChannelsApart(Reader& reader, const ConformityConfig& config) {
  std::map<std::string, std::string> used;  // channel key -> where it was first given
  auto check = [&](const std::string& where, const BodyChannel& channel) {
    // A channel refused already holds whatever was read before the
    // problem: comparing it would report a clash that is not there.
    if (reader.refusedWithin(where)) {
      return;
    }
    checkAddress(reader, where, channel);
    const std::string key = channelKey(channel);
    if (key.empty()) {
      return;
    }
    auto [first, inserted] = used.emplace(key, where);
    if (!inserted) {
      reader.fail(where, "is the channel of " + first->second +
                             " too: each body and each licensor needs a channel of its own");
    }
  };
  for (std::size_t i = 0; i < config.bodies.size(); ++i) {
    check("conformity.bodies[" + std::to_string(i) + "].channel", config.bodies[i].channel);
  }
  for (const auto& [code, channel] : config.outcomes) {
    check(childPath("conformity.outcomes", code), channel);
  }
}

}  // namespace

void readConformity(Reader& reader, const YAML::Node& node, const std::string& base_dir,
                    ConformityConfig& out) {
  const std::string path = "conformity";
  if (!reader.readSection(node, path,
                          {"calendar", "bodies", "activities", "outcomes", "utc_offset",
                           "send_timeout_ms", "keep_delivered_days"})) {
    return;
  }
  readCalendar(reader, node, path, base_dir, out);
  const bool ids_read = readBodies(reader, node["bodies"], path + ".bodies", out.bodies);
  readActivities(reader, node["activities"], path + ".activities", out, ids_read, out.activities);
  readOutcomes(reader, node["outcomes"], path + ".outcomes", out.outcomes);
  readUtcOffset(reader, node, path, out.utc_offset_minutes);
  checkChannelsApart(reader, out);
  reader.readInteger(node, path, "send_timeout_ms", kSendTimeout, out.send_timeout_ms);
  reader.readInteger(node, path, "keep_delivered_days", kKeepDays, out.keep_delivered_days);
  // Deadlines in working days mean nothing without the days off; a
  // calendar that failed to load is reported at its own key already.
  if (!out.activities.empty() && !node["calendar"].IsDefined()) {
    reader.fail(childPath(path, "calendar"),
                "is required when activities are listed: deadlines are counted in working days "
                "(config/calendar-kz.yaml is Kazakhstan's)");
  }
}

}  // namespace licgate::config
