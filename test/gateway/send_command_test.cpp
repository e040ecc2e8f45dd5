// Tests of the parts of `licgate send` that need no peer: source files,
// URLs, message ids and the summary line. Sending itself is tested against
// the real licgate in licgate_program_test.cpp.
#include "gateway/send_command.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "gateway/message_id.hpp"
#include "test/gateway/test_support.hpp"

namespace licgate::gateway {
namespace {

const std::string kEruDir = std::string(LICGATE_SOURCE_DIR) + "/../shared/data/eru";

TEST(SourceFormat, ParsesEveryName) {
  EXPECT_EQ(*parseSourceFormat("eru-xml"), SourceFormat::kEruXml);
  EXPECT_EQ(*parseSourceFormat("eru-holders-csv"), SourceFormat::kEruHoldersCsv);
  EXPECT_EQ(*parseSourceFormat("eru-establishments-csv"), SourceFormat::kEruEstablishmentsCsv);
  EXPECT_EQ(*parseSourceFormat("xml"), SourceFormat::kXml);
  EXPECT_EQ(*parseSourceFormat("json"), SourceFormat::kJson);
}

TEST(SourceFormat, RejectsUnknownName) {
  auto format = parseSourceFormat("csv");

  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.error().message,
            "format \"csv\" is not one of eru-xml, eru-holders-csv, eru-establishments-csv, xml, "
            "json");
}

TEST(SourceFile, ReadsOneCanonicalEventPerFile) {
  testing::TempDir dir;
  testing::writeFile(dir.file("event.json"), R"({"type":"suspend"})");

  auto records = readSourceFile(dir.file("event.json"), SourceFormat::kJson);

  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].content_type, "application/json");
  EXPECT_EQ((*records)[0].body, R"({"type":"suspend"})");
  EXPECT_EQ((*records)[0].key, "event.json");
}

TEST(SourceFile, ReportsFileThatCannotBeRead) {
  auto records = readSourceFile("/nonexistent/event.xml", SourceFormat::kXml);

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, registry::ErrorCode::kNotFound);
  EXPECT_EQ(records.error().message, "file /nonexistent/event.xml cannot be read");
}

TEST(SourceFile, RefusesADirectory) {
  testing::TempDir dir;

  auto records = readSourceFile(dir.path().string(), SourceFormat::kJson);

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, registry::ErrorCode::kNotFound);
  EXPECT_EQ(records.error().message,
            "file " + dir.path().string() + " cannot be read: it is a directory");
}

TEST(SourceFile, RefusesAFileThatIsNotARegularFile) {
  auto records = readSourceFile("/dev/null", SourceFormat::kXml);

  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().message, "file /dev/null cannot be read: it is not a regular file");
}

TEST(SourceFile, SplitsTheEruXmlExportIntoOneRecordPerLicence) {
  auto records = readSourceFile(kEruDir + "/lic31-heat-2021-05-28.xml", SourceFormat::kEruXml);

  ASSERT_TRUE(records.ok()) << records.error().message;
  EXPECT_EQ(records->size(), 897u);
  EXPECT_EQ((*records)[0].content_type.find("application/vnd.licgate.eru-licence+xml"), 0u);
}

TEST(SendMessages, DeriveTheSameIdsFromTheSameRecords) {
  std::vector<mapping::SourceRecord> records = {{"<a/>", "application/xml", "a"},
                                                {"<b/>", "application/xml", "b"}};

  auto first = toMessages(records, "eru-export");
  auto again = toMessages(records, "eru-export");

  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].message_id, again[0].message_id);
  EXPECT_EQ(first[1].message_id, contentMessageId("eru-export", "application/xml", "<b/>"));
  EXPECT_NE(first[0].message_id, first[1].message_id);
}

TEST(AmqpUrl, ParsesHostAndPort) {
  SendOptions options;

  auto parsed = parseAmqpUrl("amqp://127.0.0.1:45672", options);

  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 45672);
}

TEST(AmqpUrl, DefaultsToTheAmqpPort) {
  SendOptions options;

  auto parsed = parseAmqpUrl("amqp://localhost", options);

  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(options.port, 5672);
}

TEST(AmqpUrl, RejectsOtherSchemes) {
  SendOptions options;

  auto parsed = parseAmqpUrl("http://127.0.0.1:8080", options);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message,
            "url \"http://127.0.0.1:8080\" does not start with amqp:// (expected "
            "amqp://HOST:PORT)");
}

TEST(AmqpUrl, RejectsPortOutOfRange) {
  SendOptions options;

  auto parsed = parseAmqpUrl("amqp://127.0.0.1:70000", options);

  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("has no valid port"), std::string::npos);
}

TEST(SendSummary, PrintsEveryCountOnOneLine) {
  SendReport report;
  report.sent = 10;
  report.accepted = 8;
  report.rejected = 2;
  report.applied = 7;
  report.unchanged = 1;
  report.elapsed_s = 1.234;

  EXPECT_EQ(summaryLine(report),
            "send: sent=10 accepted=8 rejected=2 released=0 unsettled=0 applied=7 duplicate=0 "
            "unchanged=1 elapsed_s=1.23");
}

TEST(SendSummary, NamesTheConformityOutcomesApart) {
  SendReport report;
  report.sent = 5;
  report.accepted = 5;
  report.duplicate = 2;
  report.other_outcomes = {{"opened", 3}};

  EXPECT_EQ(summaryLine(report),
            "send: sent=5 accepted=5 rejected=0 released=0 unsettled=0 applied=0 duplicate=2 "
            "unchanged=0 outcome.opened=3 elapsed_s=0.00");
}

TEST(SendCommand, FailsOnFileThatCannotBeRead) {
  SendCommand command;
  command.options.system = "eru-export";
  command.format = SourceFormat::kXml;
  command.files = {"/nonexistent/event.xml"};
  std::ostringstream out;
  std::ostringstream err;

  int code = runSend(command, out, err);

  EXPECT_EQ(code, kSendBadInput);
  EXPECT_EQ(err.str(),
            "send: /nonexistent/event.xml: file /nonexistent/event.xml cannot be read\n");
}

TEST(SendCommand, FailsOnADirectoryWithoutSending) {
  testing::TempDir dir;
  SendCommand command;
  command.options.system = "eru-export";
  command.options.port = testing::pickFreePort();
  command.format = SourceFormat::kXml;
  command.files = {dir.path().string()};
  std::ostringstream out;
  std::ostringstream err;

  int code = runSend(command, out, err);

  EXPECT_EQ(code, kSendBadInput);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "send: " + dir.path().string() + ": file " + dir.path().string() +
                           " cannot be read: it is a directory\n");
}

TEST(SendCommand, FailsWhenNobodyListens) {
  testing::TempDir dir;
  testing::writeFile(dir.file("event.xml"), "<a/>");
  SendCommand command;
  command.options.system = "eru-export";
  command.options.port = testing::pickFreePort();
  command.files = {dir.file("event.xml")};
  std::ostringstream out;
  std::ostringstream err;

  int code = runSend(command, out, err);

  EXPECT_EQ(code, kSendTransportFailed);
  EXPECT_NE(out.str().find("send: sent=0"), std::string::npos) << out.str();
  EXPECT_NE(err.str().find("send: transport failed"), std::string::npos);
}

TEST(SendMessages, GivesUpWhenThePeerNeverAnswers) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  SendOptions options;
  options.port = ntohs(address.sin_port);
  options.system = "eru-export";
  options.idle_timeout = std::chrono::milliseconds(500);

  const auto started = std::chrono::steady_clock::now();
  SendReport report = sendMessages(options, {{"m-1", "application/xml", "<a/>", "m-1"}});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ::close(listener);

  EXPECT_EQ(report.unsettled, 1u);
  EXPECT_NE(report.transport_error.find("no settlement from 127.0.0.1:"), std::string::npos)
      << report.transport_error;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

}  // namespace
}  // namespace licgate::gateway
