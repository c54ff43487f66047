package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/radbridge/radbridge/order"
)

// TableFile is the code table's path in the source tree, for people: cards, reports
// and logs that name the rules applied cite it with [TableVersion].
const TableFile = "rules/data/imaging-codes.csv"

// TableVersion identifies the embedded code table's content: the first 12 hex digits
// of its SHA-256. Two builds with the same version apply the same table.
func TableVersion() string { return tableVersion() }

var tableVersion = sync.OnceValue(func() string {
	sum := sha256.Sum256(imagingCodes)
	return hex.EncodeToString(sum[:6])
})

// ProfileFor returns the ID of the payer profile whose rules apply to an order with
// coverage cov, as [Checker.Check] finds it, and "" when the table's defaults apply.
func (c *Checker) ProfileFor(cov []order.Coverage) string {
	if py := c.coveragePayer(cov); py != nil {
		return py.id
	}
	return ""
}
