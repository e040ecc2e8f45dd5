// Benchmark licence events (bench/events.hpp).
#include "bench/events.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include <unistd.h>

#include "registry/event.hpp"
#include "registry/event_codec.hpp"

namespace licgate::bench {

namespace {

// KZ BIN check digit by the two-pass mod-11 rule: weights 1..11, and when
// that gives 10, weights 3..11,1,2; a second 10 means no valid BIN has these
// eleven digits (-1).
int binCheckDigit(const std::string& first11) {
  int sum = 0;
  for (int i = 0; i < 11; ++i) {
    sum += (first11[i] - '0') * (i + 1);
  }
  if (sum % 11 != 10) {
    return sum % 11;
  }
  sum = 0;
  for (int i = 0; i < 11; ++i) {
    sum += (first11[i] - '0') * ((i + 2) % 11 + 1);
  }
  return sum % 11 == 10 ? -1 : sum % 11;
}

// The n-th distinct valid BIN: registered in month YYMM, kind 4 (a legal
// entity), six serial digits, check digit. Candidates whose check digit
// does not exist are skipped, so the caller counts candidates in `cursor`.
std::string nextBin(std::uint64_t& cursor) {
  while (true) {
    std::uint64_t serial = cursor % 1'000'000;
    std::uint64_t month = cursor / 1'000'000 % 12 + 1;
    std::uint64_t year = cursor / 12'000'000 % 24;
    ++cursor;
    char first11[16];
    std::snprintf(first11, sizeof(first11), "%02" PRIu64 "%02" PRIu64 "4%06" PRIu64, year, month,
                  serial);
    int check = binCheckDigit(first11);
    if (check >= 0) {
      return std::string(first11) + static_cast<char>('0' + check);
    }
  }
}

registry::Event makeIssueEvent(const std::string& bin, std::size_t index) {
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  registry::Event event;
  event.type = registry::EventType::kIssue;
  event.licensor = kBenchLicensor;
  event.occurred_on = registry::Date{year(2024), month(3), day(1)};
  event.number_kind = registry::NumberKind::kActivity;
  registry::Holder holder;
  holder.id = registry::HolderId{registry::IdScheme::kKzBin, bin};
  holder.name = "ТОО «Бенч " + std::to_string(index) + "»";
  holder.address = "Астана, проспект Мәңгілік Ел, " + std::to_string(index % 500 + 1);
  holder.legal_form = "ТОО";
  holder.country = "KZ";
  event.holder = holder;
  event.activity_code = "31";
  event.valid_from = event.occurred_on;
  return event;
}

}  // namespace

std::vector<registry::Event> makeIssueEvents(std::size_t count) {
  std::vector<registry::Event> events;
  events.reserve(count);
  std::uint64_t cursor = 100'000;
  for (std::size_t i = 0; i < count; ++i) {
    events.push_back(makeIssueEvent(nextBin(cursor), i));
  }
  return events;
}

std::vector<LoadMessage> makeIssueMessages(std::size_t count) {
  std::vector<LoadMessage> messages;
  messages.reserve(count);
  std::string run = std::to_string(getpid());
  std::size_t i = 0;
  for (const registry::Event& event : makeIssueEvents(count)) {
    messages.push_back({"bench-" + run + "-" + std::to_string(i++), registry::encodeEvent(event)});
  }
  return messages;
}

}  // namespace licgate::bench
