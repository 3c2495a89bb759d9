#include "coordinator/app/store_opener.h"

#include "common/status_macros.h"
#include "coordinator/store/sqlite_store.h"

namespace certfleet::app {

absl::StatusOr<OpenedStore> OpenConfiguredStore(
    const config::StoreConfig& config, bool fenced) {
  OpenedStore out;
  if (config.type == "etcd") {
    const config::EtcdConfig& e = config.etcd;
    absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
        etcd::EtcdClient::Create({.endpoints = e.endpoints,
                                  .ca_file = e.ca_file,
                                  .cert_file = e.cert_file,
                                  .key_file = e.key_file,
                                  .call_timeout = e.request_timeout});
    if (!client.ok()) return Annotate(client.status(), "store: etcd");
    out.etcd_client = *std::move(client);
    ASSIGN_OR_RETURN(
        std::unique_ptr<store::EtcdStore> store,
        store::EtcdStore::Open({.client = out.etcd_client.get(),
                                .prefix = e.prefix,
                                .request_timeout = e.request_timeout,
                                .fenced = fenced}));
    out.etcd_store = store.get();
    out.store = std::move(store);
    return out;
  }
  store::SqliteOptions sqlite;
  sqlite.sync = config.sqlite_sync == "full"
                    ? store::SqliteOptions::Sync::kFull
                    : store::SqliteOptions::Sync::kNormal;
  absl::StatusOr<std::unique_ptr<store::SqliteStore>> store =
      store::SqliteStore::Open(config.sqlite_path, sqlite);
  if (!store.ok()) return Annotate(store.status(), "store");
  out.store = *std::move(store);
  return out;
}

}  // namespace certfleet::app
