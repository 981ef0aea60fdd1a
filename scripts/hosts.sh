#!/usr/bin/env bash
# Test hosts on one machine: a network namespace per host, all on one bridge that lives in a
# namespace of its own (the machine's own interfaces and routes are never touched), addresses
# from 198.18.0.0/24 (the benchmarking range, RFC 2544) that exist only inside these namespaces.
# Links are shaped with what a kernel without netem has: nftables rules for partitions and
# random loss, tc tbf for bandwidth. The tests (Tests/TestSupport/Hosts.swift) use this script.
#
#   scripts/hosts.sh up NAME HOST=ADDR[,ADDR...]...   create NAME-lan and NAME-HOST for each HOST
#   scripts/hosts.sh down NAME                        remove every namespace NAME-* (and its rules)
#   scripts/hosts.sh exec NAME HOST COMMAND...        run COMMAND on HOST
#   scripts/hosts.sh cut NAME HOST ADDR               HOST can no longer reach ADDR, nor ADDR HOST
#   scripts/hosts.sh loss NAME HOST ADDR|all PERCENT  drop PERCENT % of packets between HOST and ADDR (all: any peer)
#   scripts/hosts.sh rate NAME HOST KBIT [ADDR]       HOST's link (to ADDR only) carries KBIT kbit/s each way
#   scripts/hosts.sh heal NAME HOST                   undo cut, loss and rate on HOST
#   scripts/hosts.sh dropped NAME HOST                packets HOST's cut and loss rules dropped so far
#   scripts/hosts.sh list NAME                        the namespaces and their addresses
#
# Example: a broker, an orchestrator, two drivers and a target; cut d1 from the broker for 10 s:
#   scripts/hosts.sh up lab broker=198.18.0.2 orch=198.18.0.3 target=198.18.0.4 \
#       d1=198.18.0.11,198.18.0.21 d2=198.18.0.12,198.18.0.22
#   scripts/hosts.sh exec lab broker tansu broker --listener-url tcp://198.18.0.2:9092 ... &
#   scripts/hosts.sh cut lab d1 198.18.0.2; sleep 10; scripts/hosts.sh heal lab d1
#   scripts/hosts.sh down lab
set -euo pipefail

die() { echo "hosts.sh: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns, nft and tc change network namespaces)"
command -v ip >/dev/null || die "ip (iproute2) is not installed"

cmd=${1:-}; shift || true
name=${1:-}; shift || true
[ -n "$cmd" ] && [ -n "$name" ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ "$name" =~ ^[a-z0-9]{1,8}$ ]] || die "NAME must be 1-8 lower-case letters or digits, got '$name'"
lan="$name-lan"
ns() { echo "$name-$1"; }
need_host() { ip netns list | grep -q "^$(ns "$1")\b" || die "no host '$1' under '$name' (scripts/hosts.sh list $name)"; }

case "$cmd" in
  up)
    [ $# -gt 0 ] || die "up: give at least one HOST=ADDR"
    ip netns add "$lan"
    ip -n "$lan" link add br0 type bridge
    ip -n "$lan" link set br0 up
    ip -n "$lan" link set lo up
    for spec in "$@"; do
      host=${spec%%=*}; addrs=${spec#*=}
      [[ "$host" =~ ^[a-z0-9]{1,8}$ ]] || die "HOST must be 1-8 lower-case letters or digits, got '$host'"
      [ "$addrs" != "$spec" ] || die "expected HOST=ADDR, got '$spec'"
      ip netns add "$(ns "$host")"
      ip -n "$(ns "$host")" link set lo up
      # One veth per host: eth0 inside the host, v-HOST on the bridge.
      ip link add "v-$host" netns "$lan" type veth peer name eth0 netns "$(ns "$host")"
      ip -n "$lan" link set "v-$host" master br0 up
      IFS=, read -ra list <<<"$addrs"
      for a in "${list[@]}"; do
        [[ "$a" =~ ^198\.18\.0\.[0-9]{1,3}$ ]] || die "$host: $a is not in 198.18.0.0/24 (test hosts use that range only)"
        ip -n "$(ns "$host")" addr add "$a/24" dev eth0
      done
      ip -n "$(ns "$host")" link set eth0 up
    done
    ;;
  down)
    for n in $(ip netns list | awk '{print $1}' | grep "^$name-" || true); do
      # Processes still inside would keep the namespace's sockets alive: end them first.
      for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$n" || true
    done
    ;;
  exec)
    host=${1:?exec: HOST}; shift
    need_host "$host"
    exec ip netns exec "$(ns "$host")" "$@"
    ;;
  cut|loss)
    host=${1:?$cmd: HOST}; peer=${2:?$cmd: ADDR}
    need_host "$host"
    if [ "$cmd" = loss ] && [ "$peer" = all ]; then out_match=""; in_match=""; else
      [[ "$peer" =~ ^198\.18\.0\.[0-9]{1,3}$ ]] || die "$cmd: $peer is not a test host address"
      out_match="ip daddr $peer"; in_match="ip saddr $peer"
    fi
    if [ "$cmd" = cut ]; then verdict_counted="counter drop"; else
      percent=${3:?loss: PERCENT}
      [[ "$percent" =~ ^[0-9]{1,2}$ ]] || die "loss: PERCENT must be 0-99, got '$percent'"
      verdict_counted="numgen random mod 100 < $percent counter drop"
    fi
    ip netns exec "$(ns "$host")" nft -f - <<EOF
table inet stampede_fault {}
flush table inet stampede_fault
table inet stampede_fault {
  chain output { type filter hook output priority 0; oifname "eth0" $out_match $verdict_counted; }
  chain input { type filter hook input priority 0; iifname "eth0" $in_match $verdict_counted; }
}
EOF
    ;;
  rate)
    host=${1:?rate: HOST}; kbit=${2:?rate: KBIT}; peer=${3:-}
    need_host "$host"
    [[ "$kbit" =~ ^[0-9]+$ ]] && [ "$kbit" -ge 8 ] || die "rate: KBIT must be a whole number >= 8, got '$kbit'"
    # What leaves an interface is shaped: eth0 for the host's sending, v-HOST for its receiving.
    if [ -z "$peer" ]; then
      ip netns exec "$(ns "$host")" tc qdisc replace dev eth0 root tbf rate "${kbit}kbit" burst 4kb latency 2s
      ip netns exec "$lan" tc qdisc replace dev "v-$host" root tbf rate "${kbit}kbit" burst 4kb latency 2s
    else
      # Only the link to PEER: an htb class at the rate for its packets, the rest unshaped.
      [[ "$peer" =~ ^198\.18\.0\.[0-9]{1,3}$ ]] || die "rate: $peer is not a test host address"
      shape() {  # NS DEV MATCH
        ip netns exec "$1" tc qdisc replace dev "$2" root handle 1: htb default 1
        ip netns exec "$1" tc class add dev "$2" parent 1: classid 1:1 htb rate 10gbit quantum 60000
        ip netns exec "$1" tc class add dev "$2" parent 1: classid 1:2 htb rate "${kbit}kbit" ceil "${kbit}kbit" quantum 1514
        ip netns exec "$1" tc filter add dev "$2" parent 1: protocol ip u32 match ip "$3" "$peer/32" flowid 1:2
      }
      shape "$(ns "$host")" eth0 dst
      shape "$lan" "v-$host" src
    fi
    ;;
  heal)
    host=${1:?heal: HOST}
    need_host "$host"
    ip netns exec "$(ns "$host")" nft delete table inet stampede_fault 2>/dev/null || true
    ip netns exec "$(ns "$host")" tc qdisc del dev eth0 root 2>/dev/null || true
    ip netns exec "$lan" tc qdisc del dev "v-$host" root 2>/dev/null || true
    ;;
  dropped)
    # Packets the cut/loss rules of HOST dropped so far (0 without rules).
    host=${1:?dropped: HOST}
    need_host "$host"
    ip netns exec "$(ns "$host")" nft list table inet stampede_fault 2>/dev/null \
      | awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
    ;;
  list)
    for n in $(ip netns list | awk '{print $1}' | grep "^$name-" || true); do
      echo "$n: $(ip -n "$n" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}' | tr '\n' ' ')"
    done
    ;;
  *) die "unknown command '$cmd' (up, down, exec, cut, loss, rate, heal, dropped, list)" ;;
esac
