#!/usr/bin/env python3
"""Memory under a flood of large uploads: opens N connections to a running `seresnet serve`, each declaring a
16 MiB body and sending 15 MiB of it, holds them, and prints the server's resident memory before, while held
and after, plus how many were refused (503 too_many_uploads, from the server's access log if given).

    seresnet serve --model DIR --port 8080 2>serve.log &
    Benchmarks/measure-body-budget.py --port 8080 --pid $! --connections 140 --log serve.log
"""
import argparse
import socket
import time


def memory_mib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"] // 1024, fields["VmHWM"] // 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id (for /proc)")
    parser.add_argument("--connections", type=int, default=140)
    parser.add_argument("--log", help="the server's stderr (JSON lines), to count refusals")
    args = parser.parse_args()

    print("before: VmRSS %d MiB, VmHWM %d MiB" % memory_mib(args.pid))
    megabyte = b"\0" * (1 << 20)
    held = []
    for _ in range(args.connections):
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        sock.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n")
        try:
            for _ in range(15):
                sock.sendall(megabyte)
            held.append(sock)
        except OSError:
            sock.close()
    time.sleep(1)
    print("held open: VmRSS %d MiB, VmHWM %d MiB" % memory_mib(args.pid))
    for sock in held:
        sock.close()
    time.sleep(1)
    print("after: VmRSS %d MiB, VmHWM %d MiB" % memory_mib(args.pid))
    if args.log:
        with open(args.log) as log:
            refused = sum('"too_many_uploads"' in line for line in log)
        print(f"{args.connections} connections, {refused} refused with 503 too_many_uploads")


if __name__ == "__main__":
    main()
