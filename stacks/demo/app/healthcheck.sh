#!/bin/bash
# Docker HEALTHCHECK: the process answers /health with 200 (liveness; the database has its own check).
# bash and its /dev/tcp, not a node process: a check every few seconds must cost next to nothing on a busy server.
exec 3<>"/dev/tcp/127.0.0.1/${PORT:-8080}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ $status == "HTTP/1."?" 200 "* ]]
