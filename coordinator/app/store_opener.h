// The store coordinator.yaml names, opened for the coordinator or for a
// command that works on it (token create, admin-identity create, status):
// SQLite, or etcd with its client.
//
//   ASSIGN_OR_RETURN(OpenedStore opened, OpenConfiguredStore(config.store));
//   identity::BootstrapTokens tokens(*opened.store, clock);
#ifndef CERTFLEET_COORDINATOR_APP_STORE_OPENER_H_
#define CERTFLEET_COORDINATOR_APP_STORE_OPENER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "common/etcd/etcd_client.h"
#include "coordinator/config/config.h"
#include "coordinator/store/etcd_store.h"
#include "coordinator/store/store.h"

namespace certfleet::app {

struct OpenedStore {
  // Declared first: the store borrows it.
  std::unique_ptr<etcd::EtcdClient> etcd_client;
  std::unique_ptr<store::Store> store;
  store::EtcdStore* etcd_store = nullptr;  // `store`, when it is on etcd
};

// `fenced`: leader-only writes need a fence (the coordinator on etcd);
// commands write only what any replica writes. Errors name the store.
absl::StatusOr<OpenedStore> OpenConfiguredStore(
    const config::StoreConfig& config, bool fenced = false);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_STORE_OPENER_H_
