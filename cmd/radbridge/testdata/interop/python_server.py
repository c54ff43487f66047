#!/usr/bin/python3
"""An MLLP server built on python-hl7's asyncio API (Debian's python3-hl7, 0.4.5).

It answers every message with the ACK that python-hl7 builds (Message.create_ack, AA),
and prints one line per event on standard output for radbridge's interop test:

    LISTENING 127.0.0.1:PORT
    {"received": "<MSH-10>", "type": "<MSH-9>", "ack": "<the ACK, segments joined by \\r>"}

Run: /usr/bin/python3 python_server.py [--host 127.0.0.1] [--port 0]
Port 0 picks a free port; the LISTENING line tells which. It runs until killed.
"""

import argparse
import asyncio
import json
import sys

import hl7
import hl7.mllp


def emit(obj):
    print(json.dumps(obj) if not isinstance(obj, str) else obj, flush=True)


async def handle(reader, writer):
    try:
        while not reader.at_eof():
            try:
                message = await reader.readmessage()
            except asyncio.IncompleteReadError:
                break  # the peer closed the connection between messages
            ack = message.create_ack()
            emit(
                {
                    "received": str(message.segment("MSH")(10)),
                    "type": str(message.segment("MSH")(9)),
                    "ack": str(ack),
                }
            )
            writer.writemessage(ack)
            await writer.drain()
    except Exception as e:  # report it; the test reads stdout and stderr
        print(f"python_server: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = await hl7.mllp.start_hl7_server(
        handle, args.host, args.port, encoding="utf-8"
    )
    host, port = server.sockets[0].getsockname()[:2]
    emit(f"LISTENING {host}:{port}")
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
