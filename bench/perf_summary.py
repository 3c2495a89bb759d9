#!/usr/bin/env python3
"""Summarises `perf script` output of a profiled coordinator pass.

Reads the text `perf script` prints for a `perf record -e cpu-clock
--call-graph dwarf` profile and prints, in CPU milliseconds per certificate:
  * where the samples were taken (shared object groups: OpenSSL, HTTP/TLS,
    kernel, libc, SQLite, ...), self time;
  * inclusive time of the coordinator functions that matter for issuance
    (a sample counts once for every listed function on its stack).

    perf script -i perf.data > perf.txt
    bench/perf_summary.py perf.txt --certificates 200

With --storm N it reads a profile of a coordinator restarted under N
reconnecting agents (certfleet-bench-reconnect --perf) instead: figures
per agent, and the functions of the agent service, the hub and TLS.

Stacks that dwarf unwinding could not follow to the thread's start still
count for the functions they do show, so inclusive figures for deep frames
(OpenKey, ParsePemChain) are reliable; for the outermost ones (Execute,
RunPass) they are lower bounds.
"""
import argparse
import collections
import re
import sys

# (label, regular expression on a frame's symbol), checked in this order.
FUNCTIONS = [
    ("OrderRunner::Execute (one order, all steps)", r"OrderRunner::Execute\b"),
    ("  Place (newOrder, persist)", r"OrderRunner::Place\b"),
    ("  Validate (authz, DNS, challenge, poll)", r"OrderRunner::Validate\b"),
    ("  Finalize (key, CSR, finalize, poll)", r"OrderRunner::Finalize\b"),
    ("  Download (chain, checks)", r"OrderRunner::Download\b"),
    ("store writes (SqliteStore: order, version, state)", r"SqliteStore::(PutOrder|AddVersion|PutCertificateState|DeleteOrder)\b"),
    ("OpenKey: unseal + parse the stored key PEM", r"\(anonymous namespace\)::OpenKey\b"),
    ("PrivateKey::FromPem (OpenSSL decoder)", r"PrivateKey::FromPem\b"),
    ("certificate chain parsing (Certificate[Cache]::ParsePemChain)",
     r"Certificate(Cache)?::ParsePemChain\b"),
    ("acme::SelectChain", r"acme::SelectChain\b"),
    ("crypto::BuildCsrDer", r"crypto::BuildCsrDer\b"),
    ("crypto::VerifyChain", r"crypto::VerifyChain\b"),
    ("PrivateKey::Generate", r"PrivateKey::Generate\b"),
    ("Kek::Seal / Kek::Open (AES-GCM)", r"Kek::Seal\b|Kek::Open\b"),
    ("JWS signing (SignRequest)", r"acme::SignRequest\b"),
    ("order polls (AcmeClient::PollOrder)", r"AcmeClient::PollOrder\b"),
    ("CurlTransport::Send (HTTP/2 + TLS I/O)", r"CurlTransport::Send\b"),
    ("response JSON parsing (nlohmann)", r"nlohmann::.*::parse\b"),
    ("DNS queries (LdnsResolver::Query)", r"LdnsResolver::Query\b"),
    ("RFC 2136 updates", r"Rfc2136Provider::|UpdateBatcher::"),
    ("SQLite (sqlite3_step)", r"^sqlite3_step$"),
    ("std::random_device construction", r"random_device::_M_init"),
    ("OpenSSL OSSL_DECODER_CTX_new_for_pkey", r"^OSSL_DECODER_CTX_new_for_pkey$"),
    ("logging (spdlog)", r"spdlog::"),
    ("process start-up and exit (before/after the pass)", r"^_dl_start$|^_dl_init$|^exit$|__libc_start_call_main$"),
    ("config load (YAML)", r"config::LoadConfig\b"),
]

# The reconnection storm (certfleet-bench-reconnect --perf): what an
# attaching agent costs the coordinator, by thread and function.
STORM_FUNCTIONS = [
    ("hub thread (AgentHub::Run: every task)", r"AgentHub::Run\b"),
    ("  attach task (store reads, admit, welcome)", r"AgentHub::Attach\(.*\)::\{lambda"),
    ("    SqliteStore::GetAgent", r"SqliteStore::GetAgent\b"),
    ("    SqliteStore::ListTargetStates", r"SqliteStore::ListTargetStates\b"),
    ("    AgentHub::UpdateConnected", r"AgentHub::UpdateConnected\b"),
    ("  HandleMessage (hello, inventory)", r"AgentHub::HandleMessage\b"),
    ("    HandleInventory", r"AgentHub::HandleInventory\b"),
    ("  Reconcile", r"AgentHub::Reconcile\b"),
    ("hub writer thread (HubWriter::Run)", r"HubWriter::Run\b"),
    ("  store batches (SQLite)", r"SqliteStore::(PutTargetStates|RecordLastSeen|PutDesiredVersions)\b"),
    ("agent service: AgentServiceImpl::Connect", r"AgentServiceImpl::Connect\b"),
    ("  VerifiedAgentId (client certificate parsed)", r"VerifiedAgentId\b"),
    ("TLS handshakes (SSL_do_handshake)", r"^SSL_do_handshake$"),
    ("  ECDSA/EC signing", r"^(ECDSA_do_sign|ossl_ecdsa_sign_sig|ossl_ecdsa_simple_sign_sig)"),
    ("  X.509 chain verification", r"^X509_verify_cert$"),
    ("  ECDH / key share", r"^(ossl_ecdh_compute_key|ecx_derive|X25519|ossl_x25519)"),
    ("gRPC security handshaker", r"SecurityHandshaker"),
    ("gRPC auth context (peer properties)", r"grpc_ssl_peer_to_auth_context|tsi_ssl_peer"),
    ("SQLite (sqlite3_step)", r"^sqlite3_step$"),
    ("logging (spdlog)", r"spdlog::"),
    ("malloc / free", r"^(malloc|free|_int_malloc|_int_free|cfree)$"),
    ("process start-up (before serving)", r"Coordinator::Create\b"),
]

DSO_GROUPS = [
    ("OpenSSL libcrypto", r"libcrypto"),
    ("TLS + HTTP/2 (libssl, libcurl, nghttp2)", r"libssl|libcurl|libnghttp2"),
    ("kernel (syscalls, network, scheduling)", r"kernel"),
    ("libc (malloc, locks, memcpy)", r"libc\.so|libm\.so|ld-linux"),
    ("coordinator code", r"certfleet-coordinator"),
    ("SQLite", r"libsqlite3"),
    ("libstdc++", r"libstdc\+\+"),
    ("ldns", r"libldns"),
    ("gRPC (libgrpc, libgrpc++, libgpr)", r"libgrpc|libgpr"),
    ("protobuf", r"libprotobuf"),
    ("abseil", r"libabsl"),
    ("inlined, object not recorded (mostly glibc: locks, malloc, memcpy)",
     r"^inlined$"),
]

# Objects whose time is charged to their caller in the second table.
SYSTEM = re.compile(r"kernel|libc\.so|libm\.so|ld-linux|libstdc\+\+|libgcc|"
                    r"\[unknown\]|inlined")

HEADER = re.compile(r"^\S.*?\s(\d+)\s+([\w:-]+):\s*$")
FRAME = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)\s*$")


def read_samples(path):
    """Yields (period_ns, [(symbol, dso, address), ...] leaf first)."""
    with open(path, errors="replace") as f:
        period, frames = None, []
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if period is not None:
                    yield period, frames
                period, frames = None, []
                continue
            if period is None:
                m = HEADER.match(line)
                if m:
                    period = int(m.group(1))
                continue
            m = FRAME.match(line)
            if m:
                frames.append((m.group(2), m.group(3), m.group(1)))
        if period is not None:
            yield period, frames


def resolve_inlined(frames):
    """perf prints "(inlined)" frames without their object: give each the
    object of the next real frame (same address)."""
    out = []
    for i, (sym, dso, addr) in enumerate(frames):
        if dso == "inlined":
            dso = next((d for _, d, a in frames[i + 1:]
                        if d != "inlined" and a == addr), "inlined")
        out.append((sym, dso))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("perf_script_output")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--certificates", type=int,
                       help="certificates the profiled pass issued")
    which.add_argument("--storm", type=int, metavar="AGENTS",
                       help="agents that reconnected during the profile")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    function_list = STORM_FUNCTIONS if args.storm else FUNCTIONS
    unit = "agent" if args.storm else "certificate"
    funcs = [(label, re.compile(rx)) for label, rx in function_list]
    groups = [(label, re.compile(rx)) for label, rx in DSO_GROUPS]
    total_ns = 0
    inclusive = collections.Counter()
    by_group = collections.Counter()
    by_leaf = collections.Counter()
    charged = collections.Counter()
    for period, frames in read_samples(args.perf_script_output):
        frames = resolve_inlined(frames)
        total_ns += period
        if not frames:
            by_group["(no stack)"] += period
            continue
        leaf_sym, leaf_dso = frames[0]
        for label, rx in groups:
            if rx.search(leaf_dso):
                by_group[label] += period
                break
        else:
            by_group["other libraries"] += period
        by_leaf[f"{leaf_sym}  [{leaf_dso.split('/')[-1]}]"] += period
        # Charge libc/libstdc++/kernel time to the library that called them.
        owner = "system only (no library caller on the stack)"
        for _, dso in frames:
            if SYSTEM.search(dso):
                continue
            owner = next((label for label, rx in groups if rx.search(dso)),
                         "other libraries")
            break
        charged[owner] += period
        seen = set()
        for sym, _ in frames:
            for label, rx in funcs:
                if label not in seen and rx.search(sym):
                    seen.add(label)
        for label in seen:
            inclusive[label] += period

    if total_ns == 0:
        sys.exit("no samples found (is this `perf script` output?)")
    n = args.storm or args.certificates

    def ms(ns):
        return ns / 1e6 / n

    def pct(ns):
        return 100.0 * ns / total_ns

    print(f"samples: {total_ns / 1e6:.0f} ms of CPU for {n} {unit}s = "
          f"{ms(total_ns):.3f} ms per {unit}\n")
    print(f"self time by shared object (ms per {unit}, % of all):")
    for label, ns in by_group.most_common():
        print(f"  {ms(ns):7.3f}  {pct(ns):5.1f}%  {label}")
    print("\nthe same, with libc/libstdc++/kernel time charged to the library "
          "that called it:")
    for label, ns in charged.most_common():
        print(f"  {ms(ns):7.3f}  {pct(ns):5.1f}%  {label}")
    print(f"\ninclusive time of coordinator functions (ms per {unit}, %):")
    for label, _ in function_list:
        ns = inclusive.get(label, 0)
        print(f"  {ms(ns):7.3f}  {pct(ns):5.1f}%  {label}")
    print(f"\ntop {args.top} leaf functions (self):")
    for sym, ns in by_leaf.most_common(args.top):
        print(f"  {ms(ns):7.3f}  {pct(ns):5.1f}%  {sym[:110]}")


if __name__ == "__main__":
    main()
