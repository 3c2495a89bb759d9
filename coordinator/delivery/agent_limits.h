// What the coordinator's agent listener accepts, in one place: the size of
// a message, streams per connection, keepalive pings, targets per agent,
// the length of the text agents send, the hub's queue, and how fast a
// source may try to enroll and an agent may renew its identity. Each value
// is a default an operator does not need to change (docs/agent.md, "Limits
// the coordinator enforces", says why each is what it is); tests lower them.
//
//   AgentServerOptions options{.listen = "0.0.0.0:7443"};
//   options.limits.max_targets_per_agent = 2;  // a test's small fleet
#ifndef CERTFLEET_COORDINATOR_DELIVERY_AGENT_LIMITS_H_
#define CERTFLEET_COORDINATOR_DELIVERY_AGENT_LIMITS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace certfleet::delivery {

// A token bucket: `burst` attempts at once, then one more every
// `refill_every`.
struct RateLimit {
  double burst = 1;
  absl::Duration refill_every = absl::Seconds(1);
};

struct AgentLimits {
  // Largest message an agent may send (gRPC refuses a larger one with
  // RESOURCE_EXHAUSTED before it is parsed). An inventory costs about 150
  // bytes per healthy target and at most about 2 KiB per failing one (its
  // health detail and failure text are excerpts of at most 512 bytes), so
  // max_targets_per_agent failing targets still fit.
  size_t max_message_bytes = 128 * 1024;
  // HTTP/2 streams one connection may have open at once (an agent holds
  // one). A gRPC client waits for a free slot; a client that ignores the
  // setting has the extra stream reset (UNAVAILABLE).
  int max_streams_per_connection = 4;
  // Keepalive pings closer together than this, with no data in between,
  // are strikes (agents ping every 30 s); after this many strikes the
  // connection is closed with GOAWAY ENHANCE_YOUR_CALM ("too_many_pings"),
  // which its streams see as UNAVAILABLE.
  absl::Duration min_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // A Heartbeat goes to every stream this often (the Welcome says so). A
  // frozen coordinator (SIGSTOP, a VM paused, a hung disk) keeps its TCP
  // connections open; its agents notice the silence after three intervals
  // and fail over: 2 s makes that 6 s, plus the reconnection. At 5,000
  // agents that is 2,500 small messages a second.
  absl::Duration heartbeat_interval = absl::Seconds(2);
  // Targets one inventory may list; more ends the stream with
  // RESOURCE_EXHAUSTED and nothing of it is recorded.
  int max_targets_per_agent = 64;
  // Free text from agents (health detail, failure step and error, state
  // problem, agent version) is cut to this many bytes before it is stored
  // or logged; names are checked instead (agent_input.h).
  size_t max_text_bytes = 1024;
  // Messages of one stream waiting in the hub: while this many wait, the
  // stream reads nothing more (HTTP/2 flow control holds the agent back).
  // An agent answers a bundle with a result and an inventory: two.
  int max_messages_in_hub_per_stream = 2;
  // Bytes of agent messages waiting in the hub, over all streams; a message
  // that would pass this bound ends its stream with RESOURCE_EXHAUSTED (the
  // agent reconnects after its backoff). Must be at least max_message_bytes.
  size_t max_hub_queue_bytes = 32 * 1024 * 1024;
  // The hub's store writes waiting (hub_writer.h: at most one per target's
  // report, agent's last-seen time and target's decision, so a fleet's
  // worth). At this many, agents' messages are still handled but their
  // streams read nothing more until half of the writes are done: a store
  // that cannot keep up slows the agents down, and loses nothing they
  // reported. About 1 KiB each: 10 MiB at most.
  size_t max_pending_store_writes = 10000;
  // Enrollment attempts per source address (an IPv6 source counts per /64)
  // and over all sources. A failed attempt costs a token; a successful one
  // gives it back, so hosts enrolling with valid tokens (a thousand behind
  // one NAT) are never slowed, while a source sending junk is.
  RateLimit enrollment_per_address{.burst = 60,
                                   .refill_every = absl::Seconds(1)};
  RateLimit enrollment_overall{.burst = 500,
                               .refill_every = absl::Milliseconds(20)};
  // Source addresses tracked at once; past it, addresses whose bucket is
  // full again are forgotten, and when none is, new ones are refused.
  size_t max_enrollment_sources = 10000;
  // Identity renewals per agent (an agent asks once per identity lifetime
  // and repeats an unanswered request after a minute); a renewal past it
  // ends the stream with RESOURCE_EXHAUSTED.
  RateLimit renewals_per_agent{.burst = 2, .refill_every = absl::Minutes(1)};
};

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_AGENT_LIMITS_H_
