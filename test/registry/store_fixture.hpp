// A registry store on a real SQLite file in a fresh temporary directory,
// removed after each test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "registry/store.hpp"
#include "test/registry/event_samples.hpp"

namespace licgate::registry {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "licgate-store-XXXXXX");
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    options_.path = (dir_ / "register.db").string();
    options_.synchronous_full = false;
    store_ = openStore();
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Store> openStore() {
    auto store = openSqliteStore(options_);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(*store) : nullptr;
  }

  static Inbound message(const std::string& id, Event event) {
    return Inbound{"kz-energy-portal", id, "application/json", "{\"id\":\"" + id + "\"}",
                   std::move(event)};
  }

  // Applies one message and fails the test when the store itself fails.
  Outcome apply(const std::string& id, Event event) {
    auto outcome = store_->apply(message(id, std::move(event)));
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? *outcome : Outcome{};
  }

  // Issues a licence and returns the number the register gave.
  std::string issue(const std::string& id, Event event = samples::issueEvent()) {
    Outcome outcome = apply(id, std::move(event));
    EXPECT_EQ(dispositionName(outcome.disposition), "applied")
        << (outcome.error ? outcome.error->message : "");
    return outcome.licence_number;
  }

  StoreCounts counts() {
    auto counts = store_->counts();
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? *counts : StoreCounts{};
  }

  std::vector<JournalEntry> journal() {
    auto entries = store_->changesAfter(0, 1000);
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? *entries : std::vector<JournalEntry>{};
  }

  std::filesystem::path dir_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

}  // namespace licgate::registry
