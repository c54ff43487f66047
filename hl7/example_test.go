package hl7_test

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/radbridge/radbridge/hl7"
)

// A receiver given a frame that holds a batch processes each message as if it had come
// alone and answers with one response batch.
func ExampleAppendBatchAck() {
	frame := []byte("BHS|^~\\&|EHR|HOSP|RB|IMG|20261122||||B1\r" +
		"MSH|^~\\&|EHR|HOSP|RB|IMG|20261122||ORM^O01|M1|P|2.5.1\rPID|1\r" +
		"MSH|^~\\&|EHR|HOSP|RB|IMG|20261122||ORM^O01|M2|P|2.5.1\rPID|2\r" +
		"BTS|2\r")
	if !hl7.IsBatch(frame) {
		return // one message: Parse, AppendAck
	}
	f, err := hl7.ParseBatch(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(f.Issues), "envelope issues")
	var acks [][]byte
	for m := range f.Messages() {
		pm, err := hl7.Parse(m.Bytes) // m.Bytes is the message as received, for storage
		if err != nil {
			panic(err)
		}
		acks = append(acks, hl7.AppendAck(nil, pm.Header(), hl7.Ack{Code: hl7.AA, ControlID: "A" + strconv.Itoa(m.Index)}))
	}
	reply := hl7.AppendBatchAck(nil, f, acks, hl7.BatchAck{ControlID: "R1"})
	fmt.Print(strings.ReplaceAll(string(reply), "\r", "\n"))
	// Output:
	// 0 envelope issues
	// BHS|^~\&|RB|IMG|EHR|HOSP|||||R1|B1
	// MSH|^~\&|RB|IMG|EHR|HOSP|||ACK^O01^ACK|A1|P|2.5.1
	// MSA|AA|M1
	// MSH|^~\&|RB|IMG|EHR|HOSP|||ACK^O01^ACK|A2|P|2.5.1
	// MSA|AA|M2
	// BTS|2
}
