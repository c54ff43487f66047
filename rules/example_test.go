package rules_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/rules"
)

func ExampleChecker_Preauth() {
	c, err := rules.New(rules.Config{Payers: []rules.PayerProfile{{
		ID: "ACME-PPO", Name: "Acme PPO",
		Rules: []rules.Override{{Modality: "MRI", PriorAuth: rules.NotRequired}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, q := range []struct {
		cpt   string
		class order.EncounterClass
		payer string
	}{
		{"70553", order.ClassOutpatient, ""},
		{"70553", order.ClassEmergency, ""},
		{"78815", order.ClassOutpatient, ""},
		{"70553", order.ClassOutpatient, "ACME-PPO"},
		{"99999", order.ClassOutpatient, ""},
	} {
		v := c.Preauth(q.cpt, q.class, q.payer)
		fmt.Printf("%s %-10s required=%-5v records=%-5v exempt=%v\n", v.CPT, q.class, v.Required, v.RecordsRequired, v.Exempt)
	}
	// Output:
	// 70553 outpatient required=true  records=false exempt=false
	// 70553 emergency  required=false records=false exempt=true
	// 78815 outpatient required=true  records=true  exempt=false
	// 70553 outpatient required=false records=false exempt=false
	// 99999 outpatient required=false records=false exempt=false
}

// The JSON of a Verdict is the contract shape of `radbridge preauth --json` and
// GET /api/preauth, plus descriptive fields.
func ExampleVerdict() {
	c, err := rules.New(rules.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(c.Preauth("70553", order.ClassEmergency, ""))
	// Output:
	// {
	//   "cpt": "70553",
	//   "known": true,
	//   "required": false,
	//   "records_required": false,
	//   "exempt": true,
	//   "reason": "CPT 70553 (MRI brain (incl. brain stem) without then with contrast) would require prior authorization, but emergency orders are exempt",
	//   "prior_auth": "required",
	//   "modality": "MRI",
	//   "body_site": "head/brain",
	//   "descriptor": "MRI brain (incl. brain stem) without then with contrast",
	//   "category": "advanced"
	// }
}
