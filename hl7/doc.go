// Package hl7 reads and writes HL7 version 2 messages in ER7 (pipe-delimited) encoding, as
// specified in HL7 v2.5.1 chapter 2 ("Control"), sections 2.5 to 2.7 (message construction,
// delimiters, escape sequences), 2.9 (acknowledgments) and 2.10.3 (the batch protocol),
// for versions 2.1 through 2.8.
//
// # Positions
//
// Every position in this package is 1-based, as HL7 writes them: Field(3) of a PID segment
// is PID-3, Component(1) is its first component, Rep(2) its second repetition, and
// segment occurrence 2 of OBX is the second OBX in the message. A position of 0 or below
// yields an empty value.
//
// The one exception HL7 itself makes is MSH: MSH-1 is the field separator character and
// MSH-2 the encoding characters, so MSH-3 (sending application) is the second
// separator-delimited field of the segment text. Field(n) on an MSH segment follows HL7
// numbering; MSH-1 and MSH-2 are returned literally (they are never split or unescaped).
//
// # Zero copy
//
// [Parse] does one pass over the bytes and records where segments and fields start. A
// [Message] keeps the caller's byte slice, and every [Segment] and [Value] is a view into
// it: reading a field allocates nothing. Escape sequences are decoded only when a value is
// read as text ([Value.String], [Value.Unescaped]), and only values that contain the escape
// character are copied. The caller must not modify the bytes passed to Parse while the
// message or any view of it is in use; [Message.Clone] gives an independent copy.
//
// Nothing is normalised either: [Message.Bytes] is the input itself, byte for byte, with
// its own line endings and whatever framing Parse skipped, and a [BatchMessage]'s Bytes
// are the exact span of one message in a batch. [AppendMessage] is the re-encoded form
// (CR after every segment, nothing around the message).
//
// # Tolerance
//
// Delimiters are always read from MSH-1 and MSH-2. Segments may end in CR, LF or CRLF;
// blank lines, leading blanks before a segment ID and MLLP framing bytes around the message
// are ignored. Explicit nulls ("") are distinguished from empty fields. Z-segments are
// ordinary segments. Text is decoded from the MSH-18 character set: ASCII and UTF-8 as is,
// ISO 8859-1 and Windows-1252 converted to UTF-8; bytes that are not valid in the declared
// character set become U+FFFD within their own value and never affect any other value.
//
// # Caveats
//
// Parse accepts one message. A batch (FHS/BHS ... BTS/FTS, HL7 v2.5.1 section 2.10.3) or
// any run of concatenated messages held in memory is read with [ParseBatch], which gives
// each message's exact bytes and checks the trailers' counts, and answered with
// [AppendBatchAck]; a file or stream too large to hold is read message by message with a
// [Scanner]. Segment grouping (which OBX belongs to which OBR) is not modelled here:
// callers walk [Message.Segments] in order.
//
// Message, Segment and Value are safe for concurrent reads; nothing in this package
// mutates a parsed message.
package hl7
