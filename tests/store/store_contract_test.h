// The contract of store.h as a reusable, value-parameterised test suite.
// Every backend (SQLite, in-memory, later etcd) instantiates it with a
// factory that returns a fresh, empty store for each test:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Sqlite, StoreContractTest,
//       ::testing::Values(StoreFactory([] { return MakeSqliteStore(); })));
//
// The tests live in store_contract_test.cc, store_fleet_contract_test.cc and
// store_rollout_contract_test.cc (CMake target certfleet_store_contract_test,
// an OBJECT library so the linker keeps them); link it into the backend's test
// binary, and register that binary with gtest_discover_tests(...
// NO_PRETTY_VALUES): gtest prints a std::function parameter as raw bytes, which
// would put pointers into the ctest names.
#ifndef CERTFLEET_TESTS_STORE_STORE_CONTRACT_TEST_H_
#define CERTFLEET_TESTS_STORE_STORE_CONTRACT_TEST_H_

#include <functional>
#include <memory>
#include <ostream>

#include "coordinator/store/store.h"
#include "gtest/gtest.h"

namespace certfleet::store {

// Returns a new, empty store; called once per test.
using StoreFactory = std::function<std::unique_ptr<Store>()>;

// Readable gtest output for the record types (every field, strings
// C-escaped), so a failed comparison shows which field differs.
void PrintTo(const AccountRecord& r, std::ostream* os);
void PrintTo(const CertificateState& r, std::ostream* os);
void PrintTo(const VersionRecord& r, std::ostream* os);
void PrintTo(const DnsRecordRef& r, std::ostream* os);
void PrintTo(const OrderRecord& r, std::ostream* os);
void PrintTo(const AgentRecord& r, std::ostream* os);
void PrintTo(const TokenRecord& r, std::ostream* os);
void PrintTo(const InternalCaRecord& r, std::ostream* os);
void PrintTo(const TargetStateRecord& r, std::ostream* os);
void PrintTo(const RolloutRecord& r, std::ostream* os);
void PrintTo(const AuditRecord& r, std::ostream* os);

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr) << "the store factory returned null";
  }

  std::unique_ptr<Store> store_;
};

}  // namespace certfleet::store

#endif  // CERTFLEET_TESTS_STORE_STORE_CONTRACT_TEST_H_
