add_executable(certfleet-coordinator ${CMAKE_CURRENT_SOURCE_DIR}/main.cc)
target_link_libraries(certfleet-coordinator PRIVATE certfleet_coordinator_app nlohmann_json::nlohmann_json)
install(TARGETS certfleet-coordinator RUNTIME DESTINATION bin)
