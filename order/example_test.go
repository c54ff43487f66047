package order_test

import (
	"fmt"
	"time"

	"github.com/radbridge/radbridge/order"
)

// Example follows an MRI order from an HL7 v2 ORM^O01 through prior authorization to a
// delivered final report.
func Example() {
	at := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	tick := func() time.Time { at = at.Add(time.Hour); return at }

	o := &order.Order{
		Source:    order.Source{Kind: order.SourceV2, SendingFacility: "HOSP_A"},
		Placer:    "PL1234",
		Procedure: order.Procedure{Code: "70553", System: "CPT", CPT: "70553", Modality: "MR"},
	}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}

	// ORM^O01 with ORC-1=NW, then the checks: complete, but prior auth is required.
	must(o.ApplyControl(order.Control{Code: "NW"}, tick(), "msg-1"))
	o.Authorization.Required = true
	must(o.Settle(tick(), "", "msg-1"))
	fmt.Println(o.Key(), o.Status, o.Authorization.Status)

	// The payer approves; the RIS schedules the exam and sends the report.
	must(o.DecideAuthorization(true, "AUTH-77", tick(), "api-1"))
	must(o.ApplyControl(order.Control{Code: "SC", OrderStatus: "IP", Filler: "F-9"}, tick(), "msg-2"))
	must(o.AddResult(order.Result{ID: "R1", Status: order.ResultPreliminary}, tick(), "msg-3"))
	must(o.AddResult(order.Result{ID: "R1", Status: order.ResultFinal}, tick(), "msg-4"))
	must(o.MarkDelivered(tick(), "", "out-1"))

	// A late cancel is rejected: the exam has been reported.
	err := o.ApplyControl(order.Control{Code: "CA"}, tick(), "msg-5")
	fmt.Println(err)

	for _, h := range o.History {
		fmt.Printf("%s %-21s -> %-21s %-40s %s\n", h.At.Format("15:04"), h.From, h.To, h.Cause, h.MessageID)
	}
	fmt.Println(o.Status, o.Status.ServiceRequestStatus(), o.Status.TaskStatus(), o.Filler)
	// Output:
	// v2|HOSP_A|PL1234 pending-authorization pending
	// order: illegal transition delivered -> cancelled (ORC-1=CA)
	// 10:00                       -> received              ORC-1=NW                                 msg-1
	// 11:00 received              -> pending-authorization checks: 0 findings, authorization pending msg-1
	// 12:00 pending-authorization -> ready                 authorization approved                   api-1
	// 13:00 ready                 -> in-progress           ORC-1=SC ORC-5=IP                        msg-2
	// 14:00 in-progress           -> resulted              result preliminary R1                    msg-3
	// 15:00 resulted              -> resulted              result final R1                          msg-4
	// 16:00 resulted              -> delivered             results delivered                        out-1
	// delivered completed completed F-9
}
