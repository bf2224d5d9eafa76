#!/bin/bash
# policyd-limits.sh -- authrelay-policyd with sending limits on, every
# request from a limited user, beside the do-nothing responder in one run
# (make bench): policyd.sh with LIMITS=1. Targets: rps ratio >= 0.55,
# p99 < 2 ms at 50 connections (issue 15).
LIMITS=1 exec bash "$(dirname "$0")/policyd.sh" "$@"
