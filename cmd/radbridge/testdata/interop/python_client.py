#!/usr/bin/python3
"""An MLLP client built on python-hl7's asyncio API (Debian's python3-hl7, 0.4.5).

Sends each FILE (one HL7 v2 message each, segments ended by CR or LF) over one
connection, waits for each ACK, and prints one JSON line per message:

    {"sent": "<MSH-10>", "msa_1": "AA", "msa_2": "<MSA-2>", "ack": "<the ACK>"}

MSH-10, MSA-1 and MSA-2 are read with python-hl7's own parser.
Run: /usr/bin/python3 python_client.py HOST PORT FILE...
Exit status 0 when every message got an ACK, 1 otherwise.
"""

import asyncio
import json
import sys

import hl7
import hl7.mllp


async def main(host, port, files):
    reader, writer = await hl7.mllp.open_hl7_connection(host, port, encoding="utf-8")
    try:
        for name in files:
            with open(name, "rb") as f:
                text = f.read().decode("utf-8")
            text = text.replace("\r\n", "\r").replace("\n", "\r")
            message = hl7.parse(text)
            writer.writemessage(message)
            await writer.drain()
            ack = await asyncio.wait_for(reader.readmessage(), timeout=10)
            msa = ack.segment("MSA")
            print(
                json.dumps(
                    {
                        "sent": str(message.segment("MSH")(10)),
                        "msa_1": str(msa(1)),
                        "msa_2": str(msa(2)),
                        "ack": str(ack),
                    }
                ),
                flush=True,
            )
    finally:
        writer.close()
        await writer.wait_closed()


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print("usage: python_client.py HOST PORT FILE...", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
    except Exception as e:
        print(f"python_client: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
