package mllp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"

	"github.com/radbridge/radbridge/hl7/mllp"
)

func Example() {
	// The engine's handler would parse the message, commit it and build an
	// HL7 ACK; this one answers a fixed ACK.
	handler := mllp.HandlerFunc(func(ctx context.Context, msg []byte, info mllp.ConnInfo) ([]byte, error) {
		return []byte("MSH|^~\\&|RADBRIDGE|HOSP_A|RIS|HOSP_A|20250101120001||ACK^O01|ACK1|P|2.3\rMSA|AA|MSG00001\r"), nil
	})
	srv := &mllp.Server{Handler: handler}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	client := &mllp.Client{Addr: ln.Addr().String()}
	ack, err := client.Send(context.Background(), []byte("MSH|^~\\&|RIS|HOSP_A|RADBRIDGE|HOSP_A|20250101120000||ORM^O01|MSG00001|P|2.3\r"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", ack[bytes.Index(ack, []byte("MSA|")):])

	client.Close()
	srv.Shutdown(context.Background())
	fmt.Println(<-served)
	// Output:
	// "MSA|AA|MSG00001\r"
	// mllp: server closed
}
