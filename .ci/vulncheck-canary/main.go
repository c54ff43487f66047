// Command canary is not part of radbridge: it calls a function of golang.org/x/text
// v0.3.7 that has a known vulnerability (GO-2022-1059, fixed in v0.3.8), so that
// `make vulncheck` can prove its offline vulnerability database finds what it should
// before trusting it to find nothing in radbridge.
package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage("en-US,en;q=0.9")
	fmt.Println(tags, err)
}
