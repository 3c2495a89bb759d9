// InMemoryStore: the store contract (the fake must honour it too).
#include "coordinator/store/memory_store.h"

#include <memory>

#include "tests/store/store_contract_test.h"

namespace certfleet::store {
namespace {

INSTANTIATE_TEST_SUITE_P(InMemory, StoreContractTest,
                         ::testing::Values(StoreFactory([] {
                           return std::make_unique<InMemoryStore>();
                         })));

}  // namespace
}  // namespace certfleet::store
