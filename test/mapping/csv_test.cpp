// The RFC 4180 reader and writer: quoting with embedded commas, quotes and
// line breaks, both line-break styles, and every malformed shape.
#include "mapping/csv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace licgate::mapping {
namespace {

using registry::ErrorCode;
using Fields = std::vector<std::string>;

TEST(Csv, ReadsHeaderAndRows) {
  auto table = parseCsvTable("a,b,c\n1,2,3\n4,,6\n");

  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->header, (Fields{"a", "b", "c"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[1].fields, (Fields{"4", "", "6"}));
  EXPECT_EQ(table->rows[1].line, 3u);
}

TEST(Csv, ReadsQuotedCommasQuotesAndLineBreaks) {
  std::string text =
      "nazev,obec\r\n"
      "\"Povodí Vltavy, státní podnik\",Praha\r\n"
      "\"Zemědělské družstvo \"\"Křižanovsko\"\"\",Křižanov\r\n"
      "\"Kotelna\r\nsever\",\"Brno\nStřed\"\r\n"
      "last,row\r\n";

  auto table = parseCsvTable(text);

  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_EQ(table->rows.size(), 4u);
  EXPECT_EQ(table->rows[0].fields, (Fields{"Povodí Vltavy, státní podnik", "Praha"}));
  EXPECT_EQ(table->rows[1].fields, (Fields{"Zemědělské družstvo \"Křižanovsko\"", "Křižanov"}));
  EXPECT_EQ(table->rows[2].fields, (Fields{"Kotelna\r\nsever", "Brno\nStřed"}));
  EXPECT_EQ(table->rows[3].line, 7u);
}

TEST(Csv, SkipsBomFinalLineBreakAndEmptyLines) {
  auto table = parseCsvTable("\xEF\xBB\xBFkod,predmet\n\n11,výroba\n\n");

  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->header, (Fields{"kod", "predmet"}));
  ASSERT_EQ(table->rows.size(), 1u);
  EXPECT_EQ(table->rows[0].fields, (Fields{"11", "výroba"}));
}

TEST(Csv, ReadsALastRowWithoutLineBreakAndATrailingEmptyField) {
  auto table = parseCsvTable("a,b\nx,");

  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->rows.at(0).fields, (Fields{"x", ""}));
}

struct BadCsv {
  std::string text;
  std::string message;
};

TEST(Csv, RejectsEachMalformedShapeNamingTheLine) {
  const std::vector<BadCsv> cases = {
      {"", "CSV line 1: no header line"},
      {"a,b\n\"open,x\n", "CSV line 2: a quoted field is not closed"},
      {"a,b\n\"closed\"x,y\n", "CSV line 2: a character after the closing quote of a field"},
      {"a,b\nab\"c,d\n", "CSV line 2: a quote inside an unquoted field"},
      {"a,b\n1,2\n1,2,3\n", "CSV line 3: the row has 3 fields, the header has 2"},
      {"a,b\n\"x\ny\",1\nonly\n", "CSV line 4: the row has 1 fields, the header has 2"},
  };
  for (const BadCsv& bad : cases) {
    auto table = parseCsvTable(bad.text);

    ASSERT_FALSE(table.ok()) << bad.text;
    EXPECT_EQ(table.error().code, ErrorCode::kMalformed);
    EXPECT_EQ(table.error().message, bad.message);
  }
}

TEST(Csv, QuotesOnlyFieldsThatNeedIt) {
  std::string line = writeCsvRecord({"plain", "a,b", "say \"hi\"", "two\nlines", ""});

  EXPECT_EQ(line, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",");
}

TEST(Csv, WrittenRecordsReadBackTheSame) {
  Fields header{"x", "y", "z"};
  Fields row{"Teplárna \"Sever\", a.s.", "line\r\nbreak", "&amp;"};

  auto table = parseCsvTable(writeCsvRecord(header) + "\r\n" + writeCsvRecord(row) + "\r\n");

  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->rows.at(0).fields, row);
}

}  // namespace
}  // namespace licgate::mapping
