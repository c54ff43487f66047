package payer

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/radbridge/radbridge/order"
	"github.com/radbridge/radbridge/store"
)

// Answer is one answer of the payer as stored: a version of ClaimResponse/<claim>.
type Answer struct {
	// Claim is the identifier of the request answered.
	Claim string `json:"claim"`
	// Reference names the stored version, e.g. "ClaimResponse/ord-7-1/_history/2".
	Reference string    `json:"reference"`
	Received  time.Time `json:"received"`
	// Resource is the ClaimResponse as the payer sent it.
	Resource json.RawMessage `json:"resource"`
}

// Answers returns the payer's answers to every request made for order id, oldest
// request first, each request's answers in the order they came; the order itself too.
func (s *Service) Answers(ctx context.Context, id string) (*order.Order, []Answer, error) {
	var o *order.Order
	var out []Answer
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if o, err = tx.Order(id); err != nil {
			return err
		}
		out = nil
		for n := 1; n <= o.Authorization.Attempt; n++ {
			claim := claimID(o.ID, n)
			for _, c := range []string{claim, claim + cancelSuffix} {
				cur, err := tx.Resource("ClaimResponse", c)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				for v := 1; v <= cur.Version; v++ {
					r, err := tx.ResourceVersion("ClaimResponse", c, v)
					if err != nil {
						return err
					}
					out = append(out, Answer{Claim: c, Reference: "ClaimResponse/" + c + "/_history/" + strconv.Itoa(v),
						Received: r.LastUpdated, Resource: r.JSON})
				}
			}
		}
		return nil
	})
	return o, out, err
}
